"""The privacy and accessibility pages: real contact routes from the settings, and a privacy page
whose figures are the ones the code uses."""

from __future__ import annotations

import re

import pytest

from deliberate import create_app
from deliberate.config import EXAMPLE_CONTACT_EMAIL, ConfigurationError
from tests.helpers import html_of, text_of


def mailto_links(html: str) -> list[str]:
    return re.findall(r'href="mailto:([^"?]+)\?subject=[^"]+"', html)


@pytest.fixture
def operator(app):
    app.config.update(
        CONTACT_EMAIL="privacy@missions.gov.uk",
        CONTACT_EMAIL_IS_EXAMPLE=False,
        DPO_EMAIL="dpo@missions.gov.uk",
        OPERATOR_NAME="The Missions Delivery Unit",
    )
    return app


def test_both_pages_give_the_configured_address_as_a_mailto_link(client, operator):
    for path in ("/privacy", "/accessibility"):
        html = html_of(client.get(path))
        assert "privacy@missions.gov.uk" in mailto_links(html), path
        assert "contact the team that runs this service" not in html
        assert "example address" not in html and EXAMPLE_CONTACT_EMAIL not in html
        assert "The Missions Delivery Unit" in text_of(html)
    privacy = html_of(client.get("/privacy"))
    assert mailto_links(privacy).count("dpo@missions.gov.uk") == 1
    assert "The Missions Delivery Unit runs this service and is the data controller" in (
        text_of(privacy)
    )


def test_development_shows_an_example_address_and_says_it_is_one(client, app):
    assert app.config["CONTACT_EMAIL_IS_EXAMPLE"] is True  # the suite sets no address
    for path in ("/privacy", "/accessibility"):
        html = html_of(client.get(path))
        assert EXAMPLE_CONTACT_EMAIL in mailto_links(html), path
        assert "(an example address: whoever runs this copy of Deliberate" in text_of(html)
    privacy = text_of(html_of(client.get("/privacy")))
    assert "The organisation that runs this copy of Deliberate is the data controller" in privacy
    assert "data protection officer" not in privacy  # no DPO address set


def test_the_lawful_basis_comes_from_the_settings(client, app):
    app.config["LAWFUL_BASIS"] = "our public task under the Missions Act 2031"
    page = text_of(html_of(client.get("/privacy")))
    assert "Our lawful basis for using it is our public task under the Missions Act 2031." in page


def test_production_without_a_contact_address_refuses_to_start(monkeypatch):
    monkeypatch.setenv("DELIBERATE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 50)
    monkeypatch.setenv("DATABASE_URL", "postgresql://deliberate@db.internal/deliberate")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/10")  # nothing is sent to it
    monkeypatch.delenv("DELIBERATE_CONTACT_EMAIL", raising=False)
    with pytest.raises(ConfigurationError, match="DELIBERATE_CONTACT_EMAIL"):
        create_app()
    monkeypatch.setenv("DELIBERATE_CONTACT_EMAIL", "privacy@missions.gov.uk")
    assert create_app().config["CONTACT_EMAIL"] == "privacy@missions.gov.uk"


def test_the_privacy_page_states_the_periods_the_code_uses(client, app):
    app.extensions["deliberate_retention"] = {"next_ask": float("inf")}  # no purge job here
    app.config.update(
        RETENTION_HELD_COMMENT_DAYS=7, RETENTION_TOKEN_DAYS=90, RETENTION_SCHEDULE=True
    )
    page = text_of(html_of(client.get("/privacy")))
    assert "Deleted as soon as it is posted, or after 7 days if it never is" in page
    assert "Deleted 90 days after the link was used or expired" in page
    assert "The service deletes what has passed its time once a day." in page
    app.config.update(RETENTION_HELD_COMMENT_DAYS=1, RETENTION_SCHEDULE=False)
    page = text_of(html_of(client.get("/privacy")))
    assert "or after 1 day if it never is" in page
    assert "delete what has passed its time with a scheduled task" in page


def test_the_privacy_page_says_a_name_is_published_only_when_chosen(client, app):
    page = text_of(html_of(client.get("/privacy")))
    assert "We never publish your name" not in page
    assert "We publish your name only with an idea whose author chose to show it." in page
    assert "We do not store your network (IP) address." in page


def test_the_privacy_page_says_where_unsent_emails_go(client, app):
    app.config["MAIL_SERVER"] = None
    page = text_of(html_of(client.get("/privacy")))
    assert "emails are written to a folder on the server" in page
    assert f"deleted after {app.config['RETENTION_OUTBOX_DAYS']} days" in page
    app.config["MAIL_SERVER"] = "smtp.missions.gov.uk"
    page = text_of(html_of(client.get("/privacy")))
    assert "We do not keep a copy of them." in page and "written to a folder" not in page
