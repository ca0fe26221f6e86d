"""Issue 16's journey in Welsh, in a real browser: home → consultation → answer → comment → report
→ register, after choosing Cymraeg with the switcher. On every page `<html lang>` says "cy", a
list of English interface strings is absent and their Welsh counterparts present, and axe finds
nothing serious or critical. The consultation's own words (its title, statements) are content,
written in English here, and are not checked."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.test_where_you_stand import publish_analysis, two_camps

# English interface strings of the journey's pages and the Welsh that replaces each.
INTERFACE = {
    "Skip to main content": "Neidio i'r prif gynnwys",
    "Sign in": "Mewngofnodi",
    "Create an account": "Creu cyfrif",
    "Accessibility statement": "Datganiad hygyrchedd",
    "Cookies": "Cwcis",
}
ON_THE_CONSULTATION = {
    "Agree": "Cytuno",
    "Disagree": "Anghytuno",
    "Pass / unsure": "Pasio / ansicr",
    "Add statement": "Ychwanegu datganiad",
}
ON_THE_REPORT = {"Contents": "Cynnwys", "How sure are we?": "Pa mor sicr ydym ni?"}
ON_REGISTER = {"Your name": "Eich enw", "Email address": "Cyfeiriad e-bost"}


def _in_welsh(page, axe_audit, expected: dict[str, str]) -> None:
    assert page.evaluate("document.documentElement.lang") == "cy"
    text = page.locator("body").inner_text()
    for english, welsh in {**INTERFACE, **expected}.items():
        assert welsh in text, f"{welsh!r} missing on {page.url}"
        assert english not in text.replace(welsh, ""), f"{english!r} left on {page.url}"
    assert axe_audit(page) == []


def test_the_whole_journey_in_welsh(
    browser, live_server, missions, create_user, outbox, screenshot, axe_audit
):
    team = create_user(email="team@example.org", team=tuple(missions.values()))
    consultation, _ = two_camps(missions)
    publish_analysis(consultation, team)
    page = browser.new_context().new_page()

    page.goto(live_server + "/")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("link", name="Cymraeg").click()
    expect(page.locator("h1")).to_have_text("Helpwch i lunio’r cenadaethau")  # noqa: RUF001 - Welsh
    _in_welsh(page, axe_audit, {})
    screenshot(page, "home")

    page.goto(f"{live_server}/missions/{consultation.mission.slug}")
    page.get_by_role("link", name=consultation.title, exact=True).first.click()
    _in_welsh(page, axe_audit, ON_THE_CONSULTATION)
    screenshot(page, "consultation")

    page.locator("form#vote").get_by_role("button", name="Cytuno", exact=True).click()
    expect(page.locator("#answer-saved")).to_have_text("Cadwyd eich ateb: Cytuno.")
    _in_welsh(page, axe_audit, ON_THE_CONSULTATION)

    page.get_by_label("Eich datganiad").fill("Dylai bysiau redeg yn hwyrach gyda'r nos.")
    page.get_by_role("button", name="Ychwanegu datganiad").click()
    expect(page.locator("body")).to_contain_text("Diolch")
    _in_welsh(page, axe_audit, {})
    screenshot(page, "statement-added")

    page.goto(f"{live_server}/consultations/{consultation.id}/report")
    _in_welsh(page, axe_audit, ON_THE_REPORT)
    screenshot(page, "report")

    page.get_by_role("link", name="Creu cyfrif").first.click()
    _in_welsh(page, axe_audit, ON_REGISTER)
    page.get_by_label("Eich enw").fill("Rhiannon Ŵyn")
    page.get_by_label("Cyfeiriad e-bost").fill("rhiannon@example.org")
    page.get_by_label("Creu cyfrinair").fill("mountain river slate")
    page.get_by_label("Cadarnhau’r cyfrinair").fill("mountain river slate")  # noqa: RUF001 - Welsh
    page.get_by_role("button", name="Creu cyfrif").click()
    expect(page.locator("h1")).to_have_text("Gwiriwch eich e-bost")
    _in_welsh(page, axe_audit, {})
    screenshot(page, "check-your-email")
