"""Log lines a machine can read: one JSON line per request with its route, status, time and
request id, and nothing in any line that names a person."""

from __future__ import annotations

import json
import logging

import pytest

from deliberate.logs import JsonLineFormatter, TextFormatter
from tests.helpers import run_background_jobs, submit_form

ADDRESS = "zq-logcheck-7731@example.org"
VISITOR_IP = "203.0.113.77"


def request_lines(caplog) -> list[dict]:
    """The request log lines as the JSON formatter writes them, parsed back."""
    formatter = JsonLineFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "deliberate.requests"
    ]


def everything_logged(caplog) -> str:
    """Every record, in both formats, with its message, fields and any traceback."""
    json_lines = JsonLineFormatter()
    text_lines = TextFormatter()
    return "\n".join(
        f"{json_lines.format(record)}\n{text_lines.format(record)}" for record in caplog.records
    )


def test_each_request_logs_one_json_line_with_its_route_and_request_id(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/missions/nhs?utm_source=newsletter")
    assert response.status_code in (200, 404)
    (line,) = request_lines(caplog)
    assert line["message"] == "request" and line["logger"] == "deliberate.requests"
    assert line["level"] == "INFO" and "time" in line
    assert line["method"] == "GET"
    assert line["route"] == "/missions/<slug>"  # the rule, not the address asked for
    assert line["status"] == response.status_code
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert "newsletter" not in json.dumps(line)


def test_a_vote_is_logged_by_its_route_and_an_unknown_page_by_none(client, caplog):
    caplog.set_level(logging.INFO)
    client.post("/consultations/12345/votes", data={})
    client.get("/no/such/page")
    vote, missing = request_lines(caplog)
    assert vote["route"] == "/consultations/<int:consultation_id>/votes"
    assert vote["method"] == "POST" and vote["status"] in (400, 404)
    assert missing["route"] is None and missing["status"] == 404


def test_a_safe_incoming_request_id_is_kept_and_an_unsafe_one_replaced(client, caplog):
    caplog.set_level(logging.INFO)
    kept = client.get("/privacy", headers={"X-Request-ID": "lb-4f2a.91_c"})
    assert kept.headers["X-Request-ID"] == "lb-4f2a.91_c"
    for unsafe in ('"}{"admin":true', "x" * 65, "two words", "é"):
        replaced = client.get("/privacy", headers={"X-Request-ID": unsafe})
        assert replaced.headers["X-Request-ID"] != unsafe
        assert len(replaced.headers["X-Request-ID"]) == 32
    ids = [line["request_id"] for line in request_lines(caplog)]
    assert ids[0] == "lb-4f2a.91_c" and len(set(ids)) == 5


def test_health_checks_are_quiet_while_they_answer(client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert request_lines(caplog) == []


def test_lines_logged_during_a_request_carry_its_id(app, client, caplog):
    caplog.set_level(logging.INFO)

    @app.get("/test-only/says-something")
    def says_something():
        logging.getLogger("deliberate.jobs").info(
            "job finished", extra={"consultation_id": 7, "kind": "analysis", "outcome": "stored"}
        )
        return "said"

    response = client.get("/test-only/says-something")
    (job_line,) = [r for r in caplog.records if r.name == "deliberate.jobs"]
    parsed = json.loads(JsonLineFormatter().format(job_line))
    assert parsed["request_id"] == response.headers["X-Request-ID"]
    assert (parsed["consultation_id"], parsed["kind"], parsed["outcome"]) == (
        7,
        "analysis",
        "stored",
    )


def test_extra_fields_of_a_job_line_are_written_in_both_formats():
    """The jobs log ``logger.info("job finished", extra={...})`` outside any request."""
    record = logging.getLogger("deliberate.jobs").makeRecord(
        "deliberate.jobs",
        logging.INFO,
        __file__,
        1,
        "job finished",
        (),
        None,
        extra={"consultation_id": 3, "kind": "embedding", "duration_ms": 812.5, "outcome": "ok"},
    )
    parsed = json.loads(JsonLineFormatter().format(record))
    assert parsed["message"] == "job finished" and parsed["logger"] == "deliberate.jobs"
    assert parsed["consultation_id"] == 3 and parsed["kind"] == "embedding"
    assert parsed["duration_ms"] == 812.5 and parsed["outcome"] == "ok"
    text = TextFormatter().format(record)
    assert "INFO deliberate.jobs: job finished" in text
    assert "consultation_id=3 kind=embedding duration_ms=812.5 outcome=ok" in text


@pytest.mark.parametrize("form", ["register", "sign-in"])
def test_an_email_address_sent_in_a_form_never_reaches_the_logs(app, client, caplog, form):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="deliberate")
    client.environ_base["REMOTE_ADDR"] = VISITOR_IP
    if form == "register":
        data = {
            "display_name": "Zara Quill",
            "email": ADDRESS,
            "password": "a long and unusual passphrase 42",
            "confirm_password": "a long and unusual passphrase 42",
        }
        assert submit_form(client, "/register", data).status_code == 302
        run_background_jobs(app)  # the confirmation email, written to the outbox and logged
    else:
        data = {"email": ADDRESS, "password": "not the password at all"}
        assert submit_form(client, "/sign-in", data).status_code == 200
    client.get(f"/register?email={ADDRESS}")
    logged = everything_logged(caplog)
    assert "request" in logged and "/register" in logged  # the lines were there to read
    local_part = ADDRESS.split("@")[0]
    for personal in (local_part, "Zara", "Quill", VISITOR_IP, "passphrase", "not the password"):
        assert personal not in logged, personal
