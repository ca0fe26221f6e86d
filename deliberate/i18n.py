"""The interface language: English or Welsh, chosen by the person and remembered.

Flask-Babel translates every interface string (``gettext``/``ngettext`` in Python, ``_()`` and
``{% trans %}`` in templates) from the catalogues in ``deliberate/translations/`` (``.po`` files
kept in git; ``make install`` compiles them to ``.mo``). The language of a request is, in order:
the person's choice (the ``deliberate_language`` cookie, set by the switcher at
``/language/<code>``), else the best match of the browser's ``Accept-Language`` header, else
English. ``<html lang>`` and the switcher read ``current_language``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from flask_babel import Babel, get_locale

# The interface languages, each named in its own language (as a switcher names them).
LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT_LANGUAGE = "en"
COOKIE = "deliberate_language"
COOKIE_DAYS = 365

babel = Babel()
bp = Blueprint("language", __name__)


def chosen_language() -> str:
    """The language of this request: the remembered choice, else the browser's, else English.
    Outside a request (an email rendered by a background job, a CLI command): English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def _same_site_path(target: str | None) -> str:
    """Where to go back to after switching: a path on this site only (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.get("/language/<code>")
def switch(code: str):
    """Remember the language chosen and go back to the page it was chosen on. A GET link, as the
    GOV.UK pattern has it: it changes a preference only, never data."""
    response = redirect(_same_site_path(request.args.get("next")), 303)
    if code in LANGUAGES:
        response.set_cookie(
            COOKIE,
            code,
            max_age=COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def _switcher_links() -> list[dict[str, str]]:
    """The other languages, each as a link back to this page in that language."""
    here = request.full_path if request.query_string else request.path
    current = current_language()
    return [
        {"code": code, "name": name, "next": here}
        for code, name in LANGUAGES.items()
        if code != current
    ]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=chosen_language)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        current_language=current_language,
        other_languages=_switcher_links,
        LANGUAGES=LANGUAGES,
    )
