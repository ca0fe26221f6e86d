"""The embed page inside another website's page, in a real browser.

Two loopback servers: the site (this app, reached as ``http://localhost:A``) and a council's page
(a plain ``http.server`` on ``http://127.0.0.1:B``) holding the team's snippet. ``localhost`` and
``127.0.0.1`` are different sites (the ports alone would not make them so), so the frame is a
genuine third-party frame: the site's SameSite=Lax cookies would be neither kept nor sent there.
The embed routes' own cookies are ``SameSite=None; Secure; Partitioned`` (Chromium takes Secure
cookies from http://localhost, a secure context), so the participant answers inside the frame and
the vote is stored. The path this exercises is the partitioned one (CHIPS): measured here,
Chromium 156 in a Playwright context keeps no unpartitioned third-party cookie at all, not even
``SameSite=None; Secure``, and keeps the partitioned one, keyed by the council's site.

A browser that keeps no cookie in the frame is shown by clearing the cookies between loading the
frame and answering: the frame then offers the consultation in a new tab, where answering works.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from deliberate.embed import frame as frame_rules
from deliberate.embed.snippet import snippet_for
from deliberate.extensions import db
from deliberate.models import Consultation, StatementOrigin, VoteChoice
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.test_embed import votes_of

TITLE = "How should the clinic's opening hours change?"


class CouncilPage(BaseHTTPRequestHandler):
    """The other website: one page that holds the snippet."""

    html = b""

    def do_GET(self):  # the name http.server calls
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):  # quiet
        pass


def serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def two_sites(app, database_url, tmp_path, missions) -> Iterator[dict]:
    """The council's page on 127.0.0.1:B framing the site's embed page from localhost:A."""
    council = ThreadingHTTPServer(("127.0.0.1", 0), CouncilPage)
    council_origin = f"http://127.0.0.1:{council.server_port}"
    site_app = make_test_app(
        database_url, tmp_path, SERVER_NAME=None, EMBED_ORIGINS=(council_origin,)
    )
    site = make_server("127.0.0.1", 0, site_app, threaded=True)
    site_origin = f"http://localhost:{site.server_port}"

    consultation = Consultation(
        mission=missions["nhs"], title=TITLE, context="Tell us.", allow_anonymous=True
    )
    db.session.add(consultation)
    db.session.flush()
    for text in ("Open on Saturday mornings.", "Open later on weekdays.", "Keep the hours."):
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    with site_app.test_request_context(base_url=site_origin):
        snippet = snippet_for(consultation).code
    CouncilPage.html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Your council: have your say</title></head><body><main>"
        f"<h1>Have your say</h1>{snippet}</main></body></html>"
    ).encode()

    threads = [serve(council), serve(site)]
    try:
        yield {
            "council": council_origin + "/",
            "site": site_origin,
            "consultation": consultation,
            "embed": f"{site_origin}/embed/consultations/{consultation.id}",
        }
    finally:
        for server in (council, site):
            server.shutdown()
        for thread in threads:
            thread.join(timeout=5)


def stored_votes(consultation: Consultation) -> list[VoteChoice]:
    db.session.commit()  # a fresh read of what the site stored
    return votes_of(consultation)


def council_page_with_the_frame(browser, two_sites):
    """A fresh browser on the council's page, once the frame inside it has loaded."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(two_sites["council"])
    embedded = page.frame_locator("iframe")
    expect(embedded.get_by_role("heading", level=1)).to_have_text(TITLE)
    return context, page, embedded


def test_a_participant_answers_inside_another_websites_page(
    browser, two_sites, screenshot, axe_audit
):
    context, page, embedded = council_page_with_the_frame(browser, two_sites)
    question = embedded.get_by_role("group")  # the statement: the fieldset's legend names it
    expect(question).to_have_accessible_description(
        'Do you agree with this statement? Choose "Pass / unsure" if you do not know or would '
        "rather not say."
    )
    screenshot(page, "council-page-with-the-frame")

    # The frame's cookies are third-party here: kept because they are SameSite=None, Secure
    # (http://localhost is a secure context) and Partitioned.
    cookies = {c["name"]: c for c in context.cookies(two_sites["embed"])}
    kept = cookies[frame_rules.SESSION_COOKIE]
    assert (kept["sameSite"], kept["secure"], kept["path"]) == ("None", True, "/embed")
    assert kept.get("partitionKey", "").startswith("http://127.0.0.1"), kept

    embedded.get_by_role("button", name="Agree", exact=True).click()
    expect(embedded.get_by_role("alert")).to_contain_text("Your answer was saved: Agree.")
    expect(embedded.locator("#progress")).to_have_text("You have answered 1 of 3 statements.")
    assert stored_votes(two_sites["consultation"]) == [VoteChoice.AGREE]
    assert frame_rules.PARTICIPANT_COOKIE in {c["name"] for c in context.cookies()}
    screenshot(page, "answered-in-the-frame")

    # The same participant, by keyboard: Tab to "Disagree" inside the frame and press Enter.
    embedded.get_by_role("button", name="Agree", exact=True).focus()
    page.keyboard.press("Tab")
    expect(embedded.get_by_role("button", name="Disagree")).to_be_focused()
    page.keyboard.press("Enter")
    expect(embedded.locator("#progress")).to_have_text("You have answered 2 of 3 statements.")
    assert sorted(stored_votes(two_sites["consultation"])) == sorted(
        [VoteChoice.AGREE, VoteChoice.DISAGREE]
    )

    # The links out of the frame open new tabs.
    with context.expect_page() as opened:
        embedded.get_by_role(
            "link", name="Read the full consultation and add your own statement (opens in new tab)"
        ).click()
    full = opened.value
    expect(full.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert full.url == f"{two_sites['site']}/consultations/{two_sites['consultation'].id}"
    full.close()

    # The embed page itself (with its status message) passes axe.
    audit = context.new_page()
    audit.goto(two_sites["embed"])
    assert axe_audit(audit) == []
    context.close()


def test_where_no_cookie_comes_back_the_frame_offers_a_new_tab(
    browser, two_sites, screenshot, axe_audit
):
    context, page, embedded = council_page_with_the_frame(browser, two_sites)
    context.clear_cookies()  # as a browser that keeps no cookie in a third-party frame

    embedded.get_by_role("button", name="Agree", exact=True).click()
    expect(embedded.get_by_role("heading", level=1)).to_have_text(
        "Your browser blocks this in an embedded frame"
    )
    assert stored_votes(two_sites["consultation"]) == []
    screenshot(page, "blocked-in-the-frame")

    with context.expect_page() as opened:
        embedded.get_by_role(
            "link", name="Open the consultation in a new tab to take part (opens in new tab)"
        ).click()
    tab = opened.value
    expect(tab.get_by_role("heading", level=1)).to_have_text(TITLE)
    tab.get_by_role("button", name="Agree", exact=True).click()
    expect(tab.get_by_text("Your answer was saved: Agree.")).to_be_visible()
    assert stored_votes(two_sites["consultation"]) == [VoteChoice.AGREE]

    # The page the frame showed passes axe too.
    audit = context.new_page()
    audit.goto(two_sites["embed"])
    audit.context.clear_cookies()
    audit.get_by_role("button", name="Agree", exact=True).click()
    expect(audit.get_by_role("heading", level=1)).to_have_text(
        "Your browser blocks this in an embedded frame"
    )
    assert axe_audit(audit) == []
    context.close()
