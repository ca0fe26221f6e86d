"""The account pages and their emails in Welsh, for a browser that asks for Welsh."""

from __future__ import annotations

import re

from tests.helpers import error_summary, html_of, submit_form, text_of

WELSH = {"Accept-Language": "cy"}
GOOD = {
    "display_name": "Asha Patel",
    "email": "asha@example.org",
    "password": "walnut kettle orbit",
    "confirm_password": "walnut kettle orbit",
}


def main_of(html: str) -> str:
    """What the page itself says, without the header and footer every page shares."""
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "no <main> on the page"
    return text_of(match.group(0))


def test_the_register_and_sign_in_pages_are_in_welsh(client):
    register = main_of(html_of(client.get("/register", headers=WELSH)))
    assert register.startswith("Creu cyfrif")
    assert "Cyfeiriad e-bost" in register and "Creu cyfrinair" in register
    assert "Create" not in register and "Email address" not in register
    sign_in = main_of(html_of(client.get("/sign-in", headers=WELSH)))
    assert sign_in.startswith("Mewngofnodi") and "Wedi anghofio eich cyfrinair?" in sign_in
    assert "Forgot your password" not in sign_in and "Password" not in sign_in


def test_a_refused_registration_says_why_in_welsh(client):
    response = submit_form(
        client,
        "/register",
        {**GOOD, "password": "short", "confirm_password": "short"},
        headers=WELSH,
    )
    assert response.status_code == 200
    summary = error_summary(html_of(response))
    assert "Rhaid i’r cyfrinair fod yn o leiaf 12 nod o hyd" in summary  # noqa: RUF001
    assert "Password must" not in summary


def test_the_same_refusal_stays_english_for_an_english_browser(client):
    response = submit_form(
        client, "/register", {**GOOD, "password": "short", "confirm_password": "short"}
    )
    assert "Password must be at least 12 characters long" in error_summary(html_of(response))
