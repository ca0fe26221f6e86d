"""On a phone (375 x 667), a person answers ten statements in a row with their thumb: after each
answer the next statement and its Agree button are in the first screenful, with no scrolling."""

from __future__ import annotations

from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import Consultation, StatementOrigin
from deliberate.services.statements import write_statement

PHONE = {"width": 375, "height": 667}
# Real-length statements (the london.youth.policing Polis conversation, CC BY 4.0).
STATEMENTS = [
    "Have community police officers in schools create a rapport with the young people to build "
    "up trust and provide accountability, in all areas.",
    "Educate young people on the history of policing so that they can identify negative "
    "patterns in police behaviour.",
    "Eliminate bias: a wider background check to see the type of people they are hiring.",
    "Diversity in policing.",
    "Global transparency is a must.",
    "To offer the young people incentives.",
    "Police should explain why they stop and search someone, every time.",
    "Body cameras should be switched on at all times.",
    "Young people should sit on the panels that review complaints.",
    "Officers should live in the areas they police.",
    "Youth clubs should be funded before more officers are hired.",
    "Complaints should be answered within a month.",
]


def test_ten_answers_in_a_row_on_a_phone_need_no_scrolling(
    browser, live_server, missions, screenshot, axe_audit
):
    consultation = Consultation(
        mission=missions["safer-streets"],
        title="How can young people scrutinise policing in their area?",
        context=(
            "Young people are stopped and searched more than anyone else, and trust in the "
            "police is lowest among them.\n\nWe want to know what would help young people hold "
            "the police to account in *their* area:\n\n- in schools\n- in youth clubs\n"
            "- online"
        ),
    )
    db.session.add(consultation)
    db.session.flush()
    for text in STATEMENTS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()

    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(f"{live_server}/consultations/{consultation.id}")
    for answered in range(1, 11):
        page.locator("form#vote").get_by_role("button", name="Agree", exact=True).click()
        expect(page.locator("#answer-saved")).to_contain_text("Your answer was saved: Agree.")
        assert page.evaluate("window.scrollY") == 0
        legend = page.locator("form#vote legend")
        agree = page.locator("form#vote").get_by_role("button", name="Agree", exact=True)
        for element in (page.locator("#answer-saved"), legend, agree):
            box = element.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["height"], (
                answered,
                element,
                box,
            )
        expect(page.locator("#progress")).to_have_text(
            f"You have answered {answered} of {len(STATEMENTS)} statements."
        )
    screenshot(page, "tenth-answer")
    assert axe_audit(page) == []
    # The title stays at the top and the context is one tap away.
    expect(page.locator("h1")).to_have_text(consultation.title)
    page.get_by_text("About this consultation", exact=True).click()
    expect(page.locator("#context em")).to_have_text("their")
