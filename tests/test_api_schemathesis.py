"""Schemathesis against the live app: requests generated from the API's own OpenAPI document
(/api/v1/openapi.json), sent to the app, and every answer checked. No 500 on any of them, and every
response (status, headers, content type, body) matches the document; writes are sent with a real
personal API token, and schemathesis also sends them without it.

The world is small and real: a consultation with statements and votes and a published analysis,
a pre-moderated one, a closed one, ideas with a history, an account with a token. Its ids are
small numbers, which the generated ids reach among the random ones. Bounded: a few examples per
operation, no deadline (a first request compiles templates)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from deliberate import create_app
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Idea,
    IdeaStage,
    ModerationMode,
    ParticipantRole,
    StatementOrigin,
)
from deliberate.services import api_tokens, reports
from deliberate.services.statements import moderate_statement, write_statement
from tests.test_reports import add_votes, analyse

EXAMPLES = 15  # per operation and phase: the whole file stays well under a minute


def build_world(missions, create_user) -> str:
    """One of each thing the API serves; returns a working token."""
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    consultations = []
    for title, mode in (
        ("What would most improve getting care?", ModerationMode.POST),
        ("How should clinics open at weekends?", ModerationMode.PRE),
        ("A closed question", ModerationMode.POST),
    ):
        consultation = Consultation(mission=missions["nhs"], title=title, moderation_mode=mode)
        db.session.add(consultation)
        db.session.flush()
        statements = [
            write_statement(consultation, f"{title} Statement {n}.", origin=StatementOrigin.SEED)
            for n in range(6)
        ]
        consultation.open()
        add_votes(
            consultation,
            statements,
            [
                (
                    ParticipantRole.STAFF if n % 3 == 0 else ParticipantRole.CITIZEN,
                    {i: (1, -1, 0)[(i * (n + 1) + n // 4) % 3] for i in range(6)},
                )
                for n in range(16)
            ],
        )
        consultations.append(consultation)
    moderate_statement(statements[0], accept=False)
    consultations[2].close()
    draft = Consultation(mission=missions["nhs"], title="A draft nobody sees")
    db.session.add(draft)
    idea = Idea(
        mission=missions["nhs"],
        title="Protected breaks",
        problem="Nurses skip breaks.",
        proposal="A cover rota.",
        author_staff_domain="nhs.net",
    )
    db.session.add(idea)
    idea.move_to(IdeaStage.UNDER_REVIEW, "Worth a look.", by=team)
    db.session.commit()
    run = analyse(consultations[0].id)
    reports.publish_run(team, consultations[0], run)
    secret = api_tokens.create_token(create_user(email="program@example.org"), "Tests").secret
    db.session.commit()
    return secret


def openapi_document() -> dict:
    """The document as the app serves it (it says what the code declares, whatever the data)."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "RETENTION_SCHEDULE": False}
    )
    response = app.test_client().get("/api/v1/openapi.json")
    app.extensions["deliberate_jobs"].shutdown()
    assert response.status_code == 200
    return response.get_json()


# Loaded from the served document once; each operation's test then runs against the test's app.
# (schemathesis.pytest.from_fixture would load it from a fixture, but breaks on pytest 9.)
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def token(app, missions, create_user) -> str:
    # Writes ask for (debounced) background analyses and embeddings: none is wanted here.
    app.config.update(EMBEDDING_DELAY_SECONDS=3600, ANALYSIS_DEBOUNCE_SECONDS=3600)
    return build_world(missions, create_user)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run, locally and in CI
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_generated_request_gets_a_documented_answer_and_never_a_500(case, app, token):
    case.operation.schema.app = app  # so its own probes (the same request without auth) reach it
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"})
