"""What every response tells the browser: what it may load (a Content-Security-Policy with no inline
script or style), that it may not be framed or sniffed, how much of the address to pass on, that a
person's own pages are never stored, no server version, and in production HTTPS only."""

from __future__ import annotations

import re

import pytest

from deliberate.config import settings_from_environment
from deliberate.extensions import db
from deliberate.models import Consultation
from deliberate.services import reports
from tests.conftest import make_test_app
from tests.helpers import REPO_ROOT, csrf_token_from, html_of, sign_in, submit_form
from tests.test_reports import analyse, reports_team, two_rounds

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return dict([*part.strip().split(" ", 1), ""][:2] for part in header.split(";"))


def assert_security_headers(response) -> None:
    assert policy(response) == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def assert_nothing_inline(html: str, where: str) -> None:
    assert not INLINE_SCRIPT.findall(html), f"inline script on {where}"
    assert not INLINE_STYLE.findall(html), f"inline style on {where}"


def test_pages_errors_and_files_carry_the_security_headers(client, missions):
    for path, status in [
        ("/", 200),
        ("/sign-in", 200),
        ("/missions/nhs", 200),
        ("/nope", 404),
        ("/static/images/favicon.svg", 200),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        assert_security_headers(response)
        # Development and tests: plain HTTP, no HSTS, no redirect.
        assert "Strict-Transport-Security" not in response.headers
    assert client.post("/").status_code == 405
    assert_security_headers(client.post("/"))


def test_no_template_or_page_has_inline_script_or_style(client, create_user, missions):
    for template in (REPO_ROOT / "templates").rglob("*.html"):
        if "email" in template.parts:
            continue  # emails are not pages: no CSP applies to them
        source = re.sub(
            r"{#.*?#}", "", template.read_text(), flags=re.S
        )  # comments may say "<script>"
        assert_nothing_inline(source, str(template.relative_to(REPO_ROOT)))
    for module in (REPO_ROOT / "deliberate").rglob("*.py"):
        assert not re.search(r"\bstyle=\\?[\"']", module.read_text()), module  # SVG built in Python

    # The GOV.UK page template's inline "js-enabled" snippet is a file now.
    for path in ["/", "/sign-in", "/register", "/missions/nhs", "/privacy", "/nope"]:
        html = html_of(client.get(path))
        assert_nothing_inline(html, path)
        assert '<script src="/static/dist/js-enabled.js"></script>' in html
        assert '<script type="module" src="/static/dist/init.js"></script>' in html
    create_user(email="admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    for path in ["/account", "/manage"]:
        assert_nothing_inline(html_of(client.get(path)), path)


def test_the_files_the_pages_load_are_served_with_their_types(client):
    """With nosniff the browser runs a script, or applies a stylesheet, only if its type says so."""
    for path, mimetype in [
        ("/static/dist/js-enabled.js", "text/javascript"),
        ("/static/dist/init.js", "text/javascript"),
        ("/static/dist/govuk/govuk-frontend.min.js", "text/javascript"),
        ("/static/dist/app.css", "text/css"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == mimetype, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"initAll()" in client.get("/static/dist/init.js").data
    assert b".app-table-wrap" in client.get("/static/dist/app.css").data  # the report's styles


def test_report_pages_and_downloads_keep_working_under_the_headers(app, client, missions):
    team = reports_team(missions)
    first, _ = two_rounds(missions, team)
    run = analyse(first.id)
    reports.publish_run(team, db.session.get(Consultation, first.id), run)
    db.session.commit()

    for path in [
        f"/consultations/{first.id}/report",
        f"/consultations/{first.id}/report/runs/{run.id}/statements",
        "/missions/nhs",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        html = html_of(response)
        assert_nothing_inline(html, path)
        if path.endswith("/report"):
            assert "<svg" in html  # the charts: SVG, with presentation attributes, no style=

    for name, mimetype in [
        ("results.json", "application/json"),
        ("polis-export.zip", "application/zip"),
    ]:
        response = client.get(f"/consultations/{first.id}/report/runs/{run.id}/{name}")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.data) > 100


def test_private_pages_are_never_stored(client, create_user, missions):
    # Anonymous: public pages may be kept; the sign-in redirect of a private page may not.
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    for path in ["/account", "/manage", "/admin"]:
        assert client.get(path).headers["Cache-Control"] == "no-store", path

    create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    for path in ["/account", "/manage", "/", "/missions/nhs", "/nope"]:
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    # Files are the same for everyone.
    assert "no-store" not in client.get("/static/images/favicon.svg").headers.get(
        "Cache-Control", ""
    )


def test_an_anonymous_participants_pages_are_never_stored(client, missions, app):
    from deliberate.consultations.participant_cookie import cookie_name

    client.set_cookie(cookie_name(), "anything", domain="deliberate.test")
    assert client.get("/missions/nhs").headers["Cache-Control"] == "no-store"


def test_the_app_names_no_server_software(app, client):
    from flask import Response

    from deliberate.security import name_no_server

    assert "Server" not in client.get("/").headers
    with app.test_request_context("/"):
        response = name_no_server(Response("x", headers={"Server": "Werkzeug/3.1 Python/3.11"}))
    assert "Server" not in response.headers


@pytest.fixture
def production_app(database_url, _migrated, tmp_path):
    settings = settings_from_environment(
        tmp_path,
        {
            "DELIBERATE_ENV": "production",
            "SECRET_KEY": "s" * 40,
            "DATABASE_URL": database_url,
            "REDIS_URL": "redis://127.0.0.1:6379/10",
            "DELIBERATE_CONTACT_EMAIL": "privacy@deliberate.service.gov.uk",
        },
    )
    development = settings_from_environment(tmp_path, {"SECRET_KEY": "s" * 40})
    # What production changes, on top of the test app's settings (its jobs stay in-process).
    kept = {"SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI", "LOG_FORMAT"}
    redis_only = {"RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"}  # a fallback for Redis, not used here
    changed = {
        k: v for k, v in settings.items() if v != development.get(k) and k not in kept | redis_only
    }
    assert {"ENV_NAME", "SESSION_COOKIE_SECURE", "FORCE_HTTPS", "HSTS"} <= set(changed)
    return make_test_app(database_url, tmp_path, **changed)


def test_production_is_https_only(production_app, app, create_user):
    create_user(email="person@example.org")
    client = production_app.test_client()

    # A plain HTTP request is sent to HTTPS; the health checks answer as they are.
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://deliberate.test/sign-in"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200

    # Behind the proxy (X-Forwarded-Proto) or over TLS: HSTS, and cookies only over HTTPS.
    proxied = {"X-Forwarded-Proto": "https"}
    response = client.get("/sign-in", headers=proxied)
    assert response.status_code == 200
    assert_security_headers(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31556926; includeSubDomains"
    response = submit_form(
        client,
        "https://deliberate.test/sign-in",
        {"email": "person@example.org", "password": "correct horse battery"},
        headers={"Referer": "https://deliberate.test/sign-in"},  # CSRF checks it over HTTPS
    )
    assert response.status_code == 302, html_of(response)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)

    # The proxy's word is taken (ProxyFix): the request counts as HTTPS, so CSRF checking also
    # wants the form to come from this site (its Referer), as Flask-WTF does over TLS.
    response = client.get("/account", headers=proxied)
    assert response.status_code == 200
    token = csrf_token_from(html_of(response))
    response = client.post("/sign-out", data={"csrf_token": token}, headers=proxied)
    assert response.status_code == 400 and "Your form expired" in html_of(response)
    response = client.post(
        "/sign-out",
        data={"csrf_token": token},
        headers={**proxied, "Referer": "https://deliberate.test/account"},
    )
    assert response.status_code == 302


def test_development_cookies_work_over_plain_http(client, create_user):
    create_user(email="person@example.org")
    response = sign_in(client, "person@example.org")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and not any("Secure" in c for c in cookies)
    assert all("HttpOnly" in c for c in cookies)
