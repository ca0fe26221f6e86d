"""What every response says about itself, and the requests refused before any view sees them.

- Security headers through Flask-Talisman: a Content-Security-Policy that allows no inline script
  or style (every script and stylesheet is a file under /static), no framing, ``nosniff``, a
  referrer policy, and in production HSTS, ``Secure`` cookies and a redirect to HTTPS (the app
  sits behind a proxy that says ``X-Forwarded-Proto: https``; ``/healthz`` answers plain HTTP so
  a load balancer can ask it; ProxyFix believes the proxy's X-Forwarded-For and -Proto).
- ``Cache-Control: no-store`` on the account, team and admin pages, and on every response to
  someone the site knows (signed in, or holding a participant cookie), so a shared computer's
  back button or a proxy never shows one person's page to the next.
- No ``Server`` header from the app (gunicorn, in front in production, names no version).
- Ids in URLs: the ``int`` converter stops at the database's integer, so a larger number is a
  404 like any other missing page, never a database error.
- A form body that is not UTF-8 is refused with a 400 that says so (Werkzeug would read it as an
  empty form, and the CSRF check would then say the form expired), and so is a NUL character in
  the address, which PostgreSQL can neither store nor compare. A NUL in a form field is each
  form's business: the forms drop it (their filters), as they drop other control characters.
"""

from __future__ import annotations

from flask import Flask, Response, request, session
from flask_talisman import Talisman
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

# The largest id PostgreSQL's INTEGER column holds (ids are INTEGER primary keys).
DATABASE_INT_MAX = 2**31 - 1

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

PERMISSIONS_POLICY = {
    "browsing-topics": "()",
    "camera": "()",
    "geolocation": "()",
    "microphone": "()",
    "payment": "()",
}

# Pages that are a person's own, whoever asks: never stored by a browser or a proxy.
PRIVATE_PATH_PREFIXES = ("/account", "/manage", "/admin")

# Endpoints a load balancer asks over plain HTTP: never redirected to HTTPS.
PLAIN_HTTP_ENDPOINTS = ("pages.healthz", "pages.readyz")


def digits_at_most(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to ``limit`` (leading zeros allowed)."""
    text = str(limit)
    shorter = [f"[0-9]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    lowest = [1 if i == 0 and len(text) > 1 else 0 for i in range(len(text))]  # no leading 0
    same_length_below = [
        f"{text[:i]}[{lowest[i]}-{int(digit) - 1}][0-9]{{{len(text) - i - 1}}}"
        for i, digit in enumerate(text)
        if int(digit) > lowest[i]
    ]
    return "0*(?:" + "|".join([*shorter, *same_length_below, text]) + ")"


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` as Werkzeug has it, bounded by the database's integer. A larger number does
    not match the route's pattern at all, so the visitor gets the styled 404 (a bound checked only
    after matching gives 405 where another method shares the path)."""

    regex = digits_at_most(DATABASE_INT_MAX)

    def __init__(self, map, fixed_digits=0, min=None, max=DATABASE_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class UnreadableInput(BadRequest):
    """The form (or the web address) held characters the site cannot read or store."""

    def __init__(self, where: str = "form") -> None:
        super().__init__(f"The {where} contained characters that could not be read.")
        self.where = where


def use_database_ids(app: Flask) -> None:
    """Before any route is added: every ``<int:...>`` in a URL rule stops at the database's int."""
    app.url_map.converters["int"] = DatabaseIdConverter


def init_app(app: Flask) -> None:
    """Call before CSRFProtect: a form that cannot be read is refused before the CSRF check
    would read it as an empty form and say it expired."""
    config = app.config
    # One Talisman per app: it keeps its settings on itself, and tests build several apps. A view
    # that needs other headers (the embed page) says so with Talisman's decorator, e.g.
    # ``@Talisman()(frame_options=None, content_security_policy={...})``.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=config["FORCE_HTTPS"],
        strict_transport_security=config["HSTS"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy=PERMISSIONS_POLICY,
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=config.get("SESSION_COOKIE_SAMESITE") or "Lax",
        x_content_type_options=True,
    )
    app.before_request(refuse_unreadable_input)
    app.after_request(never_store_private_pages)
    app.after_request(name_no_server)
    proxies = config["TRUSTED_PROXIES"]
    if proxies:
        # Behind the proxy: the request was HTTPS (secure cookies, https:// links in emails, the
        # CSRF referrer check) and came from the address the proxy saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def allow_plain_http(app: Flask) -> None:
    """After the blueprints: health checks answer over plain HTTP even where HTTPS is forced."""
    for endpoint in PLAIN_HTTP_ENDPOINTS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            view.talisman_view_options = {"force_https": False}


def refuse_unreadable_input() -> None:
    if "\x00" in request.path:  # PostgreSQL can neither store nor compare text holding NUL
        raise UnreadableInput("web address")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        # Werkzeug reads a body that is not UTF-8 as an empty form; look at the bytes first
        # (get_data keeps them for the form parser, and stops at MAX_CONTENT_LENGTH with a 413).
        try:
            request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableInput() from None


def _is_private() -> bool:
    if request.path.startswith(PRIVATE_PATH_PREFIXES):
        return True
    if request.endpoint == "static":
        return False
    from deliberate.consultations.participant_cookie import cookie_name

    return "_user_id" in session or cookie_name() in request.cookies


def never_store_private_pages(response: Response) -> Response:
    if _is_private():
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def name_no_server(response: Response) -> Response:
    """The app names no server software; the server in front names itself. In production that
    is gunicorn, which sends just "gunicorn" (no version). Werkzeug's development server always
    sends "Werkzeug/x Python/y" itself, whatever the app does: it serves only a developer's
    loopback and the browser tests."""
    response.headers.pop("Server", None)
    return response
