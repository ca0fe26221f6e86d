"""The mission team's consultation pages in Welsh (issue 16, first half of templates/manage/).

Every text of these templates is translatable, and a team member whose browser asks for Welsh
reads the consultation's page, its forms' labels and errors, its confirmation pages and the
messages after a move in Welsh, with counts in the Welsh plural forms. What people wrote (the
question, the statements) is never translated."""

from __future__ import annotations

import pytest

from deliberate.config import PROJECT_ROOT
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ConsultationState,
    IdeaStage,
    ModerationMode,
    Statement,
    StatementOrigin,
    utcnow,
)
from deliberate.services.statements import write_statement
from tests.helpers import error_summary, html_of, sign_in, submit_form, text_of
from tests.test_manage import comment, make_consultation
from tests.test_team_tools import _idea as waiting_idea
from tests.test_translations import untranslated

WELSH = {"Accept-Language": "cy"}
CONVERTED = [
    "_bulk.html",
    "_confirm.html",
    "_macros.html",
    "_settings_fields.html",
    "analysis.html",
    "compare.html",
    "confirm_close.html",
    "confirm_delete.html",
    "confirm_open.html",
    "confirm_publish.html",
    "confirm_remove_seed.html",
    "confirm_reopen.html",
    "consultation.html",
    "edit.html",
    "index.html",
]
QUESTION = "What would most improve getting care when you need it?"


@pytest.mark.parametrize("name", CONVERTED)
def test_the_template_holds_no_untranslated_text(name: str):
    assert untranslated((PROJECT_ROOT / "templates" / "manage" / name).read_text()) == []


@pytest.fixture
def team_member(client, missions, create_user):
    user = create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    return user


def welsh_draft(mission, state=ConsultationState.DRAFT) -> Consultation:
    return make_consultation(
        mission, state, title=QUESTION, moderation_mode=ModerationMode.PRE, allow_anonymous=True
    )


def seed(consultation: Consultation, text: str) -> Statement:
    statement = write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    return statement


def test_the_consultation_page_is_in_welsh_when_the_browser_asks(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"])
    seed(consultation, "Weekend discharge teams would free up beds.")
    url = f"/manage/consultations/{consultation.id}"

    welsh = text_of(html_of(client.get(url, headers=WELSH)))
    assert "Rheoli ymgynghoriadau" in welsh  # the breadcrumb
    assert "Dim ond tîm y genhadaeth all weld y drafft hwn." in welsh
    assert "Agor yr ymgynghoriad" in welsh
    assert "Gosodiadau" in welsh and "Cyd-destun" in welsh
    assert "Datganiadau cychwynnol (1)" in welsh
    assert "Ychwanegu datganiad cychwynnol" in welsh  # a form label (lazy_gettext)
    assert "Seed statements start the conversation" not in welsh
    # What people wrote stays as written.
    assert QUESTION in welsh
    assert "Weekend discharge teams would free up beds." in welsh

    english = text_of(html_of(client.get(url)))
    assert "Seed statements (1)" in english and "Gosodiadau" not in english


def test_a_form_error_and_a_refusal_are_in_welsh(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"])
    url = f"/manage/consultations/{consultation.id}"

    empty = submit_form(client, url, {"text": ""}, action=f"{url}/seeds", headers=WELSH)
    assert empty.status_code == 400
    assert "Rhowch y datganiad" in error_summary(html_of(empty))

    seed(consultation, "Weekend discharge teams would free up beds.")
    again = submit_form(
        client,
        url,
        {"text": "Weekend discharge teams would free up beds."},
        action=f"{url}/seeds",
        headers=WELSH,
    )
    assert again.status_code == 400
    assert "Mae gan yr ymgynghoriad hwn y datganiad hwnnw\u2019n barod" in text_of(html_of(again))


def test_a_confirmation_page_counts_in_welsh_plural_forms(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"])
    url = f"/manage/consultations/{consultation.id}/delete"

    none = text_of(html_of(client.get(url, headers=WELSH)))
    assert "Dileu\u2019r drafft hwn" in none
    assert "gyda\u2019i 0 o ddatganiadau cychwynnol" in none
    assert "Ni ellir dadwneud hyn." in none

    seed(consultation, "Weekend discharge teams would free up beds.")
    one = text_of(html_of(client.get(url, headers=WELSH)))
    assert "gyda\u2019i 1 datganiad cychwynnol" in one


def test_the_message_after_a_move_is_in_welsh(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"])
    seed(consultation, "Weekend discharge teams would free up beds.")
    opened = submit_form(
        client,
        f"/manage/consultations/{consultation.id}/open",
        {"confirm": "yes"},
        headers=WELSH,
        follow_redirects=True,
    )
    assert "Mae\u2019r ymgynghoriad ar agor: gall pobl gymryd rhan nawr." in text_of(
        html_of(opened)
    )


def test_bulk_moderation_says_what_changed_in_welsh(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"], ConsultationState.OPEN)
    first, second = comment(consultation, "More nurses."), comment(consultation, "Fewer forms.")
    queue = f"/manage/consultations/{consultation.id}/moderation"

    nothing = submit_form(
        client,
        queue,
        {"statement_ids": [], "decision": "accept"},
        action=f"{queue}/bulk",
        headers=WELSH,
    )
    assert nothing.status_code == 400
    assert "Dewiswch o leiaf un datganiad" in html_of(nothing)

    done = submit_form(
        client,
        queue,
        {"statement_ids": [str(first.id), str(second.id)], "decision": "accept"},
        action=f"{queue}/bulk",
        headers=WELSH,
        follow_redirects=True,
    )
    assert "Derbyniwyd 2 datganiad." in text_of(html_of(done))


def test_a_move_the_consultation_cannot_make_is_explained_in_welsh(client, missions, team_member):
    consultation = welsh_draft(missions["nhs"], ConsultationState.OPEN)
    response = client.get(
        f"/manage/consultations/{consultation.id}/open", headers=WELSH, follow_redirects=True
    )
    assert "Dim ond ymgynghoriad drafft y gellir ei agor" in text_of(html_of(response))


def test_the_team_dashboard_is_in_welsh(client, missions, team_member):
    nhs = missions["nhs"]
    welsh_draft(nhs)
    waiting_idea(nhs, "Weekend discharge", utcnow())
    waiting_idea(nhs, "Ward rounds", utcnow(), IdeaStage.UNDER_REVIEW, utcnow())

    welsh = text_of(html_of(client.get("/manage", headers=WELSH)))
    assert "Rheoli ymgynghoriadau" in welsh and "Creu ymgynghoriad" in welsh
    assert "Syniadau newydd i\u2019w hadolygu (1)" in welsh
    assert "Syniadau sy\u2019n aros am benderfyniad (1)" in welsh
    assert "cynigiwyd " in welsh and "yn cael ei adolygu ers " in welsh
    assert "0 o gefnogwyr" in welsh  # the Welsh plural form for none

    english = text_of(html_of(client.get("/manage")))
    assert "(proposed " in english and "under review since " in english
    assert "0 supporters" in english
