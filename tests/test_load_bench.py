"""The load benchmark's simulated people (bench/load/locustfile.py) still find their way through
the real pages: one anonymous person and one who signs in answer statements (and now and then add
one) against the app served on loopback for a few seconds, and every answer they saw acknowledged
is in the database once.

locust runs in a subprocess: importing it here would monkey-patch the whole test process (gevent).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from deliberate.extensions import db
from deliberate.models import Consultation, ModerationMode, StatementOrigin
from deliberate.services.statements import write_statement
from tests.helpers import REPO_ROOT, served

LOCUSTFILE = REPO_ROOT / "bench" / "load" / "locustfile.py"
PASSWORD = "correct horse battery"
SEEDS = [f"Statement number {n} about the rivers and the birds." for n in range(30)]


def _verify_module():
    spec = importlib.util.spec_from_file_location("load_verify", LOCUSTFILE.with_name("verify.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def site(app):
    """The app as a real server on a free loopback port (locust runs in another process)."""
    with served(app) as base_url:
        yield base_url


@pytest.mark.slow
def test_simulated_people_answer_and_every_acknowledged_answer_is_stored(
    site, missions, create_user, database_url, tmp_path
):
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would help rivers and birds?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    user = create_user(password=PASSWORD)
    db.session.commit()
    out = tmp_path / "recorded.json"
    settings = {
        "consultation_id": consultation.id,
        "accounts": [user.email],
        "password": PASSWORD,
        "think": [0.1, 0.2],
        "commenter_share": 1,
        "mix": [1, 1, 0],
        "out": str(out),
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
            *("--users", "2", "--spawn-rate", "2", "--run-time", "4s", "--stop-timeout", "2"),
            *("--host", site, "--only-summary", "--exit-code-on-error", "0"),
            *("Participant", "SignedInParticipant"),  # no published report to read here
        ],
        env={**os.environ, "DELIBERATE_LOAD_CONFIG": json.dumps(settings)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = json.loads(out.read_text())

    statuses = {status for _, _, status, _, _ in recorded["samples"]}
    assert statuses <= {200, 302}, recorded["samples"]
    assert recorded["counts"].get("signed in", 0) >= 1  # again after answering everything
    people = {person.partition(":")[0] for _, person, _, _ in recorded["acks"]}
    assert people == {"cookie", "user"}
    checked = _verify_module().verify(database_url, consultation.id, recorded["acks"])
    assert checked.ok, checked
    assert checked.matching == checked.acknowledged_pairs > 2
    assert checked.people_found == checked.people >= 2
    # Comments go straight on (nothing is embedded here), each with its author's agree.
    assert checked.own_statements == recorded["counts"].get("comment posted", 0)
