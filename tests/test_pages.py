"""Information pages and error pages, in the site's own style."""

from __future__ import annotations

from flask import abort

from tests.conftest import make_test_app
from tests.helpers import submit_form


def test_information_pages_are_linked_from_every_page(client, missions):
    home = client.get("/").get_data(as_text=True)
    for path, heading in [
        ("/accessibility", "Accessibility"),
        ("/privacy", "Privacy"),
        ("/cookies", "Cookies"),
    ]:
        assert f'href="{path}"' in home
        response = client.get(path)
        assert response.status_code == 200
        assert heading in response.get_data(as_text=True)


def test_pages_use_the_neutral_brand_not_the_crown(client, missions):
    html = client.get("/").get_data(as_text=True)
    assert "Deliberate" in html
    assert "govuk-header__logotype" not in html and "crown" not in html.lower()
    assert "/static/dist/app.css" in html


def test_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'class="govuk-heading-l"' in html


def test_403_400_and_500_pages(database_url, _migrated, tmp_path):
    app = make_test_app(database_url, tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.get("/forbidden-for-test")
    def forbidden():
        abort(403)

    @app.get("/broken-for-test")
    def broken():
        raise RuntimeError("boom")

    @app.get("/bad-for-test")
    def bad():
        abort(400)

    client = app.test_client()
    for path, status, words in [
        ("/forbidden-for-test", 403, "permission"),
        ("/broken-for-test", 500, "problem"),
        ("/bad-for-test", 400, "request"),
    ]:
        response = client.get(path)
        assert response.status_code == status
        html = response.get_data(as_text=True)
        assert words in html.lower() and "boom" not in html


def test_too_many_sign_in_attempts_get_a_friendly_429_page(database_url, _migrated, tmp_path):
    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        statuses = [
            submit_form(
                client, "/sign-in", {"email": "x@example.org", "password": "wrong password!"}
            ).status_code
            for _ in range(6)
        ]
        assert statuses[:5] == [200] * 5  # five wrong guesses at one account ...
        assert statuses[5] == 429  # ... then that account waits
        response = submit_form(
            client, "/sign-in", {"email": "x@example.org", "password": "wrong password!"}
        )
        assert response.status_code == 429
        assert "too many" in response.get_data(as_text=True).lower()
        assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
