"""Numbers, dates and the GOV.UK components' own words follow the page's language."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from deliberate.govuk_texts import COMPONENTS, NO_TEXT_OF_THEIR_OWN
from deliberate.i18n import COOKIE
from tests.helpers import html_of, submit_form, text_of
from tests.test_translations import PENDING, TEMPLATES, _folder, _templates

WELSH = {"Accept-Language": "cy"}


def render(app, source: str, headers: dict | None = None, **context) -> str:
    with app.test_request_context(headers=headers or {}):
        return app.jinja_env.from_string(source).render(**context)


def test_dates_and_numbers_are_written_in_the_language_of_the_page(app):
    page = "{{ d|day }} | {{ n|number }} | {{ x|number }} | {{ b|file_size }} | {{ one|file_size }}"
    values = {"d": date(2026, 3, 3), "n": 1150, "x": 12.5, "b": 850, "one": 1}
    assert render(app, page, **values) == "3 March 2026 | 1,150 | 12.5 | 850 bytes | 1 byte"
    assert render(app, page, WELSH, **values) == "3 Mawrth 2026 | 1,150 | 12.5 | 850 beit | 1 beit"
    # A datetime gives its own day (no shift of time zone), as before.
    assert render(app, "{{ d|day }}", WELSH, d=datetime(2026, 12, 31, 23, 30)) == (
        "31 Rhagfyr 2026"
    )
    assert render(app, "{{ 1_400_000|file_size }}") == "1.4 MB"


def test_an_email_rendered_by_a_job_is_in_english_without_a_request(app):
    with app.app_context():
        text = app.jinja_env.from_string("{{ _('Back') }} {{ d|day }}").render(d=date(2026, 3, 3))
    assert text == "Back 3 March 2026"


def test_the_error_summary_and_error_messages_of_a_form_are_in_welsh(client, missions):
    english = html_of(submit_form(client, "/sign-in", {"email": "", "password": ""}))
    assert "There is a problem" in english
    assert '<span class="govuk-visually-hidden">Error:</span>' in english
    client.get("/language/cy?next=/sign-in")  # the switcher, as a person uses it
    welsh = html_of(submit_form(client, "/sign-in", {"email": "", "password": ""}))
    assert "Mae problem wedi codi" in welsh and "There is a problem" not in welsh
    assert '<span class="govuk-visually-hidden">Gwall:</span>' in welsh
    assert ">Error:<" not in welsh
    # The password box's "Show" button and what the browser's script says.
    assert 'data-i18n.show-password="Dangos"' in welsh
    assert 'data-i18n.password-shown-announcement="Mae eich cyfrinair yn weladwy"' in welsh
    # The skip link and the phase banner of every page.
    assert "Neidio i'r prif gynnwys" in text_of(welsh)
    assert re.search(r"govuk-phase-banner__content__tag[^>]*>\s*Beta", welsh)


def test_the_character_count_has_every_plural_category_of_the_language(app):
    page = (
        '{% from "govuk_frontend_jinja/components/character-count/macro.html" '
        "import govukCharacterCount %}"
        '{{ govukCharacterCount({"name": "comment", "maxlength": 500, '
        '"label": {"text": "Comment"}}) }}'
    )
    english = render(app, page)
    assert "You can enter up to 500 characters" in english
    assert 'data-i18n.characters-under-limit.one="You have %{count} character remaining"' in english
    assert (
        'data-i18n.characters-under-limit.other="You have %{count} characters remaining"' in english
    )
    assert set(re.findall(r"characters-under-limit\.(\w+)=", english)) == {"one", "other"}
    welsh = render(app, page, WELSH)
    assert "Gallwch ddefnyddio hyd at 500 nod" in welsh
    categories = set(re.findall(r"characters-over-limit\.(\w+)=", welsh))
    assert categories == {"zero", "one", "two", "few", "many", "other"}
    assert 'data-i18n.characters-over-limit.few="Mae gennych %{count} nod yn ormod"' in welsh
    assert 'data-i18n.characters-at-limit="Mae gennych 0 nod yn weddill"' in welsh
    # What a page gives wins over the defaults.
    given = page.replace(
        '"maxlength": 500', '"maxlength": 5, "textareaDescriptionText": "Up to %{count}"'
    )
    assert "Up to 5" in render(app, given, WELSH)


@pytest.mark.parametrize(
    ("call", "english", "welsh"),
    [
        ('govukBackLink({"href": "/"})', ">Back</a>", ">Yn ôl</a>"),
        ('govukWarningText({"text": "x"})', ">Warning</span>", ">Rhybudd</span>"),
        ('govukNotificationBanner({"text": "x"})', "Important", "Pwysig"),
        ('govukNotificationBanner({"type": "success", "text": "x"})', "Success", "Llwyddiant"),
        ('govukErrorSummary({"errorList": []})', "There is a problem", "Mae problem wedi codi"),
        (
            'govukServiceNavigation({"navigation": [{"href": "/", "text": "A"}, '
            '{"href": "/b", "text": "B"}]})',
            "Menu",
            "Dewislen",
        ),
        (
            'govukPagination({"previous": {"href": "/1"}, "next": {"href": "/3"}, '
            '"items": [{"number": 2, "href": "/2"}]})',
            'aria-label="Page 2"',
            'aria-label="Tudalen 2"',
        ),
        (
            'govukPagination({"previous": {"href": "/1"}})',
            "Previous page",
            "Tudalen flaenorol",
        ),
        (
            'govukDateInput({"id": "d", "fieldset": {"legend": {"text": "When"}}, "items": ['
            '{"name": "d", "label": "Day"}, {"name": "d", "label": "Month"}, '
            '{"name": "d", "label": "Year"}]})',
            "Month",
            "Mis",
        ),
    ],
)
def test_each_component_writes_its_own_words_in_the_language_of_the_page(app, call, english, welsh):
    name = call.split("(")[0]
    component = next(c for c, macro in COMPONENTS.items() if macro == name)
    page = (
        f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {name} %}}'
        f"{{{{ {call} }}}}"
    )
    assert english in render(app, page)
    in_welsh = render(app, page, WELSH)
    assert welsh in in_welsh and english not in in_welsh


def test_the_cookies_page_lists_the_language_cookie(client, missions):
    page = text_of(html_of(client.get("/cookies", headers=WELSH)))
    assert COOKIE in page
    assert "Mae'n cofio'r iaith a ddewisoch" in page and "1 flwyddyn" in page


IMPORTED = re.compile(r"govuk_frontend_jinja/components/([a-z-]+)/macro\.html")


def test_every_component_a_template_uses_has_its_words_translated():
    """A component that writes English of its own (accordion: "Show all sections", tabs:
    "Contents", exit this page...) needs an entry in deliberate/govuk_texts.py first."""
    used = {m for path in _templates() for m in IMPORTED.findall(path.read_text())}
    assert used - set(COMPONENTS) - NO_TEXT_OF_THEIR_OWN == set()


ENGLISH_ONLY = re.compile(r"\|\s*(counted|plural_form)\b")


@pytest.mark.parametrize(
    "template",
    [p for p in _templates() if _folder(p) not in PENDING],
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_a_converted_template_writes_plurals_with_ngettext(template):
    """``counted`` and ``plural_form`` know English plurals only (Welsh has six forms)."""
    assert ENGLISH_ONLY.findall(template.read_text()) == []


def test_the_english_only_filters_are_found():
    assert ENGLISH_ONLY.findall('{{ n|counted("vote") }} {{ n | plural_form("vote") }}') == [
        "counted",
        "plural_form",
    ]
    assert ENGLISH_ONLY.findall('{{ ngettext("%(num)s vote", "%(num)s votes", n) }}') == []
