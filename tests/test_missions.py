"""The home page, mission pages, the demo data and the consultation life cycle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deliberate.demo import REAL_CONVERSATIONS
from deliberate.extensions import db
from deliberate.missions.catalogue import MISSIONS
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    IllegalTransition,
    Mission,
    Statement,
    utcnow,
)
from tests.helpers import cli, load_demo, sign_in

MISSION_NAMES = [
    "Kickstart economic growth",
    "Make Britain a clean energy superpower",
    "Build an NHS fit for the future",
    "Take back our streets",
    "Break down barriers to opportunity",
]


def test_home_page_lists_the_five_missions_with_their_goals(client, missions):
    html = client.get("/").get_data(as_text=True)
    positions = [html.index(name) for name in MISSION_NAMES]
    assert positions == sorted(positions)
    for spec in MISSIONS:
        assert spec.goal.replace("'", "&#39;") in html
        assert f'href="/missions/{spec.slug}"' in html


def test_mission_page_lists_its_public_consultations_but_not_drafts(client, missions):
    nhs = missions["nhs"]
    opened = Consultation(mission=nhs, title="Waiting times")
    opened.open()
    db.session.add_all([opened, Consultation(mission=nhs, title="Secret draft")])
    db.session.commit()
    html = client.get("/missions/nhs").get_data(as_text=True)
    assert "Build an NHS fit for the future" in html
    assert "Waiting times" in html and "Open" in html
    assert "Secret draft" not in html


def test_mission_team_sees_its_drafts(client, missions, create_user):
    create_user(email="team@example.org", team=(missions["nhs"],))
    db.session.add(Consultation(mission=missions["nhs"], title="Secret draft"))
    db.session.commit()
    sign_in(client, "team@example.org")
    assert "Secret draft" in client.get("/missions/nhs").get_data(as_text=True)
    assert "Secret draft" not in client.get("/missions/growth").get_data(as_text=True)


def test_unknown_mission_is_a_404_page(client, missions):
    response = client.get("/missions/moonshot")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.demo
@pytest.mark.model
def test_load_demo_opens_a_seeded_consultation_per_mission_and_is_idempotent(app):
    load_demo(app)
    cli(app, "load-demo")  # a second load changes nothing
    assert db.session.scalar(select(func.count(Mission.id))) == 5
    consultations = db.session.scalars(select(Consultation)).all()
    demo = [c for c in consultations if c.source_key.startswith("demo:")]
    assert {c.mission.slug for c in demo} == {m.slug for m in MISSIONS}
    assert all(c.state is ConsultationState.OPEN for c in demo)
    for consultation in demo:
        seeds = db.session.scalar(
            select(func.count(Statement.id)).where(Statement.consultation_id == consultation.id)
        )
        assert seeds >= 5
    real = {c.source_key: c for c in consultations if c.source_key.startswith("polis:")}
    assert len(real) == len(REAL_CONVERSATIONS)
    second_rounds = [c for c in consultations if c.round_number == 2]
    assert second_rounds and second_rounds[0].previous_round is not None
    policing = real["polis:9xxwa9jpkm"]
    assert policing.mission.slug == "safer-streets" and policing.state is ConsultationState.CLOSED
    assert "The Computational Democracy Project" in policing.source_attribution
    runs = db.session.scalars(select(AnalysisRun)).all()
    assert {r.consultation_id for r in runs} >= {c.id for c in real.values()}
    assert len(runs) == len({r.consultation_id for r in runs})  # a second load adds none


def test_consultation_moves_draft_open_closed_and_refuses_illegal_moves(missions):
    consultation = Consultation(mission=missions["growth"], title="High streets")
    assert consultation.state is ConsultationState.DRAFT
    assert not consultation.is_accepting_input()
    with pytest.raises(IllegalTransition):
        consultation.close()
    consultation.open()
    assert consultation.state is ConsultationState.OPEN and consultation.is_accepting_input()
    with pytest.raises(IllegalTransition):
        consultation.open()
    consultation.close()
    assert consultation.state is ConsultationState.CLOSED and not consultation.is_accepting_input()
    with pytest.raises(IllegalTransition):
        consultation.open()
    with pytest.raises(IllegalTransition):
        consultation.close()


def test_dates_are_enforced(missions):
    now = utcnow()
    past = Consultation(mission=missions["growth"], title="Late", closes_at=now - timedelta(days=1))
    with pytest.raises(IllegalTransition, match="closing date has passed"):
        past.open(now)
    later = Consultation(
        mission=missions["growth"],
        title="Soon",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=8),
    )
    later.open(now)
    assert not later.is_accepting_input(now)
    assert later.is_accepting_input(now + timedelta(days=2))
    assert not later.is_accepting_input(now + timedelta(days=9))


@pytest.mark.demo
@pytest.mark.model
def test_demo_has_team_staff_accounts_and_ideas_in_public_stages(app):
    from deliberate.demo import DEMO_PASSWORD
    from deliberate.models import Idea, IdeaStage, User

    load_demo(app)
    ideas = db.session.scalars(select(Idea)).all()
    assert len(ideas) >= 3
    assert {i.stage for i in ideas} >= {IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW}
    assert all(i.author.is_staff for i in ideas)
    team = db.session.scalar(select(User).where(User.email == "team@example.org"))
    assert all(team.is_on_team(m.id) for m in db.session.scalars(select(Mission)))
    assert team.check_password(DEMO_PASSWORD)


def test_demo_data_is_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["deliberate", "load-demo"])
    assert result.exit_code != 0 and "never load it in production" in result.output
    assert db.session.scalar(select(func.count(Mission.id))) == 0
