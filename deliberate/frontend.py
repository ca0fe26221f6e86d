"""The GOV.UK Design System front end: template loading, the WTForms error helpers, and the
filters that write numbers and dates in the page's language.

Templates come first from our own ``templates/`` folder (the factory's ``template_folder``), then
from the two GOV.UK packages under their own prefixes, so a page imports a component as
``{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}``. For the
components that write English words of their own, ``deliberate.govuk_texts`` serves a macro of
the same name that passes them translated (GOV.UK's own stays reachable as
``govuk_frontend_upstream/...``).

Undefined stays at Jinja's default: the GOV.UK templates test optional values (``htmlClasses``,
``params.classes`` and the like) that are usually absent; ``StrictUndefined`` makes each an error.

Filters: ``number`` (1,150), ``day`` (3 March 2026; 3 Mawrth 2026 in Welsh) and ``file_size``
follow the page's language (Flask-Babel); ``counted`` and ``plural_form`` are the English-only
helpers of ``deliberate.wording``, kept for templates not yet converted: a translated template
writes its plurals with ``ngettext`` (tests/test_govuk_texts.py checks that it does).
"""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask_babel import format_date, format_decimal, ngettext
from govuk_frontend_wtf.main import WTFormsHelpers, wtforms_errors
from jinja2 import ChoiceLoader, FunctionLoader, PackageLoader, PrefixLoader

from deliberate import govuk_texts, wording

SERVICE_NAME = "Deliberate"
BRAND_COLOUR = "#0b4144"  # the "brand" colour compiled into static/scss/app.scss
DAY_PATTERN = "d MMMM y"  # 3 March 2026, as GOV.UK writes dates (CLDR pattern)


def number(n: int | float) -> str:
    """A count with the language's thousands separators: 1,150 (12.5 keeps one decimal)."""
    if isinstance(n, float) and not n.is_integer():
        return format_decimal(n, format="#,##0.0")
    return format_decimal(int(n), format="#,##0")


def day(value: date) -> str:
    """A date in the page's language: 3 March 2026, 3 Mawrth 2026."""
    return format_date(value, format=DAY_PATTERN, rebase=False)


def file_size(n_bytes: int) -> str:
    """A download's size: "850 bytes", "12 KB", "1.4 MB" (numbers in the page's language)."""
    if n_bytes < 1000:
        return ngettext("%(count)s byte", "%(count)s bytes", n_bytes, count=number(n_bytes))
    if n_bytes < 1_000_000:
        return f"{format_decimal(n_bytes / 1000, format='#,##0')} KB"
    return f"{format_decimal(n_bytes / 1_000_000, format='#,##0.0')} MB"


def _component_wrapper(name: str):
    source = govuk_texts.wrapper_source(name)
    return None if source is None else (source, None, lambda: True)


def init_app(app: Flask) -> None:
    loaders = [app.jinja_loader] if app.jinja_loader is not None else []
    app.jinja_loader = ChoiceLoader(
        [
            *loaders,
            FunctionLoader(_component_wrapper),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_upstream": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.globals.update(service_name=SERVICE_NAME, brand_colour=BRAND_COLOUR)
    WTFormsHelpers(app)
    app.jinja_env.globals.update(
        govuk_texts=govuk_texts.texts_for,
        wtforms_errors=govuk_texts.error_summary_of_form(wtforms_errors),
    )
    app.jinja_env.filters.update(
        counted=wording.counted,
        plural_form=wording.plural_form,
        number=number,
        file_size=file_size,
        day=day,
    )
