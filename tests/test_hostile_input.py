"""Hostile input, everywhere: what a form does with text a person would never type."""

from __future__ import annotations

from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Consultation, User
from tests.helpers import sign_in, submit_form

PASSWORD = "correct horse battery"


def test_nul_is_removed_from_every_form_field_so_a_question_or_a_name_with_one_is_stored(
    app, client, missions, create_user
):
    """PostgreSQL cannot store NUL: a question, its context, its service areas or a person's name
    with one gave a server error. It is removed from every field before any form reads it."""
    create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    response = submit_form(
        client,
        "/manage/missions/nhs/consultations/new",
        {
            "title": "Waiting\x00 times?",
            "context": "Why\x00 we ask.",
            "moderation_mode": "post",
            "allow_anonymous": "yes",
            "service_areas": "A\x00&E\r\nGP\x00 surgery",
            "opens_on": ["", "", ""],
            "closes_on": ["", "", ""],
        },
    )
    assert response.status_code == 302
    consultation = db.session.scalars(select(Consultation)).one()
    assert (consultation.title, consultation.context) == ("Waiting times?", "Why we ask.")
    assert consultation.service_areas == "A&E\nGP surgery"

    newcomer = app.test_client()
    response = submit_form(
        newcomer,
        "/register",
        {
            "display_name": "Sam\x00 Nurse",
            "email": "sam@example.org",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(User.display_name).where(User.email == "sam@example.org")) == (
        "Sam Nurse"
    )
