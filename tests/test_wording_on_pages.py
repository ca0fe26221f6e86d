"""Counts read as English on every page: "1 participant", never "1 participants", and thousands
with separators. Every page a team member, an administrator and an anonymous visitor can open is
rendered over the permission matrix's world (one of everything), and again over a consultation
with one of each count, and its text is scanned."""

from __future__ import annotations

import re

import pytest

from deliberate.extensions import db
from deliberate.models import Consultation, ModerationMode, StatementOrigin
from deliberate.services import participation
from deliberate.services.participation import Visitor
from deliberate.services.statements import write_statement
from tests.helpers import html_of, sign_in, text_of
from tests.test_permission_matrix import _app_rules, build_world

ONE_AND_A_PLURAL = re.compile(
    r"\b1 (participants|comments|points|statements|people|votes|answers|supporters|citizens"
    r"|ideas|events|minutes|hours|seconds|days|tries|times)\b"
)
# A four-digit count without its separator, as in "1150 of 1937".
NO_SEPARATOR = re.compile(r"\b\d{4,} (of|participants|people|votes|statements|comments)\b")


def one_of_each(missions) -> Consultation:
    """A consultation with one statement, one participant, one vote and one comment awaiting."""
    consultation = Consultation(
        mission=missions["nhs"],
        title="One of each",
        moderation_mode=ModerationMode.PRE,
        allow_anonymous=True,
    )
    db.session.add(consultation)
    db.session.flush()
    seed = write_statement(consultation, "Clinics should open late.", origin=StatementOrigin.SEED)
    consultation.open()
    db.session.flush()
    visitor = Visitor(token="one-of-each", fresh_token="one-of-each")
    participation.cast_vote(consultation, visitor, seed.id, participation.VoteChoice.AGREE)
    participation.add_comment(consultation, visitor, "Parking should be free for carers.")
    db.session.commit()
    return consultation


def pages(app, client, values: dict) -> dict[str, str]:
    """Every HTML page a GET of the app's routes gives this client, by URL."""
    found = {}
    for rule in _app_rules(app):
        if "GET" not in rule.methods or not set(rule.arguments) <= set(values):
            continue
        if rule.endpoint == "language.switch":  # it would turn every later page into Welsh
            continue
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            found[url] = text_of(html_of(response))
    return found


@pytest.mark.parametrize("visitor", ["anonymous", "team", "admin"])
def test_no_page_says_1_participants(app, client, create_user, missions, visitor):
    world = build_world(create_user, missions)
    single = one_of_each(missions)
    if visitor != "anonymous":
        sign_in(client, world.people[visitor].email)
    seen = pages(app, client, world.url_values)
    seen |= pages(app, client, {**world.url_values, "consultation_id": single.id})
    assert len(seen) > 20
    wrong = {
        url: sorted({m.group(0) for m in pattern.finditer(text)})
        for url, text in seen.items()
        for pattern in (ONE_AND_A_PLURAL, NO_SEPARATOR)
        if pattern.search(text)
    }
    assert not wrong, wrong
    show = seen[f"/consultations/{single.id}"]
    assert "1 person has taken part so far." in show
    assert "You have answered 0 of 1 statement." in show
