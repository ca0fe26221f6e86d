"""The account pages and their emails in Welsh, for a browser that asks for Welsh."""

from __future__ import annotations

import email
import email.policy
import re

from flask_babel import lazy_gettext as _l

from deliberate.extensions import db
from deliberate.models import Idea, IdeaStage
from tests.helpers import error_summary, html_of, run_background_jobs, submit_form, text_of
from tests.test_following import TEXTS
from tests.test_reports import open_consultation

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


def sent_to(app, outbox, address: str) -> list[email.message.EmailMessage]:
    run_background_jobs(app)
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == address]


def test_the_confirmation_email_of_a_welsh_registration_is_in_welsh(app, client, outbox):
    response = submit_form(client, "/register", GOOD, headers=WELSH)
    assert response.status_code == 302
    [message] = sent_to(app, outbox, "asha@example.org")
    assert message["Subject"] == "Cadarnhewch eich cyfeiriad e-bost ar gyfer Deliberate"
    body = " ".join(message.get_content().split())
    assert body.startswith("Helo,")
    assert "Mae’n gweithio unwaith ac yn dod i ben ymhen 24 awr." in body  # noqa: RUF001
    assert "/confirm-email/" in body
    assert "Hello" not in body and "expires" not in body


def test_an_english_registration_still_gets_an_english_email(app, client, outbox):
    submit_form(client, "/register", GOOD)
    [message] = sent_to(app, outbox, "asha@example.org")
    assert message["Subject"] == "Confirm your email address for Deliberate"
    assert message.get_content().startswith("Hello,")


def test_an_email_asked_for_outside_a_request_is_in_english_unless_told(app, outbox):
    from deliberate.mail import queue_email
    from deliberate.unit_of_work import unit_of_work

    with unit_of_work():
        queue_email(
            "lee@example.org",
            _l("Reset your Deliberate password"),
            "email/password_reset.txt",
            link="https://deliberate.test/x",
            minutes=30,
        )
        queue_email(
            "cai@example.org",
            _l("Reset your Deliberate password"),
            "email/password_reset.txt",
            language="cy",
            link="https://deliberate.test/x",
            minutes=30,
        )
    [english] = sent_to(app, outbox, "lee@example.org")
    [welsh] = sent_to(app, outbox, "cai@example.org")
    assert english["Subject"] == "Reset your Deliberate password"
    assert "expires in 30 minutes" in english.get_content()
    assert welsh["Subject"] == "Ailosod eich cyfrinair Deliberate"
    assert "ymhen 30 munud" in welsh.get_content()


def test_following_a_consultation_in_welsh_gets_a_welsh_page_and_email(
    app, client, missions, outbox
):
    consultation, _statements = open_consultation(missions, "Getting care when you need it", TEXTS)
    page = main_of(html_of(client.get(f"/consultations/{consultation.id}/follow", headers=WELSH)))
    assert "Cael e-byst am Getting care when you need it" in page  # the title stays as written
    response = submit_form(
        client,
        f"/consultations/{consultation.id}/follow",
        {"email": "cai@example.org"},
        headers=WELSH,
    )
    checked = main_of(html_of(client.get(response.headers["Location"], headers=WELSH)))
    assert checked.startswith("Gwiriwch eich e-bost")
    assert "dod i ben ymhen 7 diwrnod" in checked
    [message] = sent_to(app, outbox, "cai@example.org")
    assert (
        message["Subject"] == "Cadarnhewch eich bod eisiau e-byst am: Getting care when you need it"
    )
    body = " ".join(message.get_content().split())
    assert "ymgynghoriad “Getting care when you need it” (cylch 1)" in body
    assert "I atal yr e-byst hyn" in body


def test_an_idea_page_in_welsh_names_its_stage_and_anonymous_author_in_welsh(
    client, missions, create_user
):
    nurse = create_user(email="sam@example.org", name="Sam Nurse", staff_email="sam@nhs.net")
    idea = Idea(
        mission_id=missions["nhs"].id,
        author_id=nurse.id,
        author_staff_domain="nhs.net",
        title="Shared rotas",
        problem="Rotas clash.",
        proposal="Share them.",
    )
    db.session.add(idea)
    idea.move_to(IdeaStage.UNDER_REVIEW, "We are looking at it.", by=None)
    db.session.commit()
    page = main_of(html_of(client.get(f"/ideas/{idea.id}", headers=WELSH)))
    assert "Cam: Wrthi’n cael ei adolygu" in page  # noqa: RUF001
    assert "Cynigiwyd gan aelod o staff wedi’i ddilysu yn y GIG" in page  # noqa: RUF001
    assert "Shared rotas" in page and "Rotas clash." in page  # what people wrote stays as written
    assert "Proposed by" not in page and "Under review" not in page
