"""Who may open what: every route of the app, for every kind of visitor, GET and POST.

The routes are read from ``app.url_map``, so a route added without a row in ``EXPECTED`` fails
``test_every_route_has_a_row`` with its name. To add a route: give its endpoint a row, usually one
of the named groups below (``PUBLIC``, ``SIGNED_IN``, ``TEAM_ONLY``, ``ADMIN_ONLY``...), or
``everyone(default, kind=outcome, ...)`` for a rule of its own; and if its URL has a new variable,
say in ``World.url_values`` which row of the world fills it.

What a row means:
- a GET must answer exactly: 200, a redirect to sign-in, 403, 404, a redirect elsewhere, or 400;
- a POST is sent with a valid CSRF token and empty data, so it may well be refused as invalid:
  the point is who is stopped at the door (403, redirect to sign-in, 404) and who gets past it
  (anything else but a 500). ``OK``, ``ELSEWHERE`` and ``BAD_REQUEST`` all mean "gets past".

Each visitor kind builds the world once and then walks every route: reads first, then writes,
then the two requests that change who the visitor is (confirming a staff link, signing out).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from deliberate import create_app
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Idea,
    IdeaStage,
    IndicatorDirection,
    ModerationMode,
    Participant,
    ParticipantRole,
    SimilarityCheck,
    StatementOrigin,
    User,
)
from deliberate.services import accounts, api_tokens, following, indicators, responses
from deliberate.services.statements import write_statement
from tests.helpers import csrf_token_from, html_of, sign_in
from tests.test_reports import add_votes, analyse

VISITORS = (
    "anonymous",
    "citizen",
    "staff_pending",  # asked to verify a work address, has not opened the link yet
    "staff",  # verified frontline staff
    "team",  # on the team of the world's mission
    "other_team",  # on the team of another mission
    "moderator",
    "admin",
)


class Outcome(enum.Enum):
    OK = "200"
    SIGN_IN = "a redirect to sign-in"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    ELSEWHERE = "a redirect, not to sign-in"
    BAD_REQUEST = "400"
    NEEDS_TOKEN = "401 (an API write: a personal API token, never a session cookie)"


OK, SIGN_IN, FORBIDDEN, NOT_FOUND, ELSEWHERE, BAD_REQUEST, NEEDS_TOKEN = Outcome
GETS_PAST = {OK, ELSEWHERE, BAD_REQUEST}  # for a POST with empty data, these all mean "let in"


def everyone(default: Outcome, **by_kind: Outcome) -> dict[str, Outcome]:
    assert set(by_kind) <= set(VISITORS), set(by_kind) - set(VISITORS)
    return {kind: by_kind.get(kind, default) for kind in VISITORS}


# -- the named groups -----------------------------------------------------------------------------

PUBLIC = everyone(OK)
SIGNED_IN = everyone(OK, anonymous=SIGN_IN)
# Sign in and register: a signed-in visitor is sent on to their account.
SIGNED_OUT = everyone(ELSEWHERE, anonymous=OK)
STAFF_ONLY = everyone(FORBIDDEN, anonymous=SIGN_IN, staff=OK)
# The "Manage consultations" overview: any team, moderators and admins.
MANAGERS = everyone(
    OK, anonymous=SIGN_IN, citizen=FORBIDDEN, staff_pending=FORBIDDEN, staff=FORBIDDEN
)
TEAM_ONLY = everyone(FORBIDDEN, anonymous=SIGN_IN, team=OK, admin=OK)
# A team page for a move the world cannot make now (its consultation is open, its statement is a
# comment, its run is already public): the team is sent back to the page that says why.
TEAM_ONLY_NOT_NOW = everyone(FORBIDDEN, anonymous=SIGN_IN, team=ELSEWHERE, admin=ELSEWHERE)
# The team's decisions on an idea are refused outright, signed in or not.
TEAM_DECIDES = everyone(FORBIDDEN, team=OK, admin=OK)
MODERATORS = everyone(FORBIDDEN, anonymous=SIGN_IN, team=OK, moderator=OK, admin=OK)
ADMIN_ONLY = everyone(FORBIDDEN, anonymous=SIGN_IN, admin=OK)
# The JSON API's writes act for the owner of the bearer token alone: a visitor signed in to the site
# (the matrix sends its session cookie and a CSRF token) is refused all the same.
API_TOKEN_ONLY = everyone(NEEDS_TOKEN)

EXPECTED: dict[str, dict[str, Outcome]] = {
    # pages anyone reads
    "missions.home": PUBLIC,
    "missions.mission": PUBLIC,
    "missions.indicator_csv": PUBLIC,
    "pages.accessibility": PUBLIC,
    "pages.cookies": PUBLIC,
    "pages.privacy": PUBLIC,
    "pages.healthz": PUBLIC,
    "pages.readyz": PUBLIC,
    "pages.moderation_policy": PUBLIC,
    # accounts
    "auth.register": SIGNED_OUT,
    "auth.sign_in": SIGNED_OUT,
    "auth.sign_out": PUBLIC,
    "auth.account": SIGNED_IN,
    "auth.request_staff_verification": SIGNED_IN,
    # The world's link belongs to the person awaiting verification: anyone else signed in is
    # told it is not valid for them.
    "auth.verify_staff": everyone(BAD_REQUEST, anonymous=SIGN_IN, staff_pending=ELSEWHERE),
    # confirming an address and resetting a password: the pages that follow a form send a
    # visitor who did not just send it back to the form; the world's token is no such link
    "auth.check_email": everyone(ELSEWHERE),
    "auth.confirm_email": everyone(BAD_REQUEST),
    "auth.confirm_email_now": everyone(BAD_REQUEST),
    "auth.forgot_password": PUBLIC,
    "auth.reset_link_sent": everyone(ELSEWHERE),
    "auth.reset_password": everyone(BAD_REQUEST),
    # managing one's own account
    "auth.change_password": SIGNED_IN,
    "auth.change_email": SIGNED_IN,
    # The world's token is not an email-change link: anyone signed in is told it is not valid.
    "auth.confirm_email_change": everyone(BAD_REQUEST, anonymous=SIGN_IN),
    "auth.my_data": SIGNED_IN,
    "auth.delete_account": SIGNED_IN,
    # taking part (the world's consultation is open to anonymous participants)
    "consultations.show": PUBLIC,
    "consultations.answers": PUBLIC,
    # Where you stand: the visitor's own answers only (cookie or account), never a participant
    # named in the URL; before answering it says how many answers are needed.
    "consultations.stand": PUBLIC,
    "consultations.statement": PUBLIC,
    "consultations.about_you": PUBLIC,
    "consultations.vote": PUBLIC,
    "consultations.comment": PUBLIC,
    # A held comment is shown only to its author (the world's has another author): 404 for
    # everyone else, whatever session they send.
    "consultations.held_comment": everyone(NOT_FOUND),
    "consultations.post_held_comment": everyone(NOT_FOUND),
    # Reporting a statement: anyone who may take part (the world allows anonymous taking part).
    "consultations.report_statement": PUBLIC,
    # The embed page and its answers, shown in other websites' frames: anyone may take part
    # anonymously where the consultation allows it (nobody is signed in inside a frame). An
    # answer with the site's CSRF token, not the frame's, gets the "open in a new tab" 400.
    "embed.consultation": PUBLIC,
    "embed.answer": PUBLIC,
    # following a consultation by email: anyone who may see it. The world's token is no
    # confirmation link; an unknown unsubscribe link says there is nothing (left) to unsubscribe.
    "following.follow": PUBLIC,
    "following.check_email": everyone(ELSEWHERE),
    "following.confirm": everyone(BAD_REQUEST),
    "following.confirm_now": everyone(BAD_REQUEST),
    "following.unsubscribe": PUBLIC,
    "following.invitation": everyone(ELSEWHERE),
    # the published summary and its downloads
    "reports.report": PUBLIC,
    "reports.run_report": PUBLIC,
    "reports.statements": PUBLIC,
    "reports.results_json": PUBLIC,
    "reports.polis_export": PUBLIC,
    # "You said, we did": the team's responses are public
    "responses.responses_list": PUBLIC,
    "responses.response": PUBLIC,
    # open data: every published consultation, its zip, the catalogue and the run's schema
    "open_data.index": PUBLIC,
    "open_data.catalogue": PUBLIC,
    "open_data.run_schema": PUBLIC,
    "open_data.consultation_zip": PUBLIC,
    # ideas from frontline staff
    "ideas.mission_ideas": PUBLIC,
    "ideas.idea": PUBLIC,
    "ideas.new": STAFF_ONLY,
    "ideas.support": SIGNED_IN,
    "ideas.move": TEAM_DECIDES,
    "ideas.learning": TEAM_DECIDES,
    # the interface language switcher: a GET link that remembers the choice and goes back
    "language.switch": everyone(ELSEWHERE),
    # running consultations
    "manage.index": MANAGERS,
    "manage.new_consultation": TEAM_ONLY,
    "manage.consultation": TEAM_ONLY,
    "manage.edit_consultation": TEAM_ONLY,
    "manage.add_seed_statement": TEAM_ONLY,
    # the consultation's languages, and the team's translations of its title and statements
    "manage.languages_page": TEAM_ONLY,
    "manage.translate_consultation": TEAM_ONLY,
    "manage.translate_statement": TEAM_ONLY,
    "manage.edit_seed_statement": TEAM_ONLY_NOT_NOW,
    "manage.remove_seed_statement": TEAM_ONLY_NOT_NOW,
    "manage.open_consultation": TEAM_ONLY_NOT_NOW,
    "manage.close_consultation": TEAM_ONLY,
    "manage.reopen_consultation": TEAM_ONLY_NOT_NOW,
    "manage.delete_consultation": TEAM_ONLY_NOT_NOW,
    "manage.start_next_round": TEAM_ONLY,
    "manage.analysis": TEAM_ONLY,
    "manage.run_analysis_now": TEAM_ONLY,
    "manage.background_jobs": TEAM_ONLY,
    "manage.publish_run": TEAM_ONLY_NOT_NOW,
    "manage.data_download": TEAM_ONLY,
    "manage.compare_rounds": TEAM_ONLY,
    "manage.responses": TEAM_ONLY,
    "manage.new_response": TEAM_ONLY,
    "manage.update_response": TEAM_ONLY,
    "manage.not_yet_answered": TEAM_ONLY,
    # the indicator that measures the mission's goal, and its values
    "manage.indicator": TEAM_ONLY,
    "manage.edit_indicator": TEAM_ONLY,
    "manage.add_indicator_value": TEAM_ONLY,
    "manage.edit_indicator_value": TEAM_ONLY,
    "manage.remove_indicator_value": TEAM_ONLY,
    "manage.moderation": MODERATORS,
    "manage.statement": MODERATORS,
    "manage.moderate": MODERATORS,
    "manage.bulk_moderate": MODERATORS,
    "manage.similar_statements": MODERATORS,
    # Participation that may be scripted: those who moderate decide what the analysis counts.
    "manage.participation_review": MODERATORS,
    "manage.review_participants": MODERATORS,
    "manage.redact": MODERATORS,
    "manage.moderation_log_csv": MODERATORS,
    # administration
    "admin.people": ADMIN_ONLY,
    "admin.person": ADMIN_ONLY,
    "admin.change_role": ADMIN_ONLY,
    "admin.add_to_team": ADMIN_ONLY,
    "admin.remove_from_team": ADMIN_ONLY,
    "admin.undo_staff_verification": ADMIN_ONLY,
    "admin.sign_out_everywhere": ADMIN_ONLY,
    "admin.audit": ADMIN_ONLY,
    "admin.audit_csv": ADMIN_ONLY,
    "admin.edit_moderation_policy": ADMIN_ONLY,
    # personal API tokens: the world's token is the citizen's; anyone else's is "not found"
    "auth.create_api_token": SIGNED_IN,
    "auth.revoke_api_token": everyone(NOT_FOUND, anonymous=SIGN_IN, citizen=OK),
    # the JSON API (/api/v1): reads are public, writes need a personal API token
    "api_docs.openapi_json": PUBLIC,
    "api_docs.docs": PUBLIC,
    "api.list_missions": PUBLIC,
    "api.get_mission": PUBLIC,
    "api.list_consultations": PUBLIC,
    "api.get_consultation": PUBLIC,
    "api.list_statements": PUBLIC,
    "api.get_statement": PUBLIC,
    "api.list_runs": PUBLIC,
    "api.get_run": PUBLIC,
    "api.list_ideas": PUBLIC,
    "api.get_idea": PUBLIC,
    "api.vote": API_TOKEN_ONLY,
    "api.add_statement": API_TOKEN_ONLY,
    "api.held_statement": API_TOKEN_ONLY,
    "api.post_held_statement": API_TOKEN_ONLY,
}

# Requests that change who the visitor is go last, in this order.
CHANGES_THE_VISITOR = (("GET", "auth.verify_staff"), ("POST", "auth.sign_out"))
NOT_CHECKED = {"static"}
# The URL variables the world fills (a route with a new one needs it added to build_world).
URL_VARIABLES = (
    "slug",
    "consultation_id",
    "statement_id",
    "run_id",
    "check_id",
    "held_token",
    "idea_id",
    "token",
    "user_id",
    "role",
    "change",
    "api_token_id",
    "response_id",
    "marker",
    "value_id",
    "code",
)


# -- the world ------------------------------------------------------------------------------------


@dataclass
class World:
    """One of everything a URL can name, and a person of every kind."""

    people: dict[str, User] = field(default_factory=dict)
    url_values: dict[str, object] = field(default_factory=dict)


def build_world(create_user, missions) -> World:
    nhs, growth = missions["nhs"], missions["growth"]
    world = World()
    world.people = {
        "citizen": create_user(email="citizen@example.org"),
        "staff_pending": create_user(email="pending@example.org"),
        "staff": create_user(email="staff@example.org", staff_email="staff@nhs.net"),
        "team": create_user(email="team@example.org", team=(nhs,)),
        "other_team": create_user(email="other@example.org", team=(growth,)),
        "moderator": create_user(email="moderator@example.org", moderator=True),
        "admin": create_user(email="admin@example.org", admin=True),
    }
    token = accounts.start_staff_verification(
        world.people["staff_pending"], "pending@nhs.net", ("nhs.net",), timedelta(hours=24)
    )
    subject = create_user(email="subject@example.org", name="Someone Else")
    author = create_user(email="author@example.org", staff_email="author@nhs.net")

    consultation = Consultation(
        mission=nhs,
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
        service_areas="A&E\nGP surgery",
    )
    db.session.add(consultation)
    db.session.flush()
    seeds = [
        write_statement(consultation, text, origin=StatementOrigin.SEED)
        for text in ("Clinics should open on Saturdays.", "Waiting times should be published.")
    ]
    consultation.open()
    writer = Participant(
        consultation_id=consultation.id,
        role=ParticipantRole.CITIZEN,
        anonymous_token_hash=uuid.uuid4().hex,
    )
    db.session.add(writer)
    db.session.flush()
    comment = write_statement(
        consultation, "Nights are short-staffed.", origin=StatementOrigin.PARTICIPANT, author=writer
    )
    statements = [*seeds, comment]
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {0: 1, 1: -1, 2: 1}),
            (ParticipantRole.STAFF, {0: -1, 1: 1, 2: 0}),
            (ParticipantRole.CITIZEN, {0: 1, 2: 1}),
        ],
    )
    check = SimilarityCheck(
        consultation_id=consultation.id,
        text="Open clinics on Saturday.",
        author_token_hash="0" * 64,  # a browser none of the visitors is
    )
    idea = Idea(
        mission_id=nhs.id,
        author_id=author.id,
        title="Protected breaks",
        problem="Nurses skip breaks.",
        proposal="A cover rota for breaks.",
        evidence="A ward survey.",
        stage=IdeaStage.UNDER_REVIEW,
    )
    db.session.add_all([check, idea])
    db.session.commit()
    run = analyse(consultation.id)  # the votes only: well under a second
    run.published_at = run.finished_at
    api_token = api_tokens.create_token(world.people["citizen"], "The citizen's program").token
    response = responses.record_response(
        world.people["team"],
        consultation,
        title="We will open two clinics on Saturdays",
        explanation="",
        status="decided",
        reason=None,
        answers=[f"statement:{seeds[0].id}", f"idea:{idea.id}"],
    )
    indicator = indicators.set_indicator(
        world.people["team"],
        nhs,
        indicators.IndicatorSettings(
            "Patients waiting over 18 weeks",
            "%",
            "NHS England",
            None,
            42,
            date(2023, 3, 31),
            8,
            date(2029, 3, 31),
            IndicatorDirection.LOWER,
        ),
    )
    value = indicators.add_value(
        world.people["team"], indicator, indicators.ValueInput(date(2024, 3, 31), 41, "NHS")
    )
    db.session.commit()

    world.url_values = {
        "slug": nhs.slug,
        "consultation_id": consultation.id,
        "statement_id": comment.id,  # live (post-moderated), so both votable and moderatable
        "run_id": run.id,
        "check_id": check.id,
        "held_token": check.token,
        "idea_id": idea.id,
        "token": token,
        "user_id": subject.id,
        "role": "moderator",
        "change": "grant",
        "api_token_id": api_token.id,
        "response_id": response.id,
        "marker": following.invitation_marker(consultation.id),
        "value_id": value.id,
        "code": "cy",
    }
    assert set(world.url_values) == set(URL_VARIABLES)
    return world


# -- walking the routes ---------------------------------------------------------------------------


def _app_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_CHECKED]


def _requests(app) -> list[tuple[str, object]]:
    """(method, rule) pairs in the order they are sent: reads, writes, then who-you-are changes."""
    pairs = [
        (method, rule)
        for rule in sorted(_app_rules(app), key=lambda r: (r.endpoint, r.rule))
        for method in ("GET", "POST")
        if method in rule.methods
    ]
    last = [p for key in CHANGES_THE_VISITOR for p in pairs if (p[0], p[1].endpoint) == key]
    rest = [p for p in pairs if p not in last]
    return [p for p in rest if p[0] == "GET"] + [p for p in rest if p[0] == "POST"] + last


def _url(rule, world: World) -> str:
    values = {name: world.url_values[name] for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def _outcome(response) -> Outcome | int:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return SIGN_IN if "/sign-in" in response.headers.get("Location", "") else ELSEWHERE
    known = {200: OK, 400: BAD_REQUEST, 401: NEEDS_TOKEN, 403: FORBIDDEN, 404: NOT_FOUND}
    return known.get(status, status)


def _matches(method: str, expected: Outcome, got: Outcome | int) -> bool:
    if method == "GET":
        return got is expected
    if expected in GETS_PAST:  # a POST let in may answer anything (409, 429...) but a 500
        return got in GETS_PAST or (isinstance(got, int) and got != 401 and got < 500)
    return got is expected


def test_every_route_has_a_row():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    endpoints = {r.endpoint for r in _app_rules(app)}
    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, f"routes without a row in EXPECTED (say who may use them): {missing}"
    stale = sorted(EXPECTED.keys() - endpoints)
    assert not stale, f"rows in EXPECTED for routes that no longer exist: {stale}"
    unfilled = sorted(
        f"{r.endpoint} <{name}>"
        for r in _app_rules(app)
        for name in r.arguments - set(URL_VARIABLES)
    )
    assert not unfilled, f"URL variables the world does not fill (see World.url_values): {unfilled}"


@pytest.mark.parametrize("visitor", VISITORS)
def test_who_may_open_what(app, client, create_user, missions, visitor):
    world = build_world(create_user, missions)
    if visitor != "anonymous":
        sign_in(client, world.people[visitor].email)
    token_page = "/sign-in" if visitor == "anonymous" else "/account"
    csrf_token = csrf_token_from(html_of(client.get(token_page)))

    wrong = []
    for method, rule in _requests(app):
        url = _url(rule, world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token})
        if rule.endpoint not in EXPECTED:
            wrong.append(f"{method} {url} ({rule.endpoint}): no row in EXPECTED")
            continue
        expected, got = EXPECTED[rule.endpoint][visitor], _outcome(response)
        if not _matches(method, expected, got):
            shown = got.value if isinstance(got, Outcome) else got
            wrong.append(
                f"{method} {url} ({rule.endpoint}): expected {expected.value}, got {shown}"
            )
    assert not wrong, f"as {visitor}:\n" + "\n".join(wrong)
