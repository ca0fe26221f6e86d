"""A failed analysis is a run the team can see, with its reason, and never a half-written one.

The failures are real: the settings name an embedding model folder that is not there, so the job
(or the command) fails where it would on a misconfigured server. Importing torch to find that out
takes a few seconds, hence ``slow``; the model itself is never loaded."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from deliberate.extensions import db
from deliberate.models import AnalysisRun, RunStatus, StatementOrigin, User
from deliberate.services import analysis_runs, reports
from deliberate.services.analysis import failure_reason, run_analysis
from deliberate.services.embeddings import request_embedding
from deliberate.services.statements import write_statement
from tests.conftest import csrf_token_from, sign_in, submit_form

pytestmark = pytest.mark.slow


@pytest.fixture
def published(app, brexit_analysed, missions, create_user):
    """A real conversation with a published analysis, and a new statement since (so stale)."""
    run = brexit_analysed
    team = create_user(email="team@example.org", team=(missions["growth"],))
    reports.publish_run(team, run.consultation, run)
    write_statement(
        run.consultation, "A point made after the analysis.", origin=StatementOrigin.SEED
    )
    db.session.commit()
    return run


@pytest.fixture
def broken_model(app, tmp_path):
    app.config["DELIBERATE_EMBEDDING_MODEL"] = str(tmp_path / "no-such-model")


def dashboard_of(client, consultation_id: int) -> str:
    return client.get(f"/manage/consultations/{consultation_id}/analysis").get_data(as_text=True)


def runs(status: RunStatus) -> list[AnalysisRun]:
    return list(
        db.session.scalars(
            select(AnalysisRun).where(AnalysisRun.status == status).order_by(AnalysisRun.id)
        )
    )


def run_jobs(app) -> list:
    runner = app.extensions["deliberate_jobs"]
    assert runner.wait_until_idle(timeout=240)
    return runner.failures


def test_a_failed_analysis_shows_on_the_dashboard_and_leaves_the_report_as_it_was(
    app, client, published, broken_model
):
    cid = published.consultation_id
    stored = dict(published.results)
    public = app.test_client()
    public_before = public.get(f"/consultations/{cid}/report").get_data(as_text=True)
    sign_in(client, "team@example.org")

    page = dashboard_of(client, cid)
    response = client.post(
        f"/manage/consultations/{cid}/analysis/run", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    failures = run_jobs(app)
    assert [name for name, _ in failures] == ["deliberate.jobs.tasks.analyse_consultation"]

    db.session.expire_all()
    [failed] = runs(RunStatus.FAILED)
    assert failed.consultation_id == cid and failed.finished_at >= failed.started_at
    assert failed.error.startswith("FileNotFoundError: ") and "not found" in failed.error
    assert failed.results is None
    assert [r.id for r in runs(RunStatus.DONE)] == [published.id]  # no half-written run
    assert analysis_runs.latest_failure(cid).id == failed.id

    page = dashboard_of(client, cid)
    assert f"Failed at {failed.finished_at:%H:%M} UTC" in page
    assert failed.error in page and "Run again" in page
    assert "The analysis is running" not in page  # the run asked for has ended: it failed
    assert f"The public sees run {published.id}" in page

    assert public.get(f"/consultations/{cid}/report").get_data(as_text=True) == public_before
    done = db.session.get(AnalysisRun, published.id)
    assert done.results == stored and done.published_at is not None

    # "Run again" asks for the analysis again; it fails again, and the newest failure is shown.
    submit_form(
        client,
        f"/manage/consultations/{cid}/analysis",
        {},
        f"/manage/consultations/{cid}/analysis/run",
    )
    run_jobs(app)
    db.session.expire_all()
    assert len(runs(RunStatus.FAILED)) == 2
    assert analysis_runs.latest_failure(cid).id == runs(RunStatus.FAILED)[-1].id

    # Once an analysis succeeds, the failure before it is history.
    run_analysis(cid, topics=False)
    db.session.commit()
    assert analysis_runs.latest_failure(cid) is None
    assert "Failed at" not in dashboard_of(client, cid)


def test_a_failed_embedding_job_is_recorded_as_a_failed_attempt(app, published, broken_model):
    cid = published.consultation_id
    with app.app_context():
        assert request_embedding(cid)
    assert len(run_jobs(app)) == 1
    db.session.expire_all()
    [failed] = runs(RunStatus.FAILED)
    assert failed.error.startswith("Embedding the statements: FileNotFoundError: ")
    assert [r.id for r in runs(RunStatus.DONE)] == [published.id]


def test_the_analyse_command_records_its_failure_too(app, published, broken_model):
    result = app.test_cli_runner().invoke(
        args=["deliberate", "analyse", str(published.consultation_id)]
    )
    assert result.exit_code != 0
    assert "The embedding model could not be loaded" in result.output
    [failed] = runs(RunStatus.FAILED)
    assert "FileNotFoundError" in failed.error
    assert db.session.scalar(select(func.count(AnalysisRun.id))) == 2


def test_a_database_error_is_recorded_without_the_values_it_quotes(app, create_user):
    create_user(email="someone.private@example.org")
    db.session.add(User(email="someone.private@example.org", display_name="Again"))
    with pytest.raises(IntegrityError) as raised:
        db.session.flush()
    db.session.rollback()
    # The engine hides the statement's parameters (hide_parameters), but PostgreSQL's own message
    # can still quote the value ("Key (email)=(...) already exists"): the reason never does.
    reason = failure_reason(raised.value)
    assert re.fullmatch(r"\w+ from the database", reason) and "private" not in reason
