"""Issue 16, Welsh: the admin pages, the API docs and the second half of the team's pages speak
Welsh to a browser that asks for it, English otherwise, and their refusals and flashes follow."""

from __future__ import annotations

import pytest

from deliberate.extensions import db
from deliberate.models import Consultation, ModerationMode, StatementOrigin
from deliberate.services import admin as admin_service
from deliberate.services.errors import Refused
from deliberate.services.statements import write_statement
from tests.helpers import html_of, sign_in, submit_form, text_of
from tests.test_translations import TEMPLATES, untranslated

WELSH = {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}
MANAGE_B = [
    "indicator",
    "indicator_form",
    "indicator_remove_value",
    "indicator_value",
    "jobs",
    "moderation",
    "new",
    "new_response",
    "not_yet_answered",
    "participation_review",
    "redact",
    "responses",
    "seed",
    "similar",
    "statement",
    "update_response",
]


@pytest.mark.parametrize("name", MANAGE_B)
def test_these_team_pages_hold_no_untranslated_text(name: str):
    assert untranslated((TEMPLATES / "manage" / f"{name}.html").read_text()) == []


@pytest.fixture
def admin(client, create_user):
    user = create_user(email="ada@example.org", name="Ada Admin", admin=True)
    sign_in(client, "ada@example.org")
    return user


def test_the_admin_people_page_in_welsh_and_in_english(client, admin, create_user):
    create_user(email="sam@example.org", name="Sam Nurse")
    welsh = text_of(html_of(client.get("/admin", headers=WELSH)))
    assert "Pobl" in welsh
    assert "Chwilio yn ôl cyfeiriad e-bost neu enw" in welsh  # a form label (lazy)
    assert "Gweinyddwr" in welsh and "Dinesydd" in welsh  # how each person takes part
    assert "Pawb (2)" in welsh
    assert "Everyone" not in welsh and "Search by email" not in welsh
    found = text_of(html_of(client.get("/admin", query_string={"q": "sam"}, headers=WELSH)))
    assert "1 person yn cyfateb i “sam”" in found
    english = text_of(html_of(client.get("/admin")))
    assert "Everyone (2)" in english and "Search by email address or name" in english
    assert "Pobl" not in english


def test_an_admin_change_flashes_and_refuses_in_welsh(client, admin, create_user):
    sam = create_user(email="sam@example.org", name="Sam Nurse")
    url = f"/admin/people/{sam.id}/roles/moderator/grant"
    page = text_of(html_of(client.get(url, headers=WELSH)))
    assert "Gwneud Sam Nurse yn gymedrolwr" in page
    assert "Pam ydych chi'n gwneud y newid hwn?" in page
    done = submit_form(client, url, {"reason": "Pilot"}, headers=WELSH, follow_redirects=True)
    assert "Mae Sam Nurse bellach yn gymedrolwr." in text_of(html_of(done))
    own = f"/admin/people/{admin.id}/roles/admin/revoke"
    refused = submit_form(client, own, {"reason": "Testing"}, headers=WELSH)
    assert refused.status_code == 409
    assert "Ni allwch dynnu eich rôl gweinyddwr eich hun" in text_of(html_of(refused))
    empty = submit_form(client, url, {"reason": ""}, headers=WELSH)
    assert "Rhowch y rheswm dros y newid hwn" in text_of(html_of(empty))
    person = text_of(html_of(client.get(f"/admin/people/{sam.id}", headers=WELSH)))
    assert "Beth sydd wedi digwydd i'r cyfrif hwn" in person and "Cymedrolwr" in person
    audit = text_of(html_of(client.get("/admin/audit", headers=WELSH)))
    assert "Log archwilio" in audit and "digwyddiad" in audit


def test_a_moderation_page_in_welsh(client, create_user, missions):
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.PRE,
    )
    db.session.add(consultation)
    db.session.flush()
    statement = write_statement(
        consultation, "Shorter waits for a GP appointment", origin=StatementOrigin.SEED
    )
    consultation.open()
    db.session.commit()
    create_user(email="mod@example.org", name="Mo Moderator", moderator=True)
    sign_in(client, "mod@example.org")
    url = f"/manage/consultations/{consultation.id}/moderation"
    welsh = text_of(html_of(client.get(url, headers=WELSH)))
    assert "Cymedroli sylwadau" in welsh
    assert "Caiff yr ymgynghoriad hwn ei rag-gymedroli" in welsh
    assert "Yn aros i gael eu cymedroli (0)" in welsh
    assert "Cyfranogiad a allai fod yn awtomataidd" in welsh
    assert "What would most improve getting care?" in welsh  # content is never translated
    assert "Moderate comments" in text_of(html_of(client.get(url)))
    review = f"/manage/consultations/{consultation.id}/participation-review"
    assert "Adolygu cyfranogiad" in text_of(html_of(client.get(review, headers=WELSH)))
    page = text_of(html_of(client.get(f"/manage/statements/{statement.id}", headers=WELSH)))
    assert f"Datganiad {statement.id}" in page
    assert "Datganiad cychwynnol gan dîm y genhadaeth" in page


def test_the_api_docs_page_in_welsh(client, missions):
    page = text_of(html_of(client.get("/api/v1/docs", headers=WELSH)))
    assert "Pwyntiau terfyn" in page and "Sgemâu" in page
    assert "/api/v1/" in page  # paths stay as they are


def test_a_refusal_outside_a_request_is_in_english(app):
    with app.app_context(), pytest.raises(Refused) as refused:
        admin_service.clean_reason("")
    assert refused.value.message == "Enter the reason for this change"


def test_the_team_pages_of_a_mission_in_welsh(client, create_user, missions):
    consultation = Consultation(mission=missions["nhs"], title="Getting care")
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "Shorter waits for a GP appointment", origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    create_user(email="lead@example.org", name="Lee Lead", team=(missions["nhs"],))
    sign_in(client, "lead@example.org")
    pages = {
        "/manage/missions/nhs/indicator": "Y dangosydd sy'n mesur y nod",
        "/manage/missions/nhs/indicator/edit": "Beth mae'r dangosydd yn ei fesur",
        f"/manage/consultations/{consultation.id}/jobs": "Tasgau cefndir",
        f"/manage/consultations/{consultation.id}/responses": "Does dim ymateb wedi'i gofnodi eto.",
        f"/manage/consultations/{consultation.id}/responses/new": "Beth mae'n ei ateb",
        f"/manage/consultations/{consultation.id}/not-yet-answered": "Heb eu hateb eto",
    }
    for url, words in pages.items():
        response = client.get(url, headers=WELSH)
        assert response.status_code == 200, url
        assert words in text_of(html_of(response)), url
    refused = submit_form(
        client, "/manage/missions/nhs/indicator/edit", {"name": ""}, headers=WELSH
    )
    assert "Rhowch yr hyn y mae'r dangosydd yn ei fesur" in text_of(html_of(refused))
