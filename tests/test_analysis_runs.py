"""Analysing a consultation: the CLI run, immutable stored runs, staleness, background re-runs on
the in-process runner and on RQ with Redis, and our groups in the Polis export."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.models import AnalysisRun, Consultation, Participant, StatementOrigin
from deliberate.polis_format import read_export
from deliberate.services import analysis_runs
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import POLIS_DATA, cli, csrf_token_from, load_demo


def imported(app, name: str) -> int:
    return int(cli(app, "import-polis", str(POLIS_DATA / name)).strip().splitlines()[-1])


@pytest.mark.model
def test_analyse_stores_an_immutable_run_and_export_carries_our_groups(app, missions, tmp_path):
    cid = imported(app, "brexit-consensus")
    assert analysis_runs.is_stale(cid)
    output = cli(app, "analyse", str(cid))
    assert "2 opinion groups" in output
    first = db.session.scalar(select(AnalysisRun))
    assert first.n_participants == 204 and first.n_statements == 50 and first.n_votes > 5000
    assert first.code_version and first.parameters["votes"]["groups"]["seed"]
    assert first.results["votes"]["k"] == 2
    assert not analysis_runs.is_stale(cid)
    groups = analysis_runs.opinion_group_of(first)
    assert len(groups) >= 150 and set(groups.values()) == {0, 1}

    cli(app, "export-polis", str(cid), str(tmp_path / "out"))
    exported = {p.participant_id: p.group_id for p in read_export(tmp_path / "out").participants}
    source_ids = dict(db.session.execute(select(Participant.id, Participant.source_id)).all())
    assert {source_ids[p]: g for p, g in groups.items()} == {
        p: g for p, g in exported.items() if g is not None
    }

    stored = dict(first.results)
    cli(app, "analyse", str(cid))
    runs = db.session.scalars(select(AnalysisRun).order_by(AnalysisRun.id)).all()
    assert len(runs) == 2
    db.session.refresh(runs[0])
    assert runs[0].results == stored  # earlier runs never change
    assert (
        runs[1].results["votes"]["opinion_map"]["group"] == stored["votes"]["opinion_map"]["group"]
    )  # same votes, same groups


def test_unknown_consultation_is_refused(app):
    result = app.test_cli_runner().invoke(args=["deliberate", "analyse", "999"])
    assert result.exit_code != 0 and "No consultation 999" in result.output


@pytest.mark.model
def test_a_tiny_consultation_gets_a_not_enough_data_run(app, missions):
    consultation = Consultation(mission=missions["nhs"], title="Tiny")
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "One statement.", origin=StatementOrigin.SEED)
    db.session.commit()
    output = cli(app, "analyse", str(consultation.id))
    assert "Not enough data" in output
    run = db.session.scalar(select(AnalysisRun))
    assert run.results["votes"]["status"] == "not_enough_data"


def vote_through_the_site(client, consultation_id: int, times: int) -> None:
    for _ in range(times):
        page = client.get(f"/consultations/{consultation_id}").get_data(as_text=True)
        marker = 'name="statement_id" value="'
        statement_id = page.split(marker, 1)[1].split('"', 1)[0]
        response = client.post(
            f"/consultations/{consultation_id}/votes",
            data={
                "csrf_token": csrf_token_from(page),
                "statement_id": statement_id,
                "choice": "agree",
            },
        )
        assert response.status_code == 302


def demo_consultation(app) -> int:
    load_demo(app)
    return db.session.scalar(select(Consultation.id).where(Consultation.source_key == "demo:nhs"))


def runs_of(consultation_id: int) -> list[AnalysisRun]:
    return db.session.scalars(
        select(AnalysisRun)
        .where(AnalysisRun.consultation_id == consultation_id)
        .order_by(AnalysisRun.id)
    ).all()


@pytest.mark.demo
@pytest.mark.model
def test_new_votes_make_the_analysis_stale_and_one_debounced_background_run_follows(app, client):
    cid = demo_consultation(app)
    assert len(runs_of(cid)) == 1  # the demo's first analysis
    assert not analysis_runs.is_stale(cid)

    vote_through_the_site(client, cid, 3)
    assert analysis_runs.is_stale(cid)
    runner = app.extensions["deliberate_jobs"]
    with app.app_context():  # the job for this key is already waiting: no second one
        assert not analysis_runs.request_analysis(cid)
    assert runner.wait_until_idle(timeout=120)
    assert runner.failures == []
    runs = runs_of(cid)
    assert len(runs) == 2
    assert runs[1].n_votes == 3 and not analysis_runs.is_stale(cid)


@pytest.fixture
def redis_app(database_url, _migrated, tmp_path, app, redis_url):
    """The app on this worker's own Redis database (``redis_url`` skips the test where there is
    no Redis, except under CI, which always has one)."""
    return make_test_app(database_url, tmp_path, REDIS_URL=redis_url, ANALYSIS_DEBOUNCE_SECONDS=0)


@pytest.mark.demo
@pytest.mark.model
def test_with_redis_jobs_go_through_rq_once_per_consultation(redis_app, app, client):
    from deliberate.worker import Worker

    cid = demo_consultation(app)
    vote_through_the_site(client, cid, 2)  # stale: the demo's run has not seen these votes
    runner = redis_app.extensions["deliberate_jobs"]
    assert isinstance(runner, jobs.RQRunner)
    with redis_app.app_context():
        assert analysis_runs.request_analysis(cid)
        assert not analysis_runs.request_analysis(cid)  # already queued
        assert runner.queue.count == 1
    # The production worker, outside any app context: it runs the job inside its own app.
    worker = Worker(
        [runner.queue],
        connection=runner.connection,
        name=f"test-{uuid.uuid4().hex[:8]}",
        app=redis_app,
    )
    worker.work(burst=True)
    runs = runs_of(cid)
    assert len(runs) == 2 and runs[1].n_votes == 2
    assert not analysis_runs.is_stale(cid)


def test_the_analyse_command_takes_its_turn_behind_a_worker(redis_app, app, missions, redis_url):
    """`deliberate analyse` runs the background job's code, lock included."""
    consultation = Consultation(mission=missions["nhs"], title="Being analysed")
    db.session.add(consultation)
    db.session.commit()
    lock = Redis.from_url(redis_url).lock(f"deliberate:lock:analyse-{consultation.id}", timeout=60)
    assert lock.acquire(blocking=False)  # a worker is analysing it
    try:
        with redis_app.app_context():
            result = redis_app.test_cli_runner().invoke(
                args=["deliberate", "analyse", str(consultation.id)]
            )
    finally:
        lock.release()
    assert result.exit_code != 0
    assert "is being analysed by a worker now" in result.output
    assert runs_of(consultation.id) == []
