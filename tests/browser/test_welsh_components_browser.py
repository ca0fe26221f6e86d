"""GOV.UK Frontend's own script speaks Welsh on a Welsh page: the character count under the
comment box counts down with the Welsh text of the right plural category (Intl.PluralRules)."""

from __future__ import annotations

from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import Consultation, StatementOrigin
from deliberate.services.statements import write_statement


def test_the_character_count_counts_down_in_welsh(browser, live_server, missions):
    consultation = Consultation(
        mission=missions["nhs"],
        title="How could waiting lists be shorter?",
        context="What would help most.",
    )
    db.session.add(consultation)
    db.session.flush()
    write_statement(
        consultation, "GP surgeries should open on Saturdays.", origin=StatementOrigin.SEED
    )
    consultation.open()
    db.session.commit()

    context = browser.new_context(extra_http_headers={"Accept-Language": "cy"}, locale="cy-GB")
    page = context.new_page()
    page.goto(f"{live_server}/consultations/{consultation.id}")
    box = page.locator("textarea.govuk-js-character-count").first
    limit = int(box.evaluate("b => b.closest('[data-maxlength]').dataset.maxlength"))
    message = page.locator(".govuk-character-count__status").first
    box.fill("x" * (limit - 2))  # two left: Welsh "two" category
    expect(message).to_have_text("Mae gennych 2 nod yn weddill")
    box.fill("x" * (limit + 3))  # three too many: Welsh "few" category
    expect(message).to_have_text("Mae gennych 3 nod yn ormod")
    context.close()
