"""The open summary: a public report of each consultation's published analysis run, its plain-
English summary written by rules, downloads, publishing by the mission team, the team's analysis
page, comparing rounds and the mission's trajectory.

Most tests analyse the votes only (``topics=False``) so they stay fast; the tests marked ``model``
run the real embedding model, as ``flask deliberate analyse`` and the background job do."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from datetime import UTC

import pytest
from sqlalchemy import func, select

from deliberate.analysis.vote_analysis import METHOD_VERSION
from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RemovalReason,
    RunStatus,
    Statement,
    StatementOrigin,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.polis_format import read_export
from deliberate.reporting.figures import build_figures
from deliberate.reporting.summary import summarise
from deliberate.services import analysis_runs, reports
from deliberate.services import consultations as consultation_service
from deliberate.services.analysis import run_analysis
from deliberate.services.polis_exchange import import_polis_folder
from deliberate.services.statements import write_statement
from tests.helpers import (
    POLIS_DATA,
    cli,
    csrf_token_from,
    heavy_imports,
    html_of,
    load_demo,
    sign_in,
    submit_form,
    text_of,
)

AGREE, DISAGREE, PASS = 1, -1, 0


def summary_items(html: str) -> list[str]:
    block = re.search(
        r'<ul class="govuk-list govuk-list--bullet app-summary">(.*?)</ul>', html, re.S
    )
    assert block, "the report has no summary"
    return re.findall(r"<li data-rule=[^>]*>(.*?)</li>", block.group(1), re.S)


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


@pytest.fixture
def outsider(create_user, missions):
    return create_user(email="outsider@example.org")


def analyse(consultation_id: int) -> AnalysisRun:
    run = run_analysis(consultation_id, topics=False)
    db.session.commit()
    return run


def publish(client, consultation_id: int, run_id: int):
    """Press Publish on the run's confirmation page, as the team does."""
    return submit_form(
        client, f"/manage/consultations/{consultation_id}/runs/{run_id}/publish", {"confirm": "yes"}
    )


def imported(missions, name: str = "brexit-consensus") -> int:
    result = import_polis_folder(POLIS_DATA / name, missions["growth"])
    db.session.commit()
    return result.consultation_id


def add_votes(
    consultation: Consultation,
    statements: list[Statement],
    people: list[tuple[ParticipantRole, dict[int, int]]],
) -> list[Participant]:
    """Participants with the given role and votes (statement index -> choice), as if cast."""
    made = []
    now_ms = int(utcnow().replace(tzinfo=UTC).timestamp() * 1000)
    for n, (role, answers) in enumerate(people):
        participant = Participant(
            consultation_id=consultation.id,
            role=role,
            anonymous_token_hash=uuid.uuid4().hex,
        )
        db.session.add(participant)
        db.session.flush()
        for index, choice in answers.items():
            row = dict(
                consultation_id=consultation.id,
                participant_id=participant.id,
                statement_id=statements[index].id,
                choice=choice,
                cast_at_ms=now_ms + n,
            )
            db.session.add(Vote(**row))
            db.session.add(VoteEvent(**row))
        made.append(participant)
    db.session.flush()
    return made


def open_consultation(missions, title: str, texts: list[str]) -> tuple[Consultation, list]:
    consultation = Consultation(mission=missions["nhs"], title=title)
    db.session.add(consultation)
    db.session.flush()
    statements = [write_statement(consultation, t, origin=StatementOrigin.SEED) for t in texts]
    consultation.open()
    db.session.commit()
    return consultation, statements


# -- the public report of a real conversation -----------------------------------------------------


def test_public_report_of_a_real_conversation_shows_its_findings_without_sign_in(
    app, client, brexit_analysed, missions, team
):
    run = brexit_analysed
    cid = run.consultation_id
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, cid, run.id).status_code == 302

    response = client.get(f"/consultations/{cid}/report")
    assert response.status_code == 200
    html = html_of(response)
    text = text_of(html)
    assert "Summary of findings: Can there be consensus on Brexit?" in text
    assert "204 people took part" in text and "5,303 votes" in text
    # Opinion groups: a map as SVG, with shapes as well as colours, a text summary and a table.
    assert re.search(r'<svg class="app-chart app-chart--map"[^>]*role="img"', html)
    assert "Group A: 101 people, drawn as circles" in text
    assert "Group B: 88 people, drawn as squares" in text
    assert "The opinion map as a table" in text
    assert html.count('<path d="M') >= 2  # one path of markers per group
    votes = run.results["votes"]
    assert votes["k"] == 2
    # Common ground and divisions quote statements, linked to their counts on the page.
    top = votes["consensus_agree"][0]["statement_id"]
    top_text = db.session.get(Statement, top).text
    assert f'href="#s-{top}"' in html and f'id="s-{top}"' in html
    assert top_text.replace("'", "&#39;") in html
    divisive = votes["divisive"][0]["statement_id"]
    assert f'id="s-{divisive}"' in html
    assert "Where people differ" in text and "What people agree on" in text
    # Agreement across viewpoints: the stored bridging ranking, best first, with its interval.
    ranked = sorted(
        (s for s in run.results["bridging"]["statements"] if s["ranked"]), key=lambda s: s["rank"]
    )
    best = ranked[0]
    cell = re.search(rf'data-bridging="{best["statement_id"]}">([^<]*)<', html).group(1)
    assert cell == (
        f"{best['score']:+.2f} ({best['interval_low']:+.2f} to {best['interval_high']:+.2f})"
    )
    assert best["interval_low"] <= best["score"] <= best["interval_high"]
    assert html.index(f'data-bridging="{best["statement_id"]}"') < html.index(
        f'data-bridging="{ranked[1]["statement_id"]}"'
    )
    assert "Agreement across viewpoints" in text and "at least 10 answers are ranked" in text
    assert "Topics are not available for this run" in text
    assert "cannot be compared in this analysis: 0 verified staff and 204 citizens voted" in text
    # How it was made, with the source's attribution.
    assert "The Computational Democracy Project" in text
    assert "https://compdemocracy.org/case-studies/2017-brexit-consensus" in html
    assert run.code_version in text and METHOD_VERSION in text
    assert f"/consultations/{cid}/report/runs/{run.id}/polis-export.zip" in html
    assert f"/consultations/{cid}/report/runs/{run.id}/results.json" in html


def test_every_summary_sentence_states_figures_and_links_to_what_is_behind_them(
    app, client, brexit_analysed, missions
):
    run = brexit_analysed
    cid = run.consultation_id
    reports.publish_run(reports_team(missions), db.session.get(Consultation, cid), run)
    db.session.commit()
    html = html_of(client.get(f"/consultations/{cid}/report"))
    items = summary_items(html)
    assert 3 <= len(items) <= 5
    for item in items:
        assert re.search(r"\d", text_of(item)), item
        links = re.findall(r'href="([^"]+)"', item)
        assert links, item
        for href in links:
            assert href.startswith("#finding-") and f'id="{href[1:]}"' in html, href
    rules = re.findall(r'<li data-rule="([^"]+)"', html)
    # The most important first: what people agree on, where they split, then who took part.
    assert rules == ["agreement", "division", "rejection", "participation"]
    agreement = text_of(items[0])
    assert agreement.startswith("Almost everyone who answered agreed with “")
    assert "156 of 167 people (93%)" in agreement and "q " not in agreement
    # Every finding sits in its section, with its per-group counts and its test one click away.
    block = re.search(r'id="finding-agreement".*?</details>', html, re.S).group(0)
    sure = text_of(block)
    assert re.search(r"Group A \d+ of \d+ \(\d+%\) and Group B \d+ of \d+ \(\d+%\)", sure)
    assert "How sure are we?" in sure and "false-discovery rate of 10% (q < 0.001)" in sure
    assert {"groups", "rejection", "division", "group-view", "roles"} <= set(
        re.findall(r'data-finding="([^"]+)"', html)
    )


def reports_team(missions):
    """A team member made directly (for tests that publish through the service)."""
    from deliberate.models import MissionTeamMember
    from deliberate.services.accounts import register_user

    user = register_user("lead@example.org", "Lead", "correct horse battery")
    for mission in missions.values():
        db.session.add(MissionTeamMember(user=user, mission=mission))
    db.session.flush()
    return user


def test_downloads_give_the_run_as_stored_and_the_polis_files_with_our_groups(
    app, client, brexit_analysed, missions, tmp_path
):
    run = brexit_analysed
    cid = run.consultation_id
    reports.publish_run(reports_team(missions), db.session.get(Consultation, cid), run)
    db.session.commit()

    response = client.get(f"/consultations/{cid}/report/runs/{run.id}/results.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    record = json.loads(response.data)
    db.session.refresh(run)
    assert record["results"] == run.results
    assert record["run"]["parameters"] == run.parameters
    assert record["run"]["code_version"] == run.code_version
    assert (record["run"]["n_participants"], record["run"]["n_votes"]) == (204, run.n_votes)

    response = client.get(f"/consultations/{cid}/report/runs/{run.id}/polis-export.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == [
        "README.txt",
        "comments.csv",
        "votes.csv",
        "participants-votes.csv",
        "summary.csv",
        "moderation.csv",
        "run.json",
        "run-v1.schema.json",
    ]  # no topics.csv: this run has no topics
    archive.extractall(tmp_path / "export")
    export = read_export(tmp_path / "export")
    source = dict(db.session.execute(select(Participant.id, Participant.source_id)).all())
    ours = {source[p]: g for p, g in analysis_runs.opinion_group_of(run).items()}
    assert {
        p.participant_id: p.group_id for p in export.participants if p.group_id is not None
    } == (ours)
    original = read_export(POLIS_DATA / "brexit-consensus")
    assert set(export.votes) == set(original.votes)  # every final vote, id for id


def test_the_download_is_the_data_the_run_saw_even_after_more_votes(app, client, missions, team):
    consultation, statements = open_consultation(
        missions, "Waiting times", [f"Statement number {i} about waiting." for i in range(6)]
    )
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {i: AGREE if (i + n) % 3 else DISAGREE for i in range(6)})
            for n in range(20)
        ],
    )
    db.session.commit()
    run = analyse(consultation.id)
    add_votes(consultation, statements, [(ParticipantRole.STAFF, {0: DISAGREE, 1: DISAGREE})])
    write_statement(
        consultation, "A statement written after the analysis.", origin=StatementOrigin.SEED
    )
    db.session.commit()
    sign_in(client, team.email)
    archive = zipfile.ZipFile(
        io.BytesIO(
            client.get(
                f"/consultations/{consultation.id}/report/runs/{run.id}/polis-export.zip"
            ).data
        )
    )
    comments = archive.read("comments.csv").decode()
    assert "written after the analysis" not in comments
    votes = archive.read("votes.csv").decode().strip().splitlines()
    assert len(votes) - 1 == run.n_votes == 120


def test_comments_the_moderators_removed_are_never_shown_even_after_publication(
    app, client, missions, team
):
    cid = imported(missions, "london.youth.policing")
    rejected = db.session.scalars(
        select(Statement).where(
            Statement.consultation_id == cid, Statement.moderation == ModerationStatus.REJECTED
        )
    ).all()
    assert len(rejected) == 3
    run = analyse(cid)
    consultation = db.session.get(Consultation, cid)
    reports.publish_run(team, consultation, run)
    db.session.commit()
    base = f"/consultations/{cid}/report/runs/{run.id}"

    def everything_public() -> str:
        archive = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/polis-export.zip").data))
        return "".join(
            [
                html_of(client.get(f"/consultations/{cid}/report")),
                html_of(client.get(f"{base}/statements")),
                archive.read("comments.csv").decode(),
            ]
        )

    shown = everything_public()
    for statement in rejected:
        assert statement.text not in shown
    assert "[Removed by the moderators]" in shown

    # Taken down after the summary was published: gone from every public page at once.
    statement = db.session.scalars(
        select(Statement)
        .where(
            Statement.consultation_id == cid,
            Statement.moderation == ModerationStatus.ACCEPTED,
            Statement.origin == StatementOrigin.PARTICIPANT,
        )
        .order_by(Statement.id)
    ).first()
    assert statement.text.replace("'", "&#39;") in shown
    consultation_service.moderate(
        team, statement, accept=False, removal_reason=RemovalReason.ABUSIVE
    )
    db.session.commit()
    shown = everything_public()
    assert statement.text not in shown and statement.text.replace("'", "&#39;") not in shown


# -- publishing -----------------------------------------------------------------------------------


def test_no_published_summary_is_a_not_found_page_saying_so(app, client, brexit_analysed):
    cid = brexit_analysed.consultation_id
    response = client.get(f"/consultations/{cid}/report")
    assert response.status_code == 404
    assert "No published summary yet" in html_of(response)
    assert client.get("/consultations/999/report").status_code == 404


def test_the_consultation_page_links_to_its_summary_once_one_is_published(
    app, client, brexit_analysed, missions, team
):
    run = brexit_analysed
    cid = run.consultation_id
    assert f'href="/consultations/{cid}/report"' not in html_of(client.get(f"/consultations/{cid}"))
    sign_in(client, team.email)
    assert publish(client, cid, run.id).status_code == 302
    page = html_of(client.get(f"/consultations/{cid}"))
    # An imported conversation is closed: its banner says so and links the summary.
    assert re.search(
        rf'id="summary-link" href="/consultations/{cid}/report">Read the summary', page
    )


def test_a_newer_unpublished_run_never_changes_what_the_public_sees(
    app, client, missions, team, create_user
):
    consultation, statements = open_consultation(
        missions, "Care closer to home", [f"Care statement {i}." for i in range(8)]
    )
    people = [
        (ParticipantRole.CITIZEN, {i: AGREE if i < 4 else DISAGREE for i in range(8)})
        for _ in range(15)
    ] + [
        (ParticipantRole.CITIZEN, {i: DISAGREE if i < 4 else AGREE for i in range(8)})
        for _ in range(15)
    ]
    add_votes(consultation, statements, people)
    db.session.commit()
    first = analyse(consultation.id)
    cid = consultation.id
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, cid, first.id).status_code == 302

    public = html_of(client.get(f"/consultations/{cid}/report"))
    assert f'/report/runs/{first.id}"' in public and "30 people took part" in public

    add_votes(consultation, statements, [(ParticipantRole.STAFF, {0: AGREE, 5: AGREE})] * 5)
    db.session.commit()
    second = analyse(consultation.id)
    assert second.id > first.id and second.n_participants == 35
    again = html_of(client.get(f"/consultations/{cid}/report"))
    assert "30 people took part" in again and "35 people took part" not in again
    # The newer run is the team's to read; to anyone else it does not exist.
    assert client.get(f"/consultations/{cid}/report/runs/{second.id}").status_code == 404
    assert (
        client.get(f"/consultations/{cid}/report/runs/{second.id}/results.json").status_code == 404
    )
    team_view = html_of(team_client.get(f"/consultations/{cid}/report/runs/{second.id}"))
    assert "Not published" in team_view and "35 people took part" in team_view

    assert publish(team_client, cid, second.id).status_code == 302
    moved = html_of(client.get(f"/consultations/{cid}/report"))
    assert "35 people took part" in moved
    assert f"/consultations/{cid}/report/runs/{first.id}" in moved  # other published versions
    earlier = client.get(f"/consultations/{cid}/report/runs/{first.id}")
    assert earlier.status_code == 200
    assert "This is an earlier summary" in html_of(earlier) and "30 people took part" in html_of(
        earlier
    )
    db.session.expire_all()
    assert reports.published_run(cid).id == second.id


def test_only_the_mission_team_can_publish(app, client, brexit_analysed, missions, team, outsider):
    run = brexit_analysed
    cid = run.consultation_id
    url = f"/manage/consultations/{cid}/runs/{run.id}/publish"

    anonymous = client.post(url)
    assert anonymous.status_code in (302, 400)  # no CSRF token, no session: nothing happens
    sign_in(client, outsider.email)
    token = csrf_token_from(html_of(client.get("/account")))
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    assert client.get(f"/manage/consultations/{cid}/analysis").status_code == 403
    with pytest.raises(consultation_service.NotPermitted):
        reports.publish_run(outsider, db.session.get(Consultation, cid), run)
    db.session.rollback()

    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert team_client.post(url).status_code == 400  # a publish needs its CSRF token
    db.session.expire_all()
    assert db.session.get(AnalysisRun, run.id).published_at is None
    assert publish(team_client, cid, run.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(AnalysisRun, run.id).published_at is not None


def test_signed_out_visitor_is_sent_to_sign_in_to_publish(app, client, brexit_analysed):
    run = brexit_analysed
    cid = run.consultation_id
    response = client.get(f"/manage/consultations/{cid}/analysis")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert run.published_at is None


# -- the plain-English summary: only what the statistics support ----------------------------------


def stored_results(alpha: float = 0.1, consensus_q: float = 0.02, roles_q: float = 0.5) -> dict:
    """A hand-made stored run: two groups of 50, three statements.

    Statement 1: 60% agree in each group (a majority) with the stored consensus test at
    ``consensus_q``. Statement 2: 90% agree in each group, significant. Statement 3: staff 70%
    agree, citizens 40%, with the stored staff/citizen test at ``roles_q``."""
    return {
        "votes": {
            "status": "ok",
            "message": "2 opinion groups among 100 participants.",
            "parameters": {"alpha": alpha},
            "method_version": "deliberate-groups/1",
            "n_participants": 100,
            "n_statements": 3,
            "n_active_statements": 3,
            "n_votes": 300,
            "n_clustered": 100,
            "k": 2,
            "groups": [
                {"id": 0, "size": 50, "n_assigned": 0, "center": [-1, 0], "representative": []},
                {"id": 1, "size": 50, "n_assigned": 0, "center": [1, 0], "representative": []},
            ],
            "consensus_agree": [
                {
                    "statement_id": 2,
                    "direction": "agree",
                    "group_counts": [[45, 50], [45, 50]],
                    "q_value": 0.0001,
                },
                {
                    "statement_id": 1,
                    "direction": "agree",
                    "group_counts": [[30, 50], [30, 50]],
                    "q_value": consensus_q,
                },
            ],
            "consensus_disagree": [],
            "divisive": [],
            "roles": {
                "n_staff": 20,
                "n_citizens": 80,
                "n_tests": 3,
                "message": "",
                "differ_most": [
                    {
                        "statement_id": 3,
                        "staff_agree": 14,
                        "staff_disagree": 6,
                        "staff_seen": 20,
                        "citizen_agree": 32,
                        "citizen_disagree": 48,
                        "citizen_seen": 80,
                        "q_value": roles_q,
                        "both_agree_q": 1.0,
                        "test": "z",
                    },
                ],
                "both_agree": [],
            },
            "statements": {
                "statement_ids": [1, 2, 3],
                "moderated_out": [False, False, False],
                "n_agree": [60, 90, 46],
                "n_disagree": [40, 10, 54],
                "n_pass": [0, 0, 0],
                "n_seen": [100, 100, 100],
                "group_agree": [[30, 45, 23], [30, 45, 23]],
                "group_disagree": [[20, 5, 27], [20, 5, 27]],
                "group_seen": [[50, 50, 50], [50, 50, 50]],
            },
            "opinion_map": None,
            "n_tests": {"consensus": 6, "roles": 3},
        }
    }


TEXTS = {
    1: "Clinics should open on Saturdays.",
    2: "Waiting times should be published.",
    3: "Nurses should prescribe more medicines.",
}


def test_a_majority_without_a_significant_test_is_never_called_agreement():
    sentences = summarise(build_figures(read_findings(stored_results(consensus_q=0.4)), TEXTS))
    text = " ".join(s.text + " " + " ".join(s.sure) for s in sentences)
    assert "Waiting times should be published" in text  # 90%, significant: said, with figures
    assert "Group A 45 of 50 (90%)" in text
    assert "Almost everyone who answered agreed with “Waiting times" in text
    assert "Clinics should open on Saturdays" not in text  # 60% agree, but q = 0.4: not claimed
    assert "more statement" not in text  # nor counted among the agreed ones
    said_not_to = ("do their answers clearly differ", "none differs at a false-discovery rate")
    assert "differ" not in text.replace(said_not_to[0], "").replace(said_not_to[1], "")
    # The same 60% with a significant stored test is claimed, and counted.
    significant = " ".join(
        s.text + " " + " ".join(s.sure)
        for s in summarise(build_figures(read_findings(stored_results()), TEXTS))
    )
    assert "1 more statement passed the same test" in significant


def test_staff_and_citizens_are_said_to_differ_only_with_a_significant_test():
    not_tested = summarise(build_figures(read_findings(stored_results(roles_q=0.5)), TEXTS))
    roles = [s for s in not_tested if s.rule == "roles-differ"]
    assert len(roles) == 1 and roles[0].text.startswith(
        "Staff and citizens answered alike: on none of the 3 statements"
    )
    tested = summarise(build_figures(read_findings(stored_results(roles_q=0.01)), TEXTS))
    roles = next(s for s in tested if s.rule == "roles-differ")
    assert "differ most on “Nurses should prescribe more medicines.”" in roles.text
    assert "14 of 20 (70%) staff agreed, against 32 of 80 (40%) citizens" in roles.text
    assert "#s-3" in roles.links


def test_a_real_majority_that_is_not_significant_is_not_called_most_people(
    app, client, missions, team
):
    consultation, statements = open_consultation(
        missions,
        "Weekend clinics",
        ["Clinics should open on Saturdays.", "Waiting times should be published."]
        + [f"Other statement {i}." for i in range(6)],
    )
    # 11 of 20 agree with the first statement (55%: a majority, far from significant); everyone
    # agrees with the second.
    people = []
    for n in range(20):
        answers = {0: AGREE if n < 11 else DISAGREE, 1: AGREE}
        answers.update({i: AGREE if (n + i) % 2 else DISAGREE for i in range(2, 8)})
        people.append((ParticipantRole.CITIZEN, answers))
    add_votes(consultation, statements, people)
    db.session.commit()
    run = analyse(consultation.id)
    team_client = app.test_client()
    sign_in(team_client, team.email)
    publish(team_client, consultation.id, run.id)

    html = html_of(client.get(f"/consultations/{consultation.id}/report"))
    summary = " ".join(text_of(item) for item in summary_items(html))
    assert "Waiting times should be published" in summary
    assert "Clinics should open on Saturdays" not in summary
    table_row = re.search(rf'id="s-{statements[0].id}".*?</tr>', html, re.S)
    assert table_row is None or "11 of 20 (55%, 95% interval 34 to 75%)" in text_of(
        table_row.group(0)
    )
    all_rows = html_of(
        client.get(f"/consultations/{consultation.id}/report/runs/{run.id}/statements")
    )
    row = re.search(rf'id="s-{statements[0].id}".*?</tr>', all_rows, re.S).group(0)
    assert "11 of 20 (55%, 95% interval 34 to 75%)" in text_of(row)


# -- the team's analysis page, rounds and the mission page ----------------------------------------


def two_rounds(missions, team) -> tuple[Consultation, Consultation]:
    texts = [
        "GPs should offer evening appointments.",
        "Pharmacists should treat minor illnesses.",
        "Hospital parking should be free for patients.",
        "Community nurses need more time per visit.",
        "Online booking should be the default.",
        "Every patient should see their own records online.",
    ]
    first, statements = open_consultation(missions, "Getting care when you need it", texts)
    people = [
        (
            ParticipantRole.STAFF if n % 4 == 0 else ParticipantRole.CITIZEN,
            {i: (AGREE if (i < 3) == (n % 2 == 0) else DISAGREE) for i in range(6)},
        )
        for n in range(24)
    ]
    add_votes(first, statements, people)
    consultation_service.close_consultation(team, first)
    second = consultation_service.start_next_round(team, first)
    consultation_service.open_consultation(team, second)
    db.session.commit()
    carried = db.session.scalars(
        select(Statement).where(Statement.consultation_id == second.id).order_by(Statement.id)
    ).all()
    assert [s.text for s in carried] == texts
    people = [
        (
            ParticipantRole.STAFF if n % 4 == 0 else ParticipantRole.CITIZEN,
            {i: (AGREE if i == 0 or ((i < 3) == (n % 2 == 0)) else DISAGREE) for i in range(6)},
        )
        for n in range(30)
    ]
    add_votes(second, list(carried), people)
    db.session.commit()
    return first, second


def test_comparing_two_rounds_shows_agreement_then_and_now(app, client, missions, team):
    first, second = two_rounds(missions, team)
    runs = [analyse(first.id), analyse(second.id)]
    sign_in(client, team.email)

    page = html_of(client.get(f"/manage/consultations/{second.id}/compare"))
    text = text_of(page)
    assert "Round 1 and round 2" in text
    assert "6 statements were asked in both rounds" in text
    row = re.search(r"GPs should offer evening appointments\..*?</tr>", page, re.S).group(0)
    # 24 people is few: the share carries its interval; the change its interval and test.
    assert "12 of 24 (50%, 95% interval 31 to 69%)" in text_of(row)
    assert "30 of 30 (100%)" in text_of(row)
    assert "Up 50 points 95% interval +28 to +69 points; q below 0.001" in text_of(row)
    assert f"/consultations/{first.id}/report/runs/{runs[0].id}#s-" in page

    # Once both rounds are published, the public sees the change too.
    for consultation, run in zip((first, second), runs, strict=True):
        publish(client, consultation.id, run.id)
    public = text_of(html_of(app.test_client().get(f"/consultations/{second.id}/report")))
    assert "Since round 1" in public and "24 people took part in round 1 and 30 in this round" in (
        public
    )
    assert "Up 50 points" in public

    mission = html_of(app.test_client().get("/missions/nhs"))
    mission_text = text_of(mission)
    assert "What people said, round by round" in mission_text
    assert "From round 1 to round 2: people taking part went from 24 to 30" in mission_text
    assert re.search(r'<svg class="app-chart app-chart--small"[^>]*role="img"', mission)
    assert "People taking part in each round: Round 1: 24; Round 2: 30." in mission_text


def test_team_analysis_page_shows_taking_part_moderation_staleness_and_runs(
    app, client, missions, team
):
    consultation, statements = open_consultation(
        missions, "Discharge from hospital", [f"Discharge statement {i}." for i in range(5)]
    )
    add_votes(
        consultation,
        statements,
        [(ParticipantRole.STAFF, {0: AGREE, 1: DISAGREE})] * 3
        + [(ParticipantRole.CITIZEN, {0: AGREE, 2: PASS})] * 4,
    )
    pending = Statement(
        consultation=consultation,
        text="A comment waiting for a moderator.",
        normalised_text="a comment waiting for a moderator",
        origin=StatementOrigin.PARTICIPANT,
        moderation=ModerationStatus.PENDING,
    )
    db.session.add(pending)
    db.session.commit()
    sign_in(client, team.email)
    url = f"/manage/consultations/{consultation.id}/analysis"

    text = text_of(html_of(client.get(url)))
    assert "7: 3 verified staff and 4 citizens" in text
    assert "Votes 14 (14 cast in the last 24 hours)" in text
    assert "Comments awaiting moderation 1 ( moderate them )" in text
    assert "Out of date" in text and "Run the analysis now" in text
    assert "Nothing is published yet" in text

    run = analyse(consultation.id)
    text = text_of(html_of(client.get(url)))
    assert "Up to date" in text and "Run the analysis now" not in text
    assert f"Run {run.id}" in text and "Not published" in text
    assert client.get(url).headers.get("Refresh") is None
    publish(client, consultation.id, run.id)
    text = text_of(html_of(client.get(url)))
    assert f"The public sees run {run.id}" in text and "Public" in text

    manage_page = html_of(client.get(f"/manage/consultations/{consultation.id}"))
    assert url in manage_page


# -- with the real model: the CLI end to end, and "run now" with its progress ---------------------


@pytest.mark.model
@pytest.mark.slow
def test_imported_then_analysed_by_the_command_the_report_has_topics_and_topics_csv(
    app, client, missions, team, tmp_path
):
    cid = imported(missions, "london.youth.policing")
    cli(app, "analyse", cid)
    run = analysis_runs.latest_run(cid)
    assert run.results["topics"]["status"] == "ok"
    sign_in(client, team.email)
    publish(client, cid, run.id)

    public = app.test_client()
    html = html_of(public.get(f"/consultations/{cid}/report"))
    text = text_of(html)
    topics = run.results["topics"]
    named = [t for t in topics["topics"] if t["id"] != -1]
    assert len(named) >= 2
    for topic in named:
        assert topic["label"] in text
    assert f"into {len(named)} topics" in text
    assert "Topics are not available" not in text
    assert "Votes on each topic's statements" in text
    first = named[0]
    listing = html_of(
        public.get(f"/consultations/{cid}/report/runs/{run.id}/statements?topic={first['id']}")
    )
    assert f"{first['size']} statements" in text_of(listing)

    archive = zipfile.ZipFile(
        io.BytesIO(public.get(f"/consultations/{cid}/report/runs/{run.id}/polis-export.zip").data)
    )
    assert "topics.csv" in archive.namelist()
    rows = archive.read("topics.csv").decode().splitlines()
    assert rows[0] == "comment-id,topic-id,topic-label"
    assert len(rows) - 1 == len(topics["statement_ids"])


@pytest.mark.model
def test_run_now_queues_an_analysis_and_the_page_follows_it_until_it_lands(
    app, client, missions, team
):
    consultation, statements = open_consultation(
        missions, "Pharmacy first", [f"Pharmacy statement {i}." for i in range(4)]
    )
    add_votes(consultation, statements, [(ParticipantRole.CITIZEN, {0: AGREE, 1: AGREE})] * 6)
    db.session.commit()
    sign_in(client, team.email)
    url = f"/manage/consultations/{consultation.id}/analysis"
    response = submit_form(client, url, {}, action=f"{url}/run")
    assert response.status_code == 302
    page = client.get(url)
    text = text_of(html_of(page))
    if "The analysis is running" in text:  # the job may already have finished
        assert page.headers["Refresh"] == "5"
        assert "Stop checking automatically" in text
        assert client.get(url + "?refresh=off").headers.get("Refresh") is None
    runner = app.extensions["deliberate_jobs"]
    assert runner.wait_until_idle(timeout=300) and runner.failures == []
    done = client.get(url)
    assert "The analysis has finished" in text_of(html_of(done)) or "Up to date" in text_of(
        html_of(done)
    )
    assert done.headers.get("Refresh") is None
    assert db.session.scalar(select(AnalysisRun.status)) is RunStatus.DONE


# -- the request path stays light -----------------------------------------------------------------


def test_report_modules_do_not_import_numpy_or_the_machine_learning_stack():
    assert heavy_imports("deliberate.reports.views", "deliberate.services.reports") == []


def test_a_report_is_computed_once_per_run_and_then_served_from_memory(
    app, client, brexit_analysed, missions
):
    run = brexit_analysed
    cid = run.consultation_id
    reports.publish_run(reports_team(missions), db.session.get(Consultation, cid), run)
    db.session.commit()
    assert client.get(f"/consultations/{cid}/report").status_code == 200
    cache = app.extensions["deliberate_reports"]["reports"]
    assert len(cache._items) == 1
    assert client.get(f"/consultations/{cid}/report").status_code == 200
    assert len(cache._items) == 1


@pytest.mark.demo
@pytest.mark.model
@pytest.mark.slow
def test_demo_publishes_the_real_conversations_and_a_question_in_two_rounds(app, client):
    load_demo(app)
    cli(app, "load-demo")  # a second load changes nothing
    rounds = db.session.scalars(
        select(Consultation)
        .where(Consultation.source_key.like("demo-rounds:%"))
        .order_by(Consultation.round_number)
    ).all()
    assert [c.round_number for c in rounds] == [1, 2]
    assert rounds[1].previous_round_id == rounds[0].id
    assert [c.state.value for c in rounds] == ["closed", "open"]
    imported = db.session.scalars(
        select(Consultation).where(Consultation.source_key.like("polis:%"))
    ).all()
    for consultation in [*rounds, *imported]:
        assert reports.published_run(consultation.id) is not None, consultation.title
    no_groups = select(Consultation.id).where(Consultation.source_key.like("demo-no-groups:%"))
    bilingual = select(Consultation.id).where(Consultation.source_key.like("demo-bilingual:%"))
    assert reports.published_run(db.session.scalar(bilingual)) is not None
    assert (
        db.session.scalar(
            select(func.count(AnalysisRun.id)).where(AnalysisRun.published_at.is_not(None))
        )
        == len(rounds) + len(imported) + len(db.session.scalars(no_groups).all()) + 1
    )

    second = text_of(html_of(client.get(f"/consultations/{rounds[1].id}/report")))
    assert "Since round 1" in second and "verified staff" in second
    mission = text_of(html_of(client.get("/missions/nhs")))
    assert "From round 1 to round 2: people taking part went from 48 to 64" in mission
