"""Ideas from frontline staff: proposing, supporting, and the mission team's public decisions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import delete, func, select

from deliberate.extensions import db
from deliberate.models import (
    Idea,
    IdeaStage,
    IdeaStageChange,
    IdeaSupport,
    IllegalTransition,
    ParticipantRole,
    User,
    utcnow,
)
from deliberate.models.idea import IDEA_TEXT_MAX, IDEA_TITLE_MAX
from deliberate.services import ideas as idea_service
from tests.conftest import make_test_app
from tests.helpers import csrf_token_from, error_summary, html_of, sign_in, submit_form, text_of

IDEA = {
    "title": "Let ward nurses order routine bloods",
    "problem": "Patients wait hours on the ward for a doctor to sign a routine blood request.",
    "proposal": "Let trained ward nurses order a short list of routine blood tests themselves.",
    "evidence": "On my ward we tracked it for a month: the median wait was 3 hours.",
}


def idea_count() -> int:
    return db.session.scalar(select(func.count(Idea.id)))


def history_of(idea: Idea) -> list[tuple[IdeaStage, IdeaStage, str]]:
    changes = db.session.scalars(
        select(IdeaStageChange).where(IdeaStageChange.idea_id == idea.id)
    ).all()
    return [(c.from_stage, c.to_stage, c.reason) for c in changes]


@pytest.fixture
def nhs(missions):
    return missions["nhs"]


@pytest.fixture
def nurse(create_user):
    return create_user(email="sam@example.org", name="Sam Nurse", staff_email="sam@nhs.net")


@pytest.fixture
def citizen(create_user):
    return create_user(email="cit@example.org", name="Chris Citizen")


@pytest.fixture
def team_member(create_user, nhs):
    return create_user(email="team@example.org", name="Tess Team", team=(nhs,))


@pytest.fixture
def make_idea(nhs, nurse):
    """An idea stored directly, optionally already moved along legal stages."""

    def make(stages: tuple[IdeaStage, ...] = (), author=None, mission=None, **fields) -> Idea:
        idea = Idea(
            mission_id=(mission or nhs).id, author_id=(author or nurse).id, **{**IDEA, **fields}
        )
        db.session.add(idea)
        for stage in stages:
            idea.move_to(stage, f"Moved to {stage.label.lower()}", by=None)
        db.session.commit()
        return idea

    return make


def propose(client, data: dict, **kwargs):
    return submit_form(client, "/missions/nhs/ideas/new", {**IDEA, **data}, **kwargs)


def move(client, idea: Idea, stage: str, reason: str, **kwargs):
    return submit_form(
        client,
        f"/ideas/{idea.id}",
        {"stage": stage, "reason": reason},
        action=f"/ideas/{idea.id}/stage",
        **kwargs,
    )


def support(client, idea: Idea, **kwargs):
    page = f"/ideas/{idea.id}"
    return submit_form(client, page, {}, action=f"{page}/support", **kwargs)


def record_learning(client, idea: Idea, learning: str, **kwargs):
    return submit_form(
        client,
        f"/ideas/{idea.id}",
        {"learning": learning},
        action=f"/ideas/{idea.id}/learning",
        **kwargs,
    )


# -- proposing -----------------------------------------------------------------------------------


def test_staff_member_can_propose_an_idea(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    response = propose(client, {}, follow_redirects=True)
    page = html_of(response)
    assert "Your idea has been published" in page
    assert IDEA["title"] in page and IDEA["problem"] in page
    assert IDEA["proposal"] in page and IDEA["evidence"] in page
    assert "Proposed by a verified member of staff in the NHS on" in text_of(page)
    assert "Sam Nurse" not in page  # not unless they choose to show it
    assert "Proposed" in page  # the stage tag, in words

    idea = db.session.scalar(select(Idea))
    assert (idea.mission_id, idea.author_id, idea.stage) == (nhs.id, nurse.id, IdeaStage.PROPOSED)
    assert (idea.title, idea.problem, idea.proposal, idea.evidence) == tuple(IDEA.values())

    listing = html_of(client.get("/missions/nhs/ideas"))
    assert IDEA["title"] in listing and f'href="/ideas/{idea.id}"' in listing
    mission_page = html_of(client.get("/missions/nhs"))
    assert "Ideas from frontline staff" in mission_page and IDEA["title"] in mission_page


def test_citizen_gets_a_403_that_explains_how_to_verify(client, nhs, citizen):
    sign_in(client, "cit@example.org")
    response = client.get("/missions/nhs/ideas/new")
    assert response.status_code == 403
    page = html_of(response)
    assert "Only verified frontline staff can propose ideas" in page
    assert 'href="/account"' in page
    token_page = html_of(client.get("/account"))
    posted = client.post(
        "/missions/nhs/ideas/new", data={**IDEA, "csrf_token": csrf_token_from(token_page)}
    )
    assert posted.status_code == 403
    assert idea_count() == 0


def test_anonymous_visitor_is_sent_to_sign_in(client, nhs):
    response = client.get("/missions/nhs/ideas/new")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    assert "next=%2Fmissions%2Fnhs%2Fideas%2Fnew" in response.headers["Location"]
    listing = html_of(client.get("/missions/nhs/ideas"))
    assert "sign in to propose an idea" in listing


def test_proposing_for_an_unknown_mission_is_404(client, missions, nurse):
    sign_in(client, "sam@example.org")
    assert client.get("/missions/nowhere/ideas/new").status_code == 404
    assert client.get("/missions/nowhere/ideas").status_code == 404
    assert client.get("/ideas/9999").status_code == 404


def test_empty_fields_are_each_explained_and_nothing_is_saved(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    response = propose(client, {"title": "", "problem": "   ", "proposal": "\n\n", "evidence": ""})
    summary = error_summary(html_of(response))
    assert "Enter a title for your idea" in summary
    assert "Enter the problem you see" in summary
    assert "Enter your idea" in summary
    assert "Enter the evidence or experience behind your idea" in summary
    assert 'id="title-error"' in html_of(response)
    assert idea_count() == 0


def test_over_long_fields_are_refused_and_nothing_is_saved(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    too_long = "x" * (IDEA_TEXT_MAX + 1)
    response = propose(
        client,
        {
            "title": "t" * (IDEA_TITLE_MAX + 1),
            "problem": too_long,
            "proposal": too_long,
            "evidence": too_long,
        },
    )
    summary = error_summary(html_of(response))
    assert f"Title must be {IDEA_TITLE_MAX} characters or fewer" in summary
    assert f"Problem must be {IDEA_TEXT_MAX} characters or fewer" in summary
    assert f"Your idea must be {IDEA_TEXT_MAX} characters or fewer" in summary
    assert f"Evidence must be {IDEA_TEXT_MAX} characters or fewer" in summary
    assert idea_count() == 0


def test_fields_at_exactly_the_limit_are_accepted(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    at_limit = "y" * IDEA_TEXT_MAX
    response = propose(client, {"title": "t" * IDEA_TITLE_MAX, "problem": at_limit})
    assert response.status_code == 302
    assert db.session.scalar(select(Idea.problem)) == at_limit


def test_html_and_script_are_shown_as_text_everywhere(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    script = '<script>alert("x")</script><b>bold</b>'
    propose(client, {"title": script, "problem": script}, follow_redirects=True)
    idea = db.session.scalar(select(Idea))
    assert idea.title == script
    for url in [f"/ideas/{idea.id}", "/missions/nhs/ideas", "/missions/nhs"]:
        page = html_of(client.get(url))
        assert "<script>alert" not in page and "<b>bold</b>" not in page, url
        assert "&lt;script&gt;alert(" in page, url


def test_emoji_right_to_left_and_welsh_text_are_stored_exactly(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    data = {
        "title": "Gwell gofal i bobl hŷn ✨🏥",
        "problem": "Mae'r ŵyr yn aros; cleifion yn disgwyl — تأخير طويل في المستشفى",
        "proposal": "Ymweliadau cartref ar ôl gadael yr ysbyty 👩‍⚕️",
        "evidence": "שלום: two lines\nsecond line ŷ ŵ â ê î ô û",
    }
    response = propose(client, data, follow_redirects=True)
    idea = db.session.scalar(select(Idea))
    assert (idea.title, idea.problem, idea.proposal, idea.evidence) == tuple(data.values())
    page = html_of(response)
    for value in data.values():
        for line in value.split("\n"):
            assert str(escape(line)) in page


def test_control_characters_are_removed_before_storing(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    response = propose(client, {"title": "Fewer\x00 forms\x07", "problem": "Tabs\tstay\r\nput"})
    assert response.status_code == 302
    idea = db.session.scalar(select(Idea))
    assert idea.title == "Fewer forms" and idea.problem == "Tabs\tstay\nput"


def test_a_direction_override_in_a_name_or_a_title_turns_no_other_words_around(
    client, nhs, nurse, make_idea
):
    """A right-to-left override (U+202E) left open in a name or an idea's title turned the rest of
    the line around: "Proposed by Sam <U+202E>Nurse, verified staff" read backwards after the name.
    Each is shown isolated from the words around it."""
    nurse.display_name = "Sam \u202eNurse"
    idea = make_idea(title="Fewer \u202eforms")
    idea.show_author_name = True  # the name is shown only when its owner chose so
    db.session.commit()
    page = html_of(client.get(f"/ideas/{idea.id}"))
    assert "Proposed by <bdi>Sam \u202eNurse</bdi>, a verified member of staff" in page
    mission_page = html_of(client.get("/missions/nhs"))
    assert f'href="/ideas/{idea.id}" dir="auto">Fewer \u202eforms</a>' in mission_page


def test_a_double_submitted_proposal_is_stored_once(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    first = propose(client, {})
    assert first.status_code == 302
    again = propose(client, {"title": IDEA["title"].upper() + "!"}, follow_redirects=True)
    assert "You have already proposed this idea" in html_of(again)
    assert IDEA["problem"] in html_of(again)  # taken to the original
    assert idea_count() == 1


def test_the_same_idea_again_after_a_minute_is_a_new_proposal(nhs, nurse):
    first = idea_service.propose_idea(nurse, nhs, **IDEA, now=utcnow() - timedelta(minutes=2))
    second = idea_service.propose_idea(nurse, nhs, **IDEA)
    db.session.commit()
    assert first.id != second.id and idea_count() == 2


def test_the_service_refuses_proposals_from_people_who_are_not_staff(nhs, citizen):
    with pytest.raises(idea_service.Refused, match="Only verified frontline staff"):
        idea_service.propose_idea(citizen, nhs, **IDEA)


# -- who proposed it: a name only when its author chose to show it --------------------------------


def pages_showing(client, idea: Idea) -> dict[str, str]:
    return {
        url: text_of(html_of(client.get(url)))
        for url in [f"/ideas/{idea.id}", "/missions/nhs/ideas", "/missions/nhs"]
    }


def test_the_form_asks_whether_to_show_the_name_and_the_answer_is_no_until_changed(
    client, nhs, nurse
):
    sign_in(client, "sam@example.org")
    page = html_of(client.get("/missions/nhs/ideas/new"))
    assert "Show your name with this idea?" in page
    checked = re.findall(r'<input[^>]*name="show_name"[^>]*>', page)
    assert len(checked) == 2
    assert [("checked" in tag, 'value="no"' in tag) for tag in checked] == [
        (True, True),
        (False, False),
    ]
    assert "proposed by a verified member of staff in the NHS" in text_of(page)


def test_by_default_no_page_names_the_author_not_even_for_the_team(client, create_user, nhs, nurse):
    sign_in(client, "sam@example.org")
    propose(client, {})
    idea = db.session.scalar(select(Idea))
    assert (idea.show_author_name, idea.author_staff_domain) == (False, "nhs.net")
    team = client.application.test_client()
    create_user(email="team@example.org", team=(nhs,))
    sign_in(team, "team@example.org")
    for viewer in (client.application.test_client(), client, team):
        for url, page in pages_showing(viewer, idea).items():
            assert "Sam Nurse" not in page and "sam@" not in page, url
    idea_page = text_of(html_of(client.get(f"/ideas/{idea.id}")))
    assert "Proposed by a verified member of staff in the NHS on" in idea_page


def test_an_author_who_chooses_to_be_named_is_named(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    propose(client, {"show_name": "yes"})
    idea = db.session.scalar(select(Idea))
    assert idea.show_author_name is True
    anonymous = client.application.test_client()
    pages = pages_showing(anonymous, idea)
    expected = "Proposed by Sam Nurse, a verified member of staff in the NHS, on"
    assert expected in pages[f"/ideas/{idea.id}"]
    assert expected in pages["/missions/nhs/ideas"]


def test_a_form_without_the_question_does_not_show_the_name(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    response = propose(client, {})  # IDEA has no show_name: an old form, or a script
    assert response.status_code == 302
    assert db.session.scalar(select(Idea.show_author_name)) is False


def test_an_answer_that_is_not_offered_is_refused_next_to_the_question(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    response = propose(client, {"show_name": "maybe"})
    assert response.status_code == 200
    assert "Choose whether to show your name" in error_summary(html_of(response))
    assert 'id="show_name-error"' in html_of(response)
    assert idea_count() == 0


@pytest.mark.parametrize(
    ("work_email", "kept", "words"),
    [
        ("sam@gosh.nhs.uk", "nhs.uk", "a verified member of staff in the NHS"),
        ("pc@met.police.uk", "police.uk", "a verified member of staff in the police"),
        ("head@school.sch.uk", "sch.uk", "a verified member of staff at a school"),
        ("it@council.example", "council.example", "a verified member of staff at council.example"),
    ],
)
def test_only_the_broad_accepted_domain_is_kept_never_the_employer(
    app, create_user, nhs, work_email, kept, words
):
    app.config["STAFF_EMAIL_DOMAINS"] = (*app.config["STAFF_EMAIL_DOMAINS"], "council.example")
    author = create_user(staff_email=work_email)
    idea = idea_service.propose_idea(author, nhs, **IDEA)
    db.session.commit()
    assert idea.author_staff_domain == kept
    assert idea.author_description == words and idea.public_author_name is None


def test_a_domain_no_longer_accepted_leaves_a_plain_description(app, create_user, nhs):
    author = create_user(staff_email="someone@retired-domain.org")
    idea = idea_service.propose_idea(author, nhs, **IDEA, show_name=True)
    db.session.commit()
    assert idea.author_staff_domain is None
    assert idea.author_description == "a verified member of staff"
    assert idea.public_author_name == "Test Person"


def test_once_the_account_is_gone_the_idea_still_says_where_its_author_worked(client, nhs, nurse):
    idea = idea_service.propose_idea(nurse, nhs, **IDEA, show_name=True)
    db.session.commit()
    db.session.execute(delete(User).where(User.id == nurse.id))
    db.session.commit()
    db.session.expire_all()
    page = text_of(html_of(client.get(f"/ideas/{idea.id}")))
    assert "Proposed by a verified member of staff in the NHS on" in page
    assert "Sam Nurse" not in page


# -- listing -------------------------------------------------------------------------------------


def test_mission_ideas_are_listed_newest_first_and_can_be_filtered_by_stage(
    client, nhs, missions, make_idea
):
    old = make_idea(title="Older idea", created_at=utcnow() - timedelta(days=2))
    new = make_idea(title="Newer idea", stages=(IdeaStage.UNDER_REVIEW,))
    make_idea(title="Idea for growth", mission=missions["growth"])
    page = html_of(client.get("/missions/nhs/ideas"))
    assert page.index(new.title) < page.index(old.title)
    assert "Idea for growth" not in page
    assert "Under review (1)" in page and "Proposed (1)" in page

    filtered = html_of(client.get("/missions/nhs/ideas?stage=under_review"))
    assert "Newer idea" in filtered and "Older idea" not in filtered
    assert "Ideas that are under review" in filtered
    ignored = html_of(client.get("/missions/nhs/ideas?stage=nonsense"))
    assert "Newer idea" in ignored and "Older idea" in ignored


def test_mission_page_shows_the_latest_ideas_with_their_stage(client, nhs, make_idea):
    for n in range(4):
        make_idea(title=f"Idea number {n}", created_at=utcnow() - timedelta(hours=4 - n))
    make_idea(title="Adopted one", stages=(IdeaStage.UNDER_REVIEW, IdeaStage.ADOPTED))
    page = html_of(client.get("/missions/nhs"))
    section = page[page.index("Ideas from frontline staff") :]
    assert "Adopted one" in section and "Adopted" in section
    assert "Idea number 3" in section and "Idea number 0" not in section
    assert 'href="/missions/nhs/ideas"' in section


def test_mission_page_without_ideas_says_so(client, nhs):
    page = html_of(client.get("/missions/nhs"))
    assert "No one has proposed an idea for this mission yet" in page


# -- support -------------------------------------------------------------------------------------


def test_support_is_counted_apart_for_staff_and_citizens(client, create_user, make_idea):
    idea = make_idea()
    supporters = [
        create_user(email="doc@example.org", staff_email="doc@nhs.net"),
        create_user(email="pc@example.org", staff_email="pc@police.uk"),
        create_user(email="cit@example.org"),
    ]
    for person in supporters:
        browser = client.application.test_client()
        sign_in(browser, person.email)
        response = support(browser, idea, follow_redirects=True)
        assert "your support has been counted" in html_of(response)
        assert "You support this idea." in html_of(response)

    roles = sorted(s.role for s in db.session.scalars(select(IdeaSupport)))
    assert roles == [ParticipantRole.CITIZEN, ParticipantRole.STAFF, ParticipantRole.STAFF]
    page = html_of(client.get(f"/ideas/{idea.id}"))
    assert re.search(r"Verified staff\s*</dt>\s*<dd[^>]*>\s*2\s*</dd>", page)
    assert re.search(r"Citizens\s*</dt>\s*<dd[^>]*>\s*1\s*</dd>", page)
    listing = html_of(client.get("/missions/nhs/ideas"))
    assert "Supported by 2 verified staff and 1 citizen" in listing


def test_supporting_twice_is_stored_once_and_refused_politely(client, citizen, make_idea):
    idea = make_idea()
    sign_in(client, "cit@example.org")
    page = html_of(client.get(f"/ideas/{idea.id}"))
    token = csrf_token_from(page)
    first = client.post(f"/ideas/{idea.id}/support", data={"csrf_token": token})
    second = client.post(
        f"/ideas/{idea.id}/support", data={"csrf_token": token}, follow_redirects=True
    )
    assert first.status_code == 302
    assert "You already support this idea" in html_of(second)
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 1


def test_a_support_race_is_settled_by_the_unique_constraint(citizen, make_idea):
    """The service has no check-then-insert gap: the database's constraint decides."""
    idea = make_idea()
    idea_service.support_idea(citizen, idea)
    with pytest.raises(idea_service.AlreadySupported):
        idea_service.support_idea(citizen, idea)
    db.session.commit()  # the first support survives the refused second one
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 1


def test_support_keeps_the_role_held_at_the_time(client, citizen, make_idea):
    idea = make_idea()
    sign_in(client, "cit@example.org")
    support(client, idea)
    citizen.staff_email, citizen.staff_verified_at = "cit@nhs.net", utcnow()
    db.session.commit()
    assert db.session.scalar(select(IdeaSupport.role)) is ParticipantRole.CITIZEN


def test_authors_cannot_support_their_own_idea(client, nurse, make_idea):
    idea = make_idea()
    sign_in(client, "sam@example.org")
    page = html_of(client.get(f"/ideas/{idea.id}"))
    assert "You proposed this idea" in page and "Support this idea" not in page
    response = support(client, idea, follow_redirects=True)
    assert "you cannot support it too" in html_of(response)
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 0


def test_anonymous_visitors_are_asked_to_sign_in_to_support(client, make_idea):
    idea = make_idea()
    page = html_of(client.get(f"/ideas/{idea.id}"))
    assert "Sign in to support this idea" in page
    # An anonymous page has no support form, so take a token from the sign-in page.
    response = submit_form(client, "/sign-in", {}, action=f"/ideas/{idea.id}/support")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sign-in?next=/ideas/{idea.id}"
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 0


# -- the mission team's decisions ----------------------------------------------------------------


def test_team_moves_an_idea_to_under_review_and_the_reason_shows_in_its_history(
    client, team_member, make_idea
):
    idea = make_idea()
    sign_in(client, "team@example.org")
    reason = "We will look at this with the pathology leads in March."
    response = move(client, idea, "under_review", reason, follow_redirects=True)
    page = html_of(response)
    assert "The idea is now under review." in page
    assert reason in page and "moved from proposed to" in page
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.UNDER_REVIEW
    assert history_of(idea) == [(IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW, reason)]
    change = db.session.scalar(select(IdeaStageChange))
    assert change.changed_by_id == team_member.id

    public = html_of(client.application.test_client().get(f"/ideas/{idea.id}"))
    assert reason in public and "Under review" in public
    assert "Move this idea to" not in public


def test_the_team_is_offered_only_legal_next_stages(client, team_member, make_idea):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW,))
    sign_in(client, "team@example.org")
    page = html_of(client.get(f"/ideas/{idea.id}"))
    offered = re.findall(r'name="stage" type="radio" value="([a-z_]+)"', page)
    assert offered == ["being_trialled", "adopted", "not_taken_forward"]


def test_an_admin_can_move_ideas_of_any_mission(client, create_user, make_idea):
    admin = create_user(email="admin@example.org", admin=True)
    idea = make_idea()
    sign_in(client, "admin@example.org")
    assert move(client, idea, "under_review", "Looking at it").status_code == 302
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.UNDER_REVIEW
    assert history_of(idea) == [(IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW, "Looking at it")]
    assert db.session.scalar(select(IdeaStageChange.changed_by_id)) == admin.id


def test_illegal_moves_are_refused_with_a_clear_message(client, team_member, make_idea):
    idea = make_idea()
    sign_in(client, "team@example.org")
    response = move(client, idea, "adopted", "Great idea")
    assert response.status_code == 400
    assert "An idea that is proposed can only move to under review" in error_summary(
        html_of(response)
    )
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.PROPOSED and history_of(idea) == []

    for bad_stage, message in [
        ("banana", "Choose the stage to move this idea to"),
        ("", "Choose the stage to move this idea to"),
        ("proposed", "This idea is already proposed"),
    ]:
        response = move(client, idea, bad_stage, "A reason")
        assert message in error_summary(html_of(response)), bad_stage
    assert history_of(idea) == []


def test_a_decided_idea_cannot_move_again(client, team_member, make_idea):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW, IdeaStage.ADOPTED))
    sign_in(client, "team@example.org")
    page = html_of(client.get(f"/ideas/{idea.id}"))
    assert "That decision is final" in page and 'name="stage"' not in page
    response = move(client, idea, "under_review", "Second thoughts")
    assert "This idea is adopted: that decision is final" in error_summary(html_of(response))
    assert len(history_of(idea)) == 2


def test_a_move_needs_a_public_reason_of_sensible_length(client, team_member, make_idea):
    idea = make_idea()
    sign_in(client, "team@example.org")
    for reason, message in [
        ("", "Enter the public reason for this move"),
        ("  \r\n ", "Enter the public reason for this move"),
        ("r" * (IDEA_TEXT_MAX + 1), f"Reason must be {IDEA_TEXT_MAX} characters or fewer"),
    ]:
        response = move(client, idea, "under_review", reason)
        assert response.status_code == 400
        assert message in error_summary(html_of(response))
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.PROPOSED and history_of(idea) == []


def test_a_double_submitted_move_is_recorded_once(client, team_member, make_idea):
    idea = make_idea()
    sign_in(client, "team@example.org")
    page = html_of(client.get(f"/ideas/{idea.id}"))
    data = {"csrf_token": csrf_token_from(page), "stage": "under_review", "reason": "Reviewing"}
    assert client.post(f"/ideas/{idea.id}/stage", data=data).status_code == 302
    again = client.post(f"/ideas/{idea.id}/stage", data=data)
    assert "This idea is already under review" in error_summary(html_of(again))
    assert len(history_of(idea)) == 1


def test_people_outside_the_mission_team_get_403_on_stage_and_learning(
    client, create_user, missions, make_idea
):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW, IdeaStage.BEING_TRIALLED))
    create_user(email="other-team@example.org", team=(missions["growth"],))
    create_user(email="mod@example.org", moderator=True)
    create_user(email="cit@example.org")
    outsiders = ["other-team@example.org", "mod@example.org", "cit@example.org", "sam@example.org"]
    for email in outsiders:
        person = client.application.test_client()
        sign_in(person, email)
        page = html_of(person.get(f"/ideas/{idea.id}"))
        assert "Move this idea to" not in page and "What the trial learnt" not in page
        assert move(person, idea, "adopted", "Sneaky").status_code == 403, email
        assert record_learning(person, idea, "Sneaky").status_code == 403, email
    anonymous = client.application.test_client()
    for action, data in [("stage", {"stage": "adopted", "reason": "Sneaky"}), ("learning", {})]:
        response = submit_form(anonymous, "/sign-in", data, action=f"/ideas/{idea.id}/{action}")
        assert response.status_code == 403
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.BEING_TRIALLED and idea.trial_learning is None
    assert len(history_of(idea)) == 2


def test_trial_learning_is_recorded_and_shown(client, team_member, make_idea):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW,))
    sign_in(client, "team@example.org")
    move(client, idea, "being_trialled", "Trial on two wards for three months")
    learning = "Waits fell from 3 hours to 40 minutes; no extra wrong tests."
    response = record_learning(client, idea, learning, follow_redirects=True)
    page = html_of(response)
    assert "What the trial learnt has been saved." in page
    assert "What the trial learnt" in page and learning in page
    db.session.refresh(idea)
    assert idea.trial_learning == learning

    move(client, idea, "adopted", "Rolling out to every ward")
    final = "After rollout: waits fell on every ward."
    record_learning(client, idea, final)
    db.session.refresh(idea)
    assert idea.stage is IdeaStage.ADOPTED and idea.trial_learning == final
    public = html_of(client.application.test_client().get(f"/ideas/{idea.id}"))
    assert final in public


def test_learning_is_refused_for_an_idea_never_trialled(client, team_member, make_idea):
    sign_in(client, "team@example.org")
    for stages in [(), (IdeaStage.UNDER_REVIEW,), (IdeaStage.UNDER_REVIEW, IdeaStage.ADOPTED)]:
        idea = make_idea(stages=stages, title=f"Idea {len(stages)}")
        response = record_learning(client, idea, "We learnt a lot")
        assert response.status_code == 400
        assert "Only an idea that is being trialled, or has been" in error_summary(
            html_of(response)
        )
        db.session.refresh(idea)
        assert idea.trial_learning is None


def test_empty_or_over_long_learning_is_refused(client, team_member, make_idea):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW, IdeaStage.BEING_TRIALLED))
    sign_in(client, "team@example.org")
    for learning, message in [
        (" ", "Enter what the trial learnt"),
        ("l" * (IDEA_TEXT_MAX + 1), f"must be {IDEA_TEXT_MAX} characters or fewer"),
    ]:
        assert message in error_summary(html_of(record_learning(client, idea, learning)))
    db.session.refresh(idea)
    assert idea.trial_learning is None


@pytest.mark.parametrize("start", list(IdeaStage))
@pytest.mark.parametrize("target", list(IdeaStage))
def test_the_model_allows_exactly_the_documented_moves(start, target):
    legal = {
        (IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW),
        (IdeaStage.UNDER_REVIEW, IdeaStage.BEING_TRIALLED),
        (IdeaStage.UNDER_REVIEW, IdeaStage.ADOPTED),
        (IdeaStage.UNDER_REVIEW, IdeaStage.NOT_TAKEN_FORWARD),
        (IdeaStage.BEING_TRIALLED, IdeaStage.ADOPTED),
        (IdeaStage.BEING_TRIALLED, IdeaStage.NOT_TAKEN_FORWARD),
    }
    idea = Idea(title="t", problem="p", proposal="i", stage=start)
    if (start, target) in legal:
        change = idea.move_to(target, "Because", by=None)
        assert idea.stage is target and change.from_stage is start
    else:
        with pytest.raises(IllegalTransition):
            idea.move_to(target, "Because", by=None)
        assert idea.stage is start


def test_the_model_refuses_a_move_without_a_reason():
    idea = Idea(title="t", problem="p", proposal="i")
    with pytest.raises(IllegalTransition, match="public reason"):
        idea.move_to(IdeaStage.UNDER_REVIEW, "   ", by=None)
    assert idea.stage is IdeaStage.PROPOSED and idea.history == []


# -- forms without a token, and too many writes --------------------------------------------------


def test_forms_without_their_csrf_token_are_rejected_and_save_nothing(
    client, nurse, team_member, make_idea
):
    idea = make_idea(stages=(IdeaStage.UNDER_REVIEW, IdeaStage.BEING_TRIALLED))
    sign_in(client, "sam@example.org")
    assert client.post("/missions/nhs/ideas/new", data=IDEA).status_code == 400
    team = client.application.test_client()
    sign_in(team, "team@example.org")
    assert team.post(f"/ideas/{idea.id}/support", data={}).status_code == 400
    stage = team.post(f"/ideas/{idea.id}/stage", data={"stage": "adopted", "reason": "x"})
    assert stage.status_code == 400 and "Your form expired" in html_of(stage)
    assert team.post(f"/ideas/{idea.id}/learning", data={"learning": "x"}).status_code == 400
    db.session.refresh(idea)
    assert idea_count() == 1 and idea.stage is IdeaStage.BEING_TRIALLED
    assert idea.trial_learning is None
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 0


def test_proposals_and_supports_are_rate_limited_per_person(
    database_url, tmp_path, create_user, nhs, nurse, make_idea
):
    limited = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    ideas = [make_idea(title=f"Idea {n}", author=nurse) for n in range(12)]
    create_user(email="keen@example.org")
    create_user(email="calm@example.org")

    keen = limited.test_client()
    sign_in(keen, "keen@example.org")
    statuses = [support(keen, idea).status_code for idea in ideas[:11]]
    assert statuses == [302] * 10 + [429]
    assert "too many" in html_of(support(keen, ideas[11])).lower()

    calm = limited.test_client()  # same address, another person: their own allowance
    sign_in(calm, "calm@example.org")
    assert support(calm, ideas[0]).status_code == 302
    assert db.session.scalar(select(func.count(IdeaSupport.id))) == 10 + 1

    proposer = limited.test_client()
    sign_in(proposer, "sam@example.org")
    statuses = [propose(proposer, {"title": f"Proposal {n}"}).status_code for n in range(11)]
    assert statuses == [302] * 10 + [429]
    assert db.session.scalar(select(func.count(Idea.id))) == 12 + 10


def test_the_title_limit_shows_as_a_character_count_while_typing(client, nhs, nurse):
    sign_in(client, "sam@example.org")
    page = html_of(client.get("/missions/nhs/ideas/new"))
    title_field = re.search(r'<div class="govuk-form-group govuk-character-count"[^>]*>', page)
    assert title_field and f'data-maxlength="{IDEA_TITLE_MAX}"' in title_field.group(0)
    assert f"You can enter up to {IDEA_TITLE_MAX} characters" in page
    # A line break typed into the title becomes a space: a title stays one line.
    assert propose(client, {"title": "Protected\r\nbreaks"}).status_code == 302
    assert db.session.scalar(select(Idea.title)) == "Protected breaks"
