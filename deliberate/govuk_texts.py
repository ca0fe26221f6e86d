"""The words GOV.UK Frontend components write themselves, in the language of the page.

Several components of govuk-frontend-jinja carry English defaults ("There is a problem",
"Error:", "Back", "Important", "Menu", the character count's "You have 20 characters
remaining"...). Rather than ask every page to pass the translated texts, ``deliberate.frontend``
serves its own ``govuk_frontend_jinja/components/<name>/macro.html`` for each component listed
in ``COMPONENTS``: a macro of the same name that fills in the texts a page did not give, through
``texts_for`` (gettext, so they sit in the catalogue), then calls GOV.UK's own macro
(reachable under the ``govuk_frontend_upstream/`` prefix). Pages keep importing the components
as before; what a page passes always wins.

Texts the GOV.UK JavaScript writes in the browser (the character count, the password
"Show"/"Hide" button) are passed as the component's i18n parameters; a plural text is given
for each plural category of the language (``Intl.PluralRules``: "one"/"other" in English,
"zero"/"one"/"two"/"few"/"many"/"other" in Welsh), each taken from the catalogue's plural form
for a number of that category.

A component with default English text that is not listed here must not be used in a template
(tests/test_govuk_texts.py checks the imports).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from babel import Locale
from flask_babel import get_locale, gettext, ngettext
from jinja2 import Undefined
from markupsafe import Markup

# The JavaScript's count placeholder; given as the value of %(count)s, so that the catalogue keeps
# the usual placeholders.
JS_COUNT = "%{count}"

# Components of govuk-frontend-jinja with text of their own, and the macro each defines.
COMPONENTS = {
    "back-link": "govukBackLink",
    "breadcrumbs": "govukBreadcrumbs",
    "character-count": "govukCharacterCount",
    "date-input": "govukDateInput",
    "error-message": "govukErrorMessage",
    "error-summary": "govukErrorSummary",
    "notification-banner": "govukNotificationBanner",
    "pagination": "govukPagination",
    "password-input": "govukPasswordInput",
    "service-navigation": "govukServiceNavigation",
    "skip-link": "govukSkipLink",
    "warning-text": "govukWarningText",
}
# Components that write no words of their own (every text comes from the page).
NO_TEXT_OF_THEIR_OWN = {
    "button",
    "checkboxes",
    "details",
    "fieldset",
    "generic-header",
    "hint",
    "inset-text",
    "input",
    "label",
    "panel",
    "phase-banner",
    "radios",
    "select",
    "summary-list",
    "table",
    "tag",
    "textarea",
}

WRAPPER = """\
{%- from "govuk_frontend_upstream/components/COMPONENT/macro.html" import MACRO as upstream -%}
{%- macro MACRO(params) -%}
{%- if caller -%}
{%- set page_caller = caller -%}
{%- call upstream(govuk_texts("COMPONENT", params)) -%}{{ page_caller() }}{%- endcall -%}
{%- else -%}
{{ upstream(govuk_texts("COMPONENT", params)) }}
{%- endif -%}
{%- endmacro -%}
"""


def wrapper_source(template_name: str) -> str | None:
    """The source of our ``macro.html`` for a component listed in COMPONENTS, else None."""
    prefix, _, rest = template_name.partition("/components/")
    component = rest.removesuffix("/macro.html")
    if prefix != "govuk_frontend_jinja" or component not in COMPONENTS:
        return None
    return WRAPPER.replace("COMPONENT", component).replace("MACRO", COMPONENTS[component])


def _absent(params: Mapping[str, Any], key: str) -> bool:
    return key not in params or isinstance(params[key], Undefined) or params[key] is None


def _default(params: dict[str, Any], key: str, value: Callable[[], Any]) -> None:
    if _absent(params, key):
        params[key] = value()


@cache
def _samples(language: str) -> tuple[tuple[str, int], ...]:
    """A number of each plural category of the language, as ``Intl.PluralRules`` names them."""
    rule = Locale.parse(language).plural_form
    found: dict[str, int] = {}
    for n in range(200):
        found.setdefault(rule(n), n)
    return tuple(found.items())


def _language() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "en"


def plural_messages(text: Callable[[int], str]) -> dict[str, str]:
    """The text for each plural category of the page's language: ``text(n)`` (an ``ngettext``
    call, so that extraction finds the message) for a number ``n`` of each category."""
    return {category: text(n) for category, n in _samples(_language())}


def _character_count(params: dict[str, Any]) -> None:
    if params.get("maxwords"):
        _default(
            params,
            "textareaDescriptionText",
            lambda: gettext("You can enter up to %(count)s words", count=JS_COUNT),
        )
        _default(
            params,
            "wordsUnderLimitText",
            lambda: plural_messages(
                lambda n: ngettext(
                    "You have %(count)s word remaining",
                    "You have %(count)s words remaining",
                    n,
                    count=JS_COUNT,
                )
            ),
        )
        _default(params, "wordsAtLimitText", lambda: gettext("You have 0 words remaining"))
        _default(
            params,
            "wordsOverLimitText",
            lambda: plural_messages(
                lambda n: ngettext(
                    "You have %(count)s word too many",
                    "You have %(count)s words too many",
                    n,
                    count=JS_COUNT,
                )
            ),
        )
        return
    _default(
        params,
        "textareaDescriptionText",
        lambda: gettext("You can enter up to %(count)s characters", count=JS_COUNT),
    )
    _default(
        params,
        "charactersUnderLimitText",
        lambda: plural_messages(
            lambda n: ngettext(
                "You have %(count)s character remaining",
                "You have %(count)s characters remaining",
                n,
                count=JS_COUNT,
            )
        ),
    )
    _default(params, "charactersAtLimitText", lambda: gettext("You have 0 characters remaining"))
    _default(
        params,
        "charactersOverLimitText",
        lambda: plural_messages(
            lambda n: ngettext(
                "You have %(count)s character too many",
                "You have %(count)s characters too many",
                n,
                count=JS_COUNT,
            )
        ),
    )


def _date_input(params: dict[str, Any]) -> None:
    # govuk-frontend-wtf's date widget names its boxes "Day", "Month" and "Year" in English.
    words = {"Day": gettext("Day"), "Month": gettext("Month"), "Year": gettext("Year")}
    items = params.get("items")
    if _absent(params, "items") or not items:
        params["items"] = [
            {"name": name, "label": words[name.capitalize()], "classes": f"govuk-input--width-{w}"}
            for name, w in (("day", 2), ("month", 2), ("year", 4))
        ]
        return
    params["items"] = [
        {**item, "label": words.get(item.get("label"), item.get("label"))}
        if isinstance(item, Mapping)
        else item
        for item in items
    ]


def _error_summary(params: dict[str, Any]) -> None:
    if _absent(params, "titleHtml"):
        _default(params, "titleText", lambda: gettext("There is a problem"))


def _notification_banner(params: dict[str, Any]) -> None:
    if _absent(params, "titleHtml"):
        success = params.get("type") == "success"
        _default(
            params, "titleText", lambda: gettext("Success") if success else gettext("Important")
        )


def _back_link(params: dict[str, Any]) -> None:
    if _absent(params, "html"):
        _default(params, "text", lambda: gettext("Back"))


def _pagination_link(link: Any, visible: str, label: str) -> Any:
    if not isinstance(link, Mapping) or link.get("html") or link.get("text"):
        return link
    html = Markup(
        '<span aria-hidden="true">{}</span><span class="govuk-visually-hidden">{}</span>'
    ).format(visible, label)
    return {**link, "html": html}


def _pagination(params: dict[str, Any]) -> None:
    _default(params, "landmarkLabel", lambda: gettext("Pagination"))
    if params.get("previous"):
        params["previous"] = _pagination_link(
            params["previous"], gettext("Previous"), gettext("Previous page")
        )
    if params.get("next"):
        params["next"] = _pagination_link(params["next"], gettext("Next"), gettext("Next page"))
    if params.get("items"):
        params["items"] = [
            {**item, "visuallyHiddenText": gettext("Page %(number)s", number=item["number"])}
            if isinstance(item, Mapping)
            and "number" in item
            and _absent(item, "visuallyHiddenText")
            else item
            for item in params["items"]
        ]


def _password_input(params: dict[str, Any]) -> None:
    _default(params, "showPasswordText", lambda: gettext("Show"))
    _default(params, "hidePasswordText", lambda: gettext("Hide"))
    _default(params, "showPasswordAriaLabelText", lambda: gettext("Show password"))
    _default(params, "hidePasswordAriaLabelText", lambda: gettext("Hide password"))
    _default(params, "passwordShownAnnouncementText", lambda: gettext("Your password is visible"))
    _default(params, "passwordHiddenAnnouncementText", lambda: gettext("Your password is hidden"))


def _service_navigation(params: dict[str, Any]) -> None:
    _default(params, "menuButtonText", lambda: gettext("Menu"))
    _default(params, "ariaLabel", lambda: gettext("Service information"))


FILL: dict[str, Callable[[dict[str, Any]], None]] = {
    "back-link": _back_link,
    "breadcrumbs": lambda p: _default(p, "labelText", lambda: gettext("Breadcrumb")),
    "character-count": _character_count,
    "date-input": _date_input,
    "error-message": lambda p: _default(p, "visuallyHiddenText", lambda: gettext("Error")),
    "error-summary": _error_summary,
    "notification-banner": _notification_banner,
    "pagination": _pagination,
    "password-input": _password_input,
    "service-navigation": _service_navigation,
    "skip-link": lambda p: _default(p, "text", lambda: gettext("Skip to main content")),
    "warning-text": lambda p: _default(p, "iconFallbackText", lambda: gettext("Warning")),
}


def texts_for(component: str, params: Mapping[str, Any] | Undefined | None) -> dict[str, Any]:
    """The component's params with its own texts filled in, translated (a new dict: the page's
    own is left as it was)."""
    filled = dict(params) if isinstance(params, Mapping) else {}
    FILL[component](filled)
    return filled


def error_summary_of_form(upstream: Callable[..., dict[str, Any]]) -> Callable[..., dict]:
    """govuk-frontend-wtf's ``wtforms_errors`` global, with its title in the page's language."""

    def wtforms_errors(form: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        given = dict(params or {})
        summary = upstream(form, given)
        if _absent(given, "titleText") and _absent(given, "titleHtml"):
            summary["titleText"] = gettext("There is a problem")
        return summary

    return wtforms_errors
