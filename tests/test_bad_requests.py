"""Every bad request gets the styled error page with a 4xx, never a 500: ids beyond the database's
integer, control characters in ``next``, bodies over the size limit, forms that cannot be read,
and whatever other error Werkzeug raises. On SQLite and PostgreSQL (where a too-large id used to
reach the database and fail there)."""

from __future__ import annotations

import re

import pytest

from deliberate.security import DATABASE_INT_MAX, digits_at_most
from tests.helpers import csrf_token_from, html_of, sign_in, submit_form, text_of

HUGE = "999999999999999999999999999999"


def assert_styled_error(response, status: int, title: str) -> None:
    assert response.status_code == status
    html = html_of(response)
    assert 'class="govuk-template"' in html and f"Error {status}" in html
    assert f'<h1 class="govuk-heading-l">{title}</h1>' in html
    assert response.headers["Content-Security-Policy"]


def int_routes(app, api: bool = False) -> list[tuple[str, str]]:
    """(method, URL template) of every route with an id in its path, read from the app itself:
    the site's pages, or (``api``) the JSON API's, which answer in JSON (tests/test_api.py)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule or rule.rule.startswith("/api/") != api:
            continue
        path = re.sub(r"<(?!int:)[^>]+>", "nhs", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


@pytest.fixture
def admin_client(client, create_user, missions):
    create_user(
        email="admin@example.org", admin=True, moderator=True, team=tuple(missions.values())
    )
    sign_in(client, "admin@example.org")
    return client


def test_ids_beyond_the_database_integer_are_not_found_on_every_route(app, admin_client):
    routes = int_routes(app)
    assert len(routes) >= 25  # consultations, statements, ideas, report runs, manage pages ...
    token = csrf_token_from(html_of(admin_client.get("/account")))
    for too_large in (HUGE, str(DATABASE_INT_MAX + 1), "9" * 5000):
        for method, path in routes:
            url = re.sub(r"<int:[^>]+>", too_large, path)
            response = admin_client.open(url, method=method, data={"csrf_token": token})
            assert_styled_error(response, 404, "Page not found")


def test_the_largest_id_the_database_holds_reaches_the_page_and_is_not_found(app, admin_client):
    token = csrf_token_from(html_of(admin_client.get("/account")))
    for method, path in int_routes(app):
        url = re.sub(r"<int:[^>]+>", str(DATABASE_INT_MAX), path)
        response = admin_client.open(url, method=method, data={"csrf_token": token})
        assert 400 <= response.status_code < 500, (method, url, response.status_code)


@pytest.mark.parametrize(
    "next_",
    [
        "/account%0Aevil",
        "/account%0D%0ASet-Cookie:%20x=1",
        "/account%09",
        "/%0D",
        "/%7F",
        "/\\evil.example",
    ],
)
def test_control_characters_in_next_send_the_person_to_the_default_page(client, create_user, next_):
    create_user(email="person@example.org")
    response = submit_form(
        client,
        f"/sign-in?next={next_}",
        {"email": "person@example.org", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your account" in html_of(client.get("/"))  # signed in


def test_a_safe_next_is_still_followed(client, create_user):
    create_user(email="person@example.org")
    response = submit_form(
        client,
        "/sign-in?next=/missions/nhs%3Fx%3D1",
        {"email": "person@example.org", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/missions/nhs?x=1"


def test_a_body_over_the_limit_gets_the_styled_too_large_page(client, create_user, missions):
    five_mb = 5 * 1024 * 1024
    token = csrf_token_from(html_of(client.get("/sign-in")))
    for path in ["/sign-in", "/register", "/consultations/1/comments"]:
        response = client.post(
            path, data={"csrf_token": token, "text": "x" * five_mb, "email": "a@example.org"}
        )
        assert_styled_error(response, 413, "The file or text you sent is too large")
        multipart = client.post(
            path,
            data={"csrf_token": token, "text": "x" * five_mb},
            content_type="multipart/form-data",
        )
        assert_styled_error(multipart, 413, "The file or text you sent is too large")


def test_a_form_that_is_not_utf8_is_refused_saying_so(client, create_user, missions):
    token = csrf_token_from(html_of(client.get("/sign-in")))
    for body in [b"&email=\xff\xfe@example.org", b"&password=caf\xe9"]:
        response = client.post(
            "/sign-in",
            data=b"csrf_token=" + token.encode() + body,
            content_type="application/x-www-form-urlencoded",
        )
        assert_styled_error(response, 400, "The form contained characters that could not be read")
        assert "Your form expired" not in html_of(response)
    # Percent-encoded bytes that are not UTF-8 are read as the text they spell, not refused.
    response = client.post(
        "/sign-in",
        data=b"csrf_token=" + token.encode() + b"&email=%FF%FE&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "Enter an email address in the correct format" in html_of(response)


def test_a_nul_character_in_the_address_is_refused_before_the_database_sees_it(client, missions):
    """PostgreSQL can neither store nor compare text holding NUL: a 400, never a 500."""
    for path in ["/missions/nh%00s", "/missions/nh%00s/ideas", "/account/verify-staff/a%00b"]:
        response = client.get(path)
        assert_styled_error(
            response, 400, "The web address contained characters that could not be read"
        )


def test_other_http_errors_get_the_styled_page(client):
    response = client.post("/")
    assert_styled_error(response, 405, "Sorry, that did not work")
    assert response.headers["Allow"]
    # A range past the end of a file: 416, which has no words of its own.
    response = client.get("/static/images/favicon.svg", headers={"Range": "bytes=999999-"})
    assert_styled_error(response, 416, "Sorry, there is a problem with your request")
    assert "Go back and try again" in text_of(html_of(response))


def test_the_id_pattern_matches_exactly_the_numbers_the_database_holds():
    pattern = re.compile(digits_at_most(DATABASE_INT_MAX))
    for n in [0, 1, 9, 10, 2**31 - 2, DATABASE_INT_MAX, 1_999_999_999, 2_147_483_639]:
        assert pattern.fullmatch(str(n)) and pattern.fullmatch(f"00{n}"), n
    for n in [DATABASE_INT_MAX + 1, 2_147_483_650, 2_200_000_000, 9_999_999_999, 10**10, 2**63]:
        assert not pattern.fullmatch(str(n)), n
    for limit in [0, 7, 10, 99, 100, 2019]:
        small = re.compile(digits_at_most(limit))
        assert [n for n in range(3 * limit + 20) if small.fullmatch(str(n))] == list(
            range(limit + 1)
        )
