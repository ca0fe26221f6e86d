"""Reports and bulk moderation in a real browser: three people report a comment, which is hidden;
a moderator finds it in the queue, looks at the comments like it, and takes two down together.
Each page is screenshotted and audited with axe."""

from __future__ import annotations

import numpy as np
from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import ModerationMode, ModerationStatus, Statement
from deliberate.services import embeddings
from tests.browser.test_journeys import sign_in
from tests.test_bulk_moderation import make_consultation
from tests.test_statement_reports import participant_comment

SPAM = "Buy cheap watches at example.com"
SPAM_AGAIN = "Cheap watches for sale at example.com"


def test_reported_comment_is_hidden_then_taken_down_with_its_near_duplicate(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    consultation = make_consultation(missions["nhs"], mode=ModerationMode.POST)
    spam = participant_comment(consultation, SPAM)
    again = participant_comment(consultation, SPAM_AGAIN)
    for statement, vector in ((spam, [1.0, 0.0]), (again, [0.95, 0.31])):
        embeddings.store_vectors("test-model", [statement.id], [np.asarray(vector, np.float32)])
    db.session.commit()
    create_user(email="mod@example.org", moderator=True)
    statement_page = f"{live_server}/consultations/{consultation.id}/statements/{spam.id}"

    for n in range(3):
        page = browser.new_context().new_page()  # three different people, none signed in
        page.goto(statement_page)
        page.get_by_role("link", name="Report this statement").click()
        if n == 0:
            page.get_by_role("button", name="Send report").click()
            expect(page.locator(".govuk-error-summary")).to_contain_text("Choose why")
            screenshot(page, "report-error")
            assert axe_audit(page) == []
        page.get_by_label("Spam").check()
        page.get_by_label("Anything the moderators should know (optional)").fill("An advert.")
        page.get_by_role("button", name="Send report").click()
        expect(page.get_by_text("your report has been sent to the moderators")).to_be_visible()
        page.context.close()

    page = browser.new_context().new_page()
    page.goto(statement_page)
    expect(page.locator("#hidden-by-reports")).to_contain_text("waiting for a moderator")
    screenshot(page, "hidden")
    assert axe_audit(page) == []

    sign_in(page, live_server, "mod@example.org")
    page.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    expect(page.locator("#reported-" + str(spam.id))).to_contain_text("Reported by 3 people")
    screenshot(page, "queue")
    assert axe_audit(page) == []

    page.get_by_role("link", name=f"Open comment {spam.id}").click()
    page.get_by_role("link", name="Show similar statements").click()
    expect(page.locator("#neighbours")).to_contain_text(SPAM_AGAIN)
    screenshot(page, "similar")
    assert axe_audit(page) == []
    page.locator(f"#select-similar-{spam.id}").check()
    page.locator(f"#select-similar-{again.id}").check()
    page.get_by_label("Spam").check()
    page.get_by_role("button", name="Reject selected").click()
    expect(page.get_by_text("2 statements rejected.")).to_be_visible()
    screenshot(page, "rejected")

    db.session.expire_all()
    for statement in (spam, again):
        assert db.session.get(Statement, statement.id).moderation is ModerationStatus.REJECTED
