"""One unit of work per request, job and command: one commit at the end, nothing saved on an
error, and jobs and emails sent only once the commit has happened."""

from __future__ import annotations

import email
import email.policy
import uuid

import pytest
from flask import abort, request
from sqlalchemy import func, select

from deliberate import jobs, unit_of_work
from deliberate.extensions import db
from deliberate.jobs.tasks import analyse_consultation
from deliberate.mail import queue_email
from deliberate.models import Consultation, StaffVerification, User
from deliberate.services import analysis_runs
from deliberate.unit_of_work import may_be_refused
from deliberate.worker import Worker
from tests import test_analysis_runs
from tests.conftest import sign_in, submit_form

redis_app = test_analysis_runs.redis_app  # an app whose jobs go to RQ on Redis


def consultations() -> int:
    return db.session.scalar(select(func.count(Consultation.id)))


def emails(outbox) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


def run_jobs(app) -> None:
    runner = app.extensions["deliberate_jobs"]
    assert runner.wait_until_idle(timeout=60) and runner.failures == []


def _write_then_end(mission_id: int):
    """A view that saves a consultation, asks for an email, then ends as the request says."""
    db.session.add(Consultation(mission_id=mission_id, title="Written by the view"))
    db.session.flush()
    queue_email(
        "someone@example.org", "Hello", "email/staff_verification.txt", name="A", link="L", hours=1
    )
    ending = request.args["end"]
    if ending == "abort":
        abort(404)
    if ending == "raise":
        raise RuntimeError("the view broke after writing")
    return "Saved, though the page says otherwise", 409


@pytest.fixture
def writing_view(app, missions):
    app.add_url_rule("/test/write/<int:mission_id>", view_func=_write_then_end)
    unit_of_work.init_app(app)  # wraps the new view; the others are wrapped once already
    return f"/test/write/{missions['nhs'].id}"


def test_a_view_that_returns_commits_and_then_sends_what_it_asked_for(
    app, client, writing_view, outbox
):
    assert client.get(f"{writing_view}?end=return").status_code == 409
    assert consultations() == 1
    run_jobs(app)
    assert [m["To"] for m in emails(outbox)] == ["someone@example.org"]


@pytest.mark.parametrize("ending", ["abort", "raise"])
def test_a_view_that_fails_after_writing_saves_nothing_and_sends_nothing(
    app, client, writing_view, outbox, ending
):
    if ending == "raise":  # in tests Flask hands the error to the test rather than a 500 page
        with pytest.raises(RuntimeError):
            client.get(f"{writing_view}?end=raise")
    else:
        assert client.get(f"{writing_view}?end=abort").status_code == 404
    run_jobs(app)
    assert consultations() == 0
    assert emails(outbox) == []


def test_a_refusal_undoes_the_writes_before_it_and_forgets_their_jobs(app, missions):
    from deliberate.services.accounts import register_user

    nhs = missions["nhs"]
    with app.app_context(), unit_of_work.unit_of_work():
        consultation = Consultation(mission_id=nhs.id, title="Refused")
        db.session.add(consultation)
        db.session.flush()
        cid = consultation.id
        with may_be_refused() as refusal:
            analysis_runs.request_analysis(cid)
            register_user("x@example.org", "X", "short")  # a password too short: refused
        assert refusal.message.startswith("Password must be at least")
    assert consultations() == 0
    with app.app_context():
        assert analysis_runs.request_analysis(cid)  # nothing was waiting under its key


def test_what_waits_for_the_commit_finds_the_saved_rows(app, missions):
    seen: list[int] = []

    def count_as_a_worker_would():
        with app.app_context():  # a session of its own, as a worker has
            seen.append(consultations())

    with app.app_context(), unit_of_work.unit_of_work() as work:
        consultation = Consultation(mission_id=missions["nhs"].id, title="Committed")
        db.session.add(consultation)
        db.session.flush()
        assert analysis_runs.request_analysis(consultation.id)  # asked for ...
        # ... but not queued yet: the runner itself still takes a job under that key.
        probe = jobs.runner().enqueue(
            analyse_consultation, consultation.id, key=f"analyse-{consultation.id}", delay=3600
        )
        assert probe
        work.after_commit(count_as_a_worker_would)
        assert seen == []
    assert seen == [1]


def test_units_do_not_nest(app):
    with app.app_context(), unit_of_work.unit_of_work():
        inner = unit_of_work.unit_of_work()
        with pytest.raises(RuntimeError, match="do not nest"):
            inner.__enter__()


def test_email_context_takes_plain_values_only(app, missions):
    with app.app_context(), pytest.raises(TypeError, match="mission"):
        queue_email("a@example.org", "Subject", "email/x.txt", mission=missions["nhs"])


def test_the_staff_verification_email_is_sent_by_a_background_job(redis_app, create_user, outbox):
    """The request stores the link and queues the email; a worker renders it from its template."""
    user = create_user(email="nurse@example.org", name="Sam Nurse")
    browser = redis_app.test_client()
    sign_in(browser, "nurse@example.org")
    response = submit_form(
        browser, "/account", {"work_email": "sam@nhs.net"}, action="/account/staff"
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(StaffVerification.id))) == 1
    assert emails(outbox) == []  # not sent inside the request

    queue = redis_app.extensions["deliberate_jobs"].queue
    [job] = queue.get_jobs()
    assert job.func_name == "deliberate.jobs.tasks.send_email"
    to, subject, template, context, headers, language = job.args
    assert (to, template, headers, language) == (
        "sam@nhs.net",
        "email/staff_verification.txt",
        None,
        "en",
    )
    assert {type(v) for v in context.values()} <= {str, int}

    worker = Worker([queue], connection=queue.connection, name=uuid.uuid4().hex[:8], app=redis_app)
    worker.work(burst=True)
    [sent] = emails(outbox)
    assert sent["Subject"] == subject and sent["To"] == "sam@nhs.net"
    body = sent.get_content()
    # Emails greet without the display name: a name is text a stranger chose.
    assert body.startswith("Hello,\n") and "Sam Nurse" not in body and "expires in 24 hours" in body
    link = body.split("http://deliberate.test", 1)[1].split()[0]
    assert browser.get(link).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).is_staff
