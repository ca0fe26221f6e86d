"""Topics in the app: statements embedded once per model in background jobs, `analyse` storing
topics joined with the votes in one run, new statements placed in the nearest topic without a
refit, a refit once enough has changed, and topics.csv in the Polis export.

The end-to-end tests load the real model (marked ``model``); the rest use small fixed vectors
stored directly, so they stay fast."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from sqlalchemy import func, select

from deliberate.analysis import VoteMatrix
from deliberate.analysis.topics import Topic, TopicModel
from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RunStatus,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    Vote,
    utcnow,
)
from deliberate.services import analysis_runs, embeddings, topics
from deliberate.services.analysis import run_analysis
from deliberate.services.polis_exchange import import_polis_folder
from deliberate.services.statements import write_statement
from tests.helpers import POLIS_DATA, cli, count, run_background_jobs, sign_in, submit_form

DEFAULT_FINGERPRINT = (
    "sentence-transformers/all-MiniLM-L6-v2@1110a243 "
    "sha256:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
)
MORE_POLICING = [
    "Young people should sit on the panels that review complaints against the police.",
    "Officers should explain stop and search decisions to the young people they stop.",
    "Police should publish how often they use force on teenagers.",
    "Youth workers should be present when police question young people.",
    "Every borough needs a youth scrutiny group that meets the police each month.",
    "Young people should help design police training about racism.",
    "The police should report back on what changed after young people gave feedback.",
    "Schools should teach pupils their rights when stopped by the police.",
]


def latest(consultation_id: int) -> AnalysisRun:
    db.session.expire_all()
    return analysis_runs.latest_run(consultation_id)


def read_topics_csv(folder) -> list[dict[str, str]]:
    with open(folder / "topics.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- end to end, with the real model --------------------------------------------------------------


@pytest.mark.model
def test_analyse_embeds_then_stores_topics_joined_with_votes_and_export_writes_them(
    app, missions, tmp_path
):
    # Imported through the service: the command would also queue an embedding job, whose short
    # delay could end while `analyse` runs (test_writing_statements_queues_their_embedding).
    imported = import_polis_folder(POLIS_DATA / "london.youth.policing", missions["safer-streets"])
    db.session.commit()
    cid = imported.consultation_id

    output = cli(app, "analyse", cid)
    assert "Embedding 39 statements" in output
    assert re.search(r"Topics: \d+ topics from 36 statements", output)

    run = latest(cid)
    assert run.model_fingerprint == DEFAULT_FINGERPRINT
    assert (
        count(StatementEmbedding, StatementEmbedding.model_fingerprint == DEFAULT_FINGERPRINT) == 39
    )
    found = run.results["topics"]
    assert found["status"] == "ok" and found["language"] == "en"
    assert found["model_fingerprint"] == DEFAULT_FINGERPRINT
    rejected = set(
        db.session.scalars(
            select(Statement.id).where(Statement.moderation == ModerationStatus.REJECTED)
        )
    )
    assert len(rejected) == 3 and not rejected & set(found["statement_ids"])
    assert len(found["statement_ids"]) == len(found["assignments"]) == 36

    # Labels are words people wrote.
    written = " ".join(db.session.scalars(select(Statement.text))).casefold()
    named = [t for t in found["topics"] if t["id"] != -1]
    assert len(named) >= 2
    for topic in named:
        assert all(word.casefold() in written for word in topic["label"].split(", "))
    assert any("police" in t["label"] or "policing" in t["label"] for t in named)

    # Topic x everyone / role / opinion group: the counts are those of the stored votes.
    groups = set(read_findings(run.results).votes.opinion_group_of().values())
    for joined in found["by_topic"]:
        votes = (
            db.session.execute(
                select(Vote.choice).where(Vote.statement_id.in_(joined["statement_ids"]))
            )
            .scalars()
            .all()
        )
        everyone = joined["everyone"]
        assert everyone["votes"] == len(votes)
        assert everyone["agree"] == votes.count(1) and everyone["disagree"] == votes.count(-1)
        assert everyone["agreement_rate"] == pytest.approx(votes.count(1) / len(votes))
        assert joined["roles"]["citizen"]["votes"] == len(votes)  # Polis imports are citizens
        assert joined["roles"]["staff"]["votes"] == 0
        assert joined["staff_minus_citizen_agreement"] is None
        assert {int(g) for g in joined["groups"]} == groups
        assert sum(g["votes"] for g in joined["groups"].values()) <= len(votes)

    # Export: topics.csv with the comment ids of comments.csv.
    cli(app, "export-polis", cid, tmp_path / "out")
    rows = read_topics_csv(tmp_path / "out")
    source = dict(db.session.execute(select(Statement.id, Statement.source_id)).all())
    labels = {t["id"]: t["label"] for t in found["topics"]}
    expected = sorted(
        (source[sid], tid)
        for sid, tid in zip(found["statement_ids"], found["assignments"], strict=True)
    )
    assert sorted((int(r["comment-id"]), int(r["topic-id"])) for r in rows) == expected
    assert all(r["topic-label"] == labels[int(r["topic-id"])] for r in rows)

    # Analysing again embeds nothing: vectors are stored once per statement and model.
    vector_ids = set(db.session.scalars(select(StatementEmbedding.id)))
    assert "Embedding" not in cli(app, "analyse", cid)
    assert set(db.session.scalars(select(StatementEmbedding.id))) == vector_ids
    first_fit = latest(cid)

    # A new statement is embedded in the background and takes the nearest topic at once.
    consultation = db.session.get(Consultation, cid)
    new = write_statement(consultation, MORE_POLICING[0], origin=StatementOrigin.SEED)
    db.session.commit()
    embeddings.request_embedding(cid)
    run_background_jobs(app)
    topic_id, label = topics.statement_topics(cid)[new.id]
    assert topic_id in labels and label == labels[topic_id]

    # The background re-analysis keeps the fit while little has changed...
    analysis_runs.request_analysis(cid)
    run_background_jobs(app)
    reused = latest(cid).results["topics"]
    assert reused["fit"] == {
        "fitted_in_run": first_fit.id,
        "n_statements": 36,
        "new_since_fit": 1,
    }
    assert reused["statement_ids"][-1] == new.id and reused["assignments"][-1] == topic_id
    assert [t["label"] for t in reused["topics"]] == [t["label"] for t in found["topics"]]

    # ...and refits once statements grew by more than a fifth.
    for text in MORE_POLICING[1:]:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    analysis_runs.request_analysis(cid)
    run_background_jobs(app)
    refitted = latest(cid).results["topics"]
    assert refitted["fit"] == {"fitted_in_run": None, "n_statements": 44, "new_since_fit": 0}
    assert count(StatementEmbedding) == 47


@pytest.mark.model
def test_a_model_change_re_embeds_in_the_background_and_old_vectors_are_not_used(app, missions):
    consultation = Consultation(mission=missions["safer-streets"], title="Policing")
    db.session.add(consultation)
    db.session.flush()
    seeds = [write_statement(consultation, t, origin=StatementOrigin.SEED) for t in MORE_POLICING]
    db.session.commit()
    old = "an-earlier-model sha256:0"  # what the setting named before it changed
    embeddings.store_vectors(old, [s.id for s in seeds], np.eye(8, dtype=np.float32))
    db.session.commit()

    analysis_runs.request_analysis(consultation.id)
    run_background_jobs(app)
    run = latest(consultation.id)
    assert run.model_fingerprint == DEFAULT_FINGERPRINT
    assert run.results["topics"]["status"] == "too_few"  # eight statements: no topics, and why
    assert "too few" in run.results["topics"]["message"]
    by_model = dict(
        db.session.execute(
            select(StatementEmbedding.model_fingerprint, func.count()).group_by(
                StatementEmbedding.model_fingerprint
            )
        ).all()
    )
    assert by_model == {old: 8, DEFAULT_FINGERPRINT: 8}  # old vectors kept, never used

    embeddings.request_embedding(consultation.id)  # nothing new: the job embeds nothing
    run_background_jobs(app)
    assert count(StatementEmbedding) == 16

    # An analysis run with no job before it (as the demo does) embeds what is missing, topics or
    # not, so a later similarity check finds every statement ready.
    removed = write_statement(consultation, "Buy my product now!", origin=StatementOrigin.SEED)
    removed.moderation = ModerationStatus.REJECTED
    db.session.commit()
    run_analysis(consultation.id)
    db.session.commit()
    assert count(StatementEmbedding, StatementEmbedding.statement_id == removed.id) == 1


# -- fast, with fixed vectors --------------------------------------------------------------------

FIXED = "fixed-test-vectors"


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def centre(*values: float) -> tuple[float, ...]:
    return tuple(float(x) for x in unit(*values))


@pytest.fixture
def consultation(missions) -> Consultation:
    consultation = Consultation(mission=missions["nhs"], title="Waiting lists")
    consultation.open()
    db.session.add(consultation)
    db.session.commit()
    return consultation


def seed(consultation: Consultation, text: str, vector: np.ndarray | None = None) -> Statement:
    statement = write_statement(consultation, text, origin=StatementOrigin.SEED)
    if vector is not None:
        embeddings.store_vectors(FIXED, [statement.id], vector[None, :])
    db.session.commit()
    return statement


def two_topic_model(n_workforce: int, n_buildings: int) -> TopicModel:
    return TopicModel(
        status="ok",
        message="2 topics",
        assignments=(0,) * n_workforce + (1,) * n_buildings,
        topics=(
            Topic(0, "nurses, staff, shifts", ("nurses",), n_workforce, (0,), centre(1, 0, 0)),
            Topic(
                1,
                "buildings, repairs",
                ("buildings",),
                n_buildings,
                (n_workforce,),
                centre(0, 1, 0),
            ),
        ),
        parameters={"other_below": [0.3, 0.3], "other_floor": 0.3},  # "Other" under cosine 0.3
        language="en",
    )


def store_run(
    consultation: Consultation, model: TopicModel, statement_ids: list[int]
) -> AnalysisRun:
    run = AnalysisRun(
        consultation_id=consultation.id,
        status=RunStatus.DONE,
        finished_at=utcnow(),
        model_fingerprint=FIXED,
        results={
            "votes": {},
            "topics": {
                **model.to_dict(),
                "statement_ids": statement_ids,
                "model_fingerprint": FIXED,
                "fit": {"fitted_in_run": None, "n_statements": len(statement_ids)},
            },
        },
    )
    db.session.add(run)
    db.session.commit()
    return run


def test_a_new_statement_takes_the_nearest_topic_without_a_refit(app, consultation, tmp_path):
    fitted = [
        seed(consultation, "More nurses on night shifts.", unit(1, 0.1, 0)),
        seed(consultation, "Staff need protected breaks.", unit(1, 0, 0.1)),
        seed(consultation, "Fix the leaking hospital roofs.", unit(0, 1, 0.1)),
    ]
    store_run(consultation, two_topic_model(2, 1), [s.id for s in fitted])
    near_buildings = seed(
        consultation, "Repair the wards before building new ones.", unit(0.2, 1, 0)
    )
    unlike_both = seed(consultation, "Parking should be free for visitors.", unit(0, 0, 1))
    not_embedded = seed(consultation, "Shorter forms.")

    placed = topics.statement_topics(consultation.id)
    assert placed[near_buildings.id] == (1, "buildings, repairs")
    assert placed[unlike_both.id] == (-1, "Other")
    assert not_embedded.id not in placed  # placed once its embedding job has run

    cli(app, "export-polis", consultation.id, tmp_path / "out")
    rows = {
        int(r["comment-id"]): (int(r["topic-id"]), r["topic-label"])
        for r in read_topics_csv(tmp_path / "out")
    }
    ids = sorted(s.id for s in (*fitted, near_buildings, unlike_both, not_embedded))
    comment_id = {sid: i for i, sid in enumerate(ids)}  # own ids become 0.. in the export
    assert rows == {
        comment_id[fitted[0].id]: (0, "nurses, staff, shifts"),
        comment_id[fitted[1].id]: (0, "nurses, staff, shifts"),
        comment_id[fitted[2].id]: (1, "buildings, repairs"),
        comment_id[near_buildings.id]: (1, "buildings, repairs"),
        comment_id[unlike_both.id]: (-1, "Other"),
    }


def test_topics_joined_with_opinion_groups_and_roles_on_a_hand_built_case():
    # Statements 10, 11 are about the workforce, 12 about buildings; 13 has no topic.
    # Participants 1, 2 are staff (group 0); 3, 4 citizens (group 1); 5 a citizen not clustered.
    votes = [
        (1, 10, 1),
        (1, 11, 1),
        (1, 12, -1),
        (2, 10, 1),
        (2, 11, 0),
        (2, 12, -1),
        (2, 13, 1),
        (3, 10, -1),
        (3, 11, -1),
        (3, 12, 1),
        (4, 10, 1),
        (4, 11, -1),
        (4, 12, 1),
        (5, 10, 0),
    ]
    people, statements = [1, 2, 3, 4, 5], [10, 11, 12, 13]
    matrix = VoteMatrix.from_triples(
        [people.index(p) for p, _, _ in votes],
        [statements.index(s) for _, s, _ in votes],
        [v for _, _, v in votes],
        participant_ids=people,
        statement_ids=statements,
        roles=["staff", "staff", "citizen", "citizen", "citizen"],
    )
    joined = topics.topic_vote_join(
        [10, 11, 12], two_topic_model(2, 1), matrix, {1: 0, 2: 0, 3: 1, 4: 1}
    )
    workforce, buildings = joined
    assert workforce["topic_id"] == 0 and workforce["statement_ids"] == [10, 11]
    assert workforce["everyone"] == {
        "agree": 4,
        "disagree": 3,
        "pass": 2,
        "votes": 9,
        "voters": 5,
        "agreement_rate": pytest.approx(4 / 9),
        "disagreement_rate": pytest.approx(3 / 9),
    }
    staff, citizens = workforce["roles"]["staff"], workforce["roles"]["citizen"]
    assert (staff["agree"], staff["votes"], staff["voters"]) == (3, 4, 2)
    assert (citizens["agree"], citizens["votes"], citizens["voters"]) == (1, 5, 3)
    assert staff["agreement_rate"] == pytest.approx(0.75)
    assert citizens["agreement_rate"] == pytest.approx(0.2)
    # "Staff agree far more than citizens on workforce statements."
    assert workforce["staff_minus_citizen_agreement"] == pytest.approx(0.55)
    assert workforce["groups"]["0"]["agreement_rate"] == pytest.approx(0.75)
    assert workforce["groups"]["1"]["agreement_rate"] == pytest.approx(0.25)
    assert workforce["groups"]["1"]["votes"] == 4  # the unclustered citizen counts in no group
    assert buildings["roles"]["staff"]["disagreement_rate"] == 1.0
    assert buildings["roles"]["citizen"]["agreement_rate"] == 1.0
    assert buildings["staff_minus_citizen_agreement"] == pytest.approx(-1.0)


def test_topics_describe_what_people_wrote_and_others_could_see(consultation):
    accepted = seed(consultation, "Accepted and live.")
    rejected = seed(consultation, "Removed by a moderator.")
    rejected.moderation = ModerationStatus.REJECTED
    meta = seed(consultation, "This survey is too long.")
    meta.is_meta = True
    author, other = (
        Participant(
            consultation_id=consultation.id, role=ParticipantRole.CITIZEN, anonymous_token_hash=h
        )
        for h in ("a" * 64, "b" * 64)
    )
    db.session.add_all([author, other])
    db.session.flush()
    waiting, seen = (
        write_statement(consultation, text, origin=StatementOrigin.PARTICIPANT, author=author)
        for text in ("Pending, only its author agreed.", "Pending, and others voted on it.")
    )
    for statement in (waiting, seen):
        statement.moderation = ModerationStatus.PENDING
        db.session.add(
            Vote(
                consultation_id=consultation.id,
                participant_id=author.id,
                statement_id=statement.id,
                choice=1,
                cast_at_ms=1,
            )
        )
    db.session.add(
        Vote(
            consultation_id=consultation.id,
            participant_id=other.id,
            statement_id=seen.id,
            choice=-1,
            cast_at_ms=2,
        )
    )
    db.session.commit()
    assert [sid for sid, _ in topics.topic_statements(consultation.id)] == [accepted.id, seen.id]


def test_export_before_any_analysis_writes_topics_csv_with_its_header_only(
    app, consultation, tmp_path
):
    seed(consultation, "A statement.")
    cli(app, "export-polis", consultation.id, tmp_path / "out")
    assert (tmp_path / "out" / "topics.csv").read_text() == "comment-id,topic-id,topic-label\n"


def test_writing_statements_queues_their_embedding(
    app, client, consultation, create_user, missions
):
    def queued(consultation_id: int) -> bool:
        with app.app_context():  # a job for the key is already waiting: no second one
            return not embeddings.request_embedding(consultation_id)

    page = f"/consultations/{consultation.id}"
    seed(consultation, "Evening clinics.")
    response = submit_form(client, page, {"text": "Weekend clinics."}, action=f"{page}/comments")
    assert response.status_code == 302 and queued(consultation.id)

    draft = Consultation(mission=missions["nhs"], title="Draft")
    db.session.add(draft)
    db.session.commit()
    create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    manage = f"/manage/consultations/{draft.id}"
    response = submit_form(client, manage, {"text": "A seed."}, action=f"{manage}/seeds")
    assert response.status_code == 302 and queued(draft.id)

    output = cli(app, "import-polis", POLIS_DATA / "brexit-consensus")
    # Commands run in the test's own app context, so the job waits on its runner.
    assert not embeddings.request_embedding(int(output.strip().splitlines()[-1]))
    assert count(StatementEmbedding) == 0  # nothing ran: the jobs wait their short delay
