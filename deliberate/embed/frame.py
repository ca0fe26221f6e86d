"""Living inside another website's page: who may frame the embed pages, and their cookies.

- **Framing.** The embed routes (and only they) send a Content-Security-Policy whose
  ``frame-ancestors`` lists exactly the origins of ``DELIBERATE_EMBED_ORIGINS``, and no
  X-Frame-Options (which cannot list sites); every other page keeps ``frame-ancestors 'none'``
  and ``X-Frame-Options: DENY``. With no origin set the embed routes refuse framing as well.
- **Cookies.** The site's session and participant cookies are SameSite=Lax, which a browser
  neither sends to nor accepts from a frame on another site. The embed routes use cookies of
  their own, limited to ``/embed``: ``SameSite=None; Secure; Partitioned`` when the request came
  over HTTPS, or to a loopback host (browsers treat http://localhost as secure). They then work
  in a third-party frame where the browser allows third-party cookies, and as partitioned cookies
  (CHIPS: kept apart for each top-level site) where it allows only those. On any other plain-HTTP
  host they stay Lax, since SameSite=None needs Secure and Secure needs HTTPS: the frame then
  works only inside a page of the same site. Where no cookie comes back, the answer's CSRF check
  fails and the embed page offers the consultation in a new tab (``views``).
- Cookies of its own also mean nobody is signed in inside a frame: the embed takes part
  anonymously, and the site's signed-in session is never made SameSite=None.
"""

from __future__ import annotations

import ipaddress
from functools import partial, wraps
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from deliberate.security import CONTENT_SECURITY_POLICY

EMBED_PATH = "/embed"
SESSION_COOKIE = "deliberate_embed_session"
PARTICIPANT_COOKIE = "deliberate_embed_participant"


def in_frame_route() -> bool:
    """This request is for an embed page. Read from the path, not the endpoint: Flask opens the
    session before it matches the URL."""
    if not has_request_context():
        return False
    path = request.path
    return path == EMBED_PATH or path.startswith(EMBED_PATH + "/")


def _loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cross_site_cookies() -> bool:
    """Whether this response can set cookies a browser keeps in a third-party frame."""
    return (
        request.is_secure
        or bool(current_app.config.get("SESSION_COOKIE_SECURE"))
        or _loopback(request.host)
    )


def cookie_attributes() -> dict:
    """``set_cookie`` attributes of the embed routes' cookies (see the module's docstring)."""
    if cross_site_cookies():
        return {"samesite": "None", "secure": True, "partitioned": True, "path": EMBED_PATH}
    return {"samesite": "Lax", "secure": False, "partitioned": False, "path": EMBED_PATH}


class FramedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, kept in a cookie of its own on the embed routes."""

    def get_cookie_name(self, app: Flask) -> str:
        return SESSION_COOKIE if in_frame_route() else super().get_cookie_name(app)

    def get_cookie_path(self, app: Flask) -> str:
        return EMBED_PATH if in_frame_route() else super().get_cookie_path(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_attributes()["secure"] if in_frame_route() else super().get_cookie_secure(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        if in_frame_route():
            return cookie_attributes()["samesite"]
        return super().get_cookie_samesite(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        if in_frame_route():
            return cookie_attributes()["partitioned"]
        return super().get_cookie_partitioned(app)


def framing_policy(origins: tuple[str, ...]) -> dict:
    """Talisman's options for a view that the listed origins may show in a frame."""
    policy = {**CONTENT_SECURITY_POLICY, "frame-ancestors": " ".join(origins) or "'none'"}
    options: dict = {"content_security_policy": policy}
    if origins:
        options["frame_options"] = None  # X-Frame-Options cannot name sites: CSP does
    return options


def init_app(app: Flask) -> None:
    app.session_interface = FramedSessionInterface()


def allow_framing(app: Flask) -> None:
    """After the blueprints: the embed views may be framed by ``EMBED_ORIGINS``, nothing else.

    Talisman reads a view's options from an attribute of the view; each app gets views of its
    own here, since one view function serves every app (tests build several, with other origins).
    """
    options = framing_policy(tuple(app.config.get("EMBED_ORIGINS") or ()))
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("embed."):
            framed = wraps(view)(partial(view))
            framed.talisman_view_options = {**getattr(view, "talisman_view_options", {}), **options}
            app.view_functions[endpoint] = framed
