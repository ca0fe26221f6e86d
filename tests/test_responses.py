"""You said, we did: the mission team's responses to what a consultation found, under each
finding of the published report, on an idea's page, and what no response answers yet."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Consultation,
    Idea,
    IdeaStage,
    MissionResponse,
    ResponseStatus,
    Statement,
    utcnow,
)
from deliberate.services import responses
from deliberate.services.errors import Refused
from tests.helpers import count, error_summary, html_of, sign_in, submit_form, text_of
from tests.test_reports import publish


@pytest.fixture
def published(app, brexit_analysed, missions, create_user):
    """The real brexit conversation (growth mission), its run published by its team; a team
    member signed in on ``team_client``, and a staff idea of the mission."""
    run = brexit_analysed
    team = create_user(email="team@example.org", team=(missions["growth"],))
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, run.consultation_id, run.id).status_code == 302
    author = create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    idea = Idea(
        mission_id=missions["growth"].id,
        author_id=author.id,
        title="Weekend discharge coordinators",
        problem="Patients wait all weekend to go home.",
        proposal="A coordinator on Saturdays and Sundays.",
        evidence="Our ward's records.",
        stage=IdeaStage.UNDER_REVIEW,
    )
    db.session.add(idea)
    db.session.commit()
    return {
        "run": run,
        "cid": run.consultation_id,
        "team": team,
        "team_client": team_client,
        "idea": idea,
        "missions": missions,
    }


def _consensus_statement(run) -> int:
    return run.results["votes"]["consensus_agree"][0]["statement_id"]


def _record(client, cid: int, **data):
    fields = {"title": "", "explanation": "", "status": "", "reason": "", "answers": []}
    fields.update(data)
    return submit_form(client, f"/manage/consultations/{cid}/responses/new", fields)


def _under_finding(html: str, kind: str, statement_id: int | str = "", other="") -> str:
    """The responses listed under one finding of the report (empty when none)."""
    found = re.search(
        rf'<ul class="govuk-list app-responses" data-responses="{kind}:{other}:{statement_id}">'
        r"(.*?)</ul>",
        html,
        re.S,
    )
    return text_of(found.group(1)) if found else ""


def test_team_records_a_response_to_a_finding_shown_under_it_in_the_report_and_on_the_idea_page(
    client, published
):
    run, cid, idea = published["run"], published["cid"], published["idea"]
    sid = _consensus_statement(run)
    before = html_of(client.get(f"/consultations/{cid}/report"))  # rendered and kept in memory
    assert _under_finding(before, "consensus", sid) == ""

    form = html_of(published["team_client"].get(f"/manage/consultations/{cid}/responses/new"))
    assert f'value="consensus:{sid}"' in form and f'value="idea:{idea.id}"' in form
    response = _record(
        published["team_client"],
        cid,
        title="We will trial weekend discharge coordinators in 3 trusts from April",
        explanation="Chosen because every group agreed.",
        status="decided",
        answers=[f"consensus:{sid}", f"idea:{idea.id}"],
    )
    assert response.status_code == 302
    stored = db.session.scalar(select(MissionResponse))
    assert stored.status is ResponseStatus.DECIDED
    assert {
        (link.kind.value, link.run_id, link.statement_id, link.idea_id) for link in stored.links
    } == {
        ("consensus", run.id, sid, None),
        ("idea", None, None, idea.id),
    }
    assert response.headers["Location"].endswith(f"/consultations/{cid}/responses/{stored.id}")
    assert (
        db.session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.target_type == "mission_response", AuditEvent.target_id == str(stored.id)
            )
        )
        == "response.recorded"
    )

    # The public report, read by anyone, shows it under that finding (and not elsewhere).
    html = html_of(client.get(f"/consultations/{cid}/report"))
    under = _under_finding(html, "consensus", sid)
    assert "Our response: Decided We will trial weekend discharge coordinators" in under
    assert f"/consultations/{cid}/responses/{stored.id}" in html
    assert html.count("We will trial weekend discharge coordinators") == 1
    # The idea's page, and the response's own page with what it answers.
    idea_page = text_of(html_of(client.get(f"/ideas/{idea.id}")))
    assert "responses that cite this idea" in idea_page
    assert "Decided We will trial weekend discharge coordinators" in idea_page
    page = text_of(html_of(client.get(f"/consultations/{cid}/responses/{stored.id}")))
    statement = db.session.get(Statement, sid).text
    assert f"Common ground: {statement}" in page
    assert "Staff idea: Weekend discharge coordinators" in page
    assert "Chosen because every group agreed." in page
    listed = text_of(html_of(client.get(f"/consultations/{cid}/responses")))
    assert "You said, we did" in listed and "We will trial weekend discharge" in listed


def test_only_the_mission_team_may_respond(app, client, published, create_user):
    cid, sid = published["cid"], _consensus_statement(published["run"])
    other_team = create_user(email="other@example.org", team=(published["missions"]["nhs"],))
    citizen = create_user(email="citizen@example.org")
    for person in (other_team, citizen):
        outsider = app.test_client()
        sign_in(outsider, person.email)
        assert outsider.get(f"/manage/consultations/{cid}/responses/new").status_code == 403
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', html_of(outsider.get("/account"))
        ).group(1)
        refused = outsider.post(
            f"/manage/consultations/{cid}/responses/new",
            data={"csrf_token": token, "title": "Sneaky", "status": "done", "answers": ["x"]},
        )
        assert refused.status_code == 403
        assert outsider.get(f"/manage/consultations/{cid}/not-yet-answered").status_code == 403
    with pytest.raises(Refused, match="Only the mission team"):
        responses.record_response(
            other_team,
            db.session.get(Consultation, cid),
            title="Sneaky",
            explanation="",
            status="done",
            reason=None,
            answers=[f"consensus:{sid}"],
        )
    db.session.rollback()
    assert count(MissionResponse) == 0


def test_not_doing_needs_its_reason_said_clearly(published):
    cid, sid = published["cid"], _consensus_statement(published["run"])
    team_client = published["team_client"]
    refused = _record(
        team_client, cid, title="Free parking", status="not_doing", answers=[f"statement:{sid}"]
    )
    assert refused.status_code == 400
    assert "Enter why you are not doing this" in error_summary(html_of(refused))
    assert count(MissionResponse) == 0
    nothing_chosen = _record(team_client, cid, title="Free parking", status="decided")
    assert nothing_chosen.status_code == 400
    assert "Choose at least one finding, statement or idea" in error_summary(
        html_of(nothing_chosen)
    )

    assert (
        _record(
            team_client, cid, title="Free parking", status="decided", answers=[f"statement:{sid}"]
        ).status_code
        == 302
    )
    stored = db.session.scalar(select(MissionResponse))
    url = f"/manage/consultations/{cid}/responses/{stored.id}/update"
    refused = submit_form(team_client, url, {"note": "Costed it.", "status": "not_doing"})
    assert refused.status_code == 400
    assert "Enter why you are not doing this" in error_summary(html_of(refused))
    done = submit_form(
        team_client,
        url,
        {"note": "Costed it.", "status": "not_doing", "reason": "It would cost £4m a year."},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(MissionResponse, stored.id).status is ResponseStatus.NOT_DOING
    page = text_of(html_of(done and team_client.get(done.headers["Location"])))
    assert "Why we are not doing this It would cost £4m a year." in page


def test_updates_are_dated_ordered_and_only_legal_moves_are_made(client, published):
    cid, sid = published["cid"], _consensus_statement(published["run"])
    team, consultation = published["team"], db.session.get(Consultation, published["cid"])
    start = utcnow().replace(microsecond=0) - timedelta(days=40)
    response = responses.record_response(
        team,
        consultation,
        title="Coordinators in 3 trusts",
        explanation="",
        status="decided",
        reason=None,
        answers=[f"consensus:{sid}"],
        now=start,
    )
    responses.add_update(
        team, response, note="Trusts chosen.", status="in_progress", now=start + timedelta(days=10)
    )
    responses.add_update(
        team, response, note="First month went well.", now=start + timedelta(days=20)
    )
    responses.add_update(
        team, response, note="Rolled out.", status="done", now=start + timedelta(days=30)
    )
    db.session.commit()
    with pytest.raises(Refused, match="final"):
        responses.add_update(team, response, note="Again?", status="considering")
    db.session.rollback()

    stored = db.session.get(MissionResponse, response.id)
    assert stored.status is ResponseStatus.DONE
    assert stored.updated_at == start + timedelta(days=30)
    assert [u.created_at for u in stored.updates] == [
        start + timedelta(days=d) for d in (0, 10, 20, 30)
    ]
    page = html_of(client.get(f"/consultations/{cid}/responses/{response.id}"))
    notes = [
        text_of(m)
        for m in re.findall(
            r'<li class="govuk-!-margin-bottom-4" data-update="\d+">(.*?)</li>', page, re.S
        )
    ]
    assert [n.split(" ", 3)[:3] for n in notes] == [
        (start + timedelta(days=d)).strftime("%-d %B %Y").split() for d in (0, 10, 20, 30)
    ]
    assert "Response recorded as Decided" in notes[0]
    assert "Status changed from Decided to In progress Trusts chosen." in notes[1]
    assert notes[2].endswith("First month went well.") and "Status changed" not in notes[2]
    assert "Status changed from In progress to Done Rolled out." in notes[3]
    # The report shows the latest update's date under the finding.
    html = html_of(client.get(f"/consultations/{cid}/report"))
    assert f"(updated {(start + timedelta(days=30)).strftime('%-d %B %Y')})" in _under_finding(
        html, "consensus", sid
    )


def test_not_yet_answered_lists_exactly_the_findings_no_response_links_to(published):
    cid, run = published["cid"], published["run"]
    consultation = db.session.get(Consultation, cid)
    offered = responses.answerables(consultation)
    keys = [a.key for a in offered.findings]
    kinds = {a.kind.value for a in offered.findings}
    assert {"consensus", "divisive", "representative"} <= kinds
    answered = [keys[0], next(k for k in keys if k.startswith("representative:"))]
    direct = offered.statements[-1].statement_id
    responses.record_response(
        published["team"],
        consultation,
        title="Two findings and one statement",
        explanation="",
        status="considering",
        reason=None,
        answers=[*answered, f"statement:{direct}"],
    )
    db.session.commit()

    page = html_of(published["team_client"].get(f"/manage/consultations/{cid}/not-yet-answered"))
    findings = re.search(r"<ul [^>]*data-unanswered-findings>(.*?)</ul>", page, re.S).group(1)
    listed = re.findall(r'data-key="([^"]+)"', findings)
    assert listed == [k for k in keys if k not in answered]
    statements = re.search(r"<ul [^>]*data-unanswered-statements>(.*?)</ul>", page, re.S).group(1)
    listed_statements = set(re.findall(r'data-key="statement:(\d+)"', statements))
    answered_statements = {int(k.rsplit(":", 1)[1]) for k in answered} | {direct}
    assert listed_statements == {
        str(a.statement_id) for a in offered.statements if a.statement_id not in answered_statements
    }
    assert run.id == offered.run.id


def test_what_the_team_writes_is_escaped_everywhere(client, published):
    cid, sid, idea = published["cid"], _consensus_statement(published["run"]), published["idea"]
    hostile = '<script>alert("x")</script><b>bold</b>'
    assert (
        _record(
            published["team_client"],
            cid,
            title=hostile,
            explanation=hostile,
            status="decided",
            answers=[f"consensus:{sid}", f"idea:{idea.id}"],
        ).status_code
        == 302
    )
    rid = db.session.scalar(select(MissionResponse.id))
    for url in (
        f"/consultations/{cid}/report",
        f"/consultations/{cid}/responses",
        f"/consultations/{cid}/responses/{rid}",
        f"/ideas/{idea.id}",
        f"/manage/consultations/{cid}/responses",
    ):
        page = html_of(published["team_client"].get(url))
        assert "<script>alert" not in page and "<b>bold</b>" not in page, url
        assert "&lt;script&gt;alert(" in page, url


def test_a_draft_consultation_has_nothing_to_respond_to(app, missions, create_user):
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    draft = Consultation(mission=missions["nhs"], title="Not open yet")
    db.session.add(draft)
    db.session.commit()
    with pytest.raises(Refused, match="draft"):
        responses.record_response(
            team, draft, title="x", explanation="", status="decided", reason=None, answers=[]
        )
    db.session.rollback()
    client = app.test_client()
    sign_in(client, team.email)
    assert client.get(f"/manage/consultations/{draft.id}/responses/new").status_code == 302
    assert client.get(f"/consultations/{draft.id}/responses").status_code == 200  # team sees it
    assert app.test_client().get(f"/consultations/{draft.id}/responses").status_code == 404


def test_the_demo_responds_to_a_published_finding_of_its_second_round(app, client):
    """The demo's pieces for the discharge question, analysed on the votes only (the whole demo,
    with topics, is loaded by the demo-marked tests)."""
    from deliberate import demo
    from deliberate.services.analysis import run_analysis

    people = demo.load_demo_people()
    list(demo.load_demo_ideas(people))
    list(demo.load_demo_rounds(people["team@example.org"]))
    db.session.commit()
    second = db.session.scalar(
        select(Consultation).where(Consultation.source_key == demo.ROUNDS_KEY + ":2")
    )
    run_analysis(second.id, topics=False)
    db.session.commit()
    assert list(demo.publish_demo_summaries(people["team@example.org"]))
    said = list(demo.load_demo_responses(people["team@example.org"]))
    db.session.commit()
    assert said and not list(demo.load_demo_responses(people["team@example.org"]))  # once

    first = db.session.scalar(select(MissionResponse).order_by(MissionResponse.id))
    assert first.status is ResponseStatus.IN_PROGRESS and len(first.updates) == 2
    finding = next(link for link in first.links if link.kind.is_finding)
    assert {link.kind.value for link in first.links} == {finding.kind.value, "idea"}
    html = html_of(client.get(f"/consultations/{second.id}/report"))
    assert "We will trial weekend discharge coordinators" in _under_finding(
        html, finding.kind.value, finding.statement_id
    )
