"""Personal API tokens in a real browser: made on the account page, shown once, used by a program
(the browser's own request context, no cookies) to answer a statement, then revoked from a page
that asks first; the docs page reads without JavaScript. Each page passes axe."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Consultation, Statement, StatementOrigin, Vote
from deliberate.services.statements import write_statement


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()


def test_a_token_is_created_shown_once_used_and_revoked(
    browser, playwright, live_server, missions, create_user, screenshot, axe_audit
):
    consultation = Consultation(mission=missions["nhs"], title="What would most improve care?")
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "Clinics should open on Saturdays.", origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    create_user(email="asha@example.org", name="Asha Patel")

    page = browser.new_context().new_page()
    sign_in(page, live_server, "asha@example.org")
    page.goto(live_server + "/account")
    expect(page.locator("#api-tokens")).to_have_text("API tokens")
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    page.get_by_label("Name of the token").fill("Survey importer")
    page.get_by_role("button", name="Create a token").click()

    token = page.locator("#new-api-token-value").inner_text().strip()
    assert token.startswith("dlb_")
    expect(page.get_by_text("Copy this token now: it is shown only this once.")).to_be_visible()
    row = page.locator("#api-token-list tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Survey importer")
    expect(row.first).to_contain_text("Never")
    screenshot(page, "token-shown-once")
    assert axe_audit(page) == []

    page.reload()
    expect(page.locator("#new-api-token-value")).to_have_count(0)
    assert token not in page.content()

    # A program of Asha's answers a statement with it: a request context of its own, no cookies.
    program = playwright.request.new_context(
        base_url=live_server, extra_http_headers={"Authorization": f"Bearer {token}"}
    )
    statement_id = db.session.scalar(
        select(Statement.id).where(Statement.consultation_id == consultation.id)
    )
    answer = program.post(
        f"/api/v1/consultations/{consultation.id}/votes",
        data={"statement_id": statement_id, "choice": "agree"},
    )
    assert answer.status == 200 and answer.json()["changed"] is True
    assert db.session.scalar(select(Vote.choice)) == 1
    page.reload()
    expect(page.locator("#api-token-list tbody tr").first).not_to_contain_text("Never")

    page.get_by_role("link", name="Revoke the token “Survey importer”").click()
    expect(page.locator("h1")).to_contain_text("Revoke the API token")
    screenshot(page, "revoke")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_text("has been revoked")).to_be_visible()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    refused = program.post(
        f"/api/v1/consultations/{consultation.id}/votes",
        data={"statement_id": statement_id, "choice": "disagree"},
    )
    assert refused.status == 401 and refused.json()["error"]["code"] == "invalid_token"
    program.dispose()


def test_the_api_docs_page_reads_without_javascript(browser, live_server, screenshot, axe_audit):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/api/v1/docs")
    expect(page.locator("h1")).to_have_text("Deliberate API")
    page.get_by_role("link", name="POST /api/v1/consultations/{consultation_id}/votes").click()
    expect(page.locator("#post-api-v1-consultations-consultation-id-votes")).to_contain_text(
        "Needs a personal API token"
    )
    page.get_by_role("link", name="VoteRequest").first.click()
    expect(page.locator("#schema-VoteRequest")).to_contain_text("statement_id")
    screenshot(page, "docs")
    context.close()
    page = browser.new_context().new_page()
    page.goto(live_server + "/api/v1/docs")
    assert axe_audit(page) == []
