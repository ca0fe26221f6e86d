"""Every interface string is translatable, and every shipped language translates all of them.

The checker reads each template with Jinja's own lexer. Text between tags (``data``) must sit in a
``{% trans %}`` block or be free of words; a quoted string given to a GOV.UK component as a text
(``"text": "Continue"``) must be wrapped in ``_()``; so must the words of ``alt``, ``title``,
``aria-label`` and ``placeholder`` attributes. What is not interface text is allowed by name:
the words in ``NOT_TRANSLATED`` (names, formats) and whatever sits inside ``<code>``/``<pre>``.
The catalogue check extracts the messages as ``make translations`` does and requires a
non-empty Welsh translation of each (every plural form too).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

from deliberate.config import PROJECT_ROOT
from deliberate.i18n import LANGUAGES

TEMPLATES = PROJECT_ROOT / "templates"
TRANSLATIONS = PROJECT_ROOT / "deliberate" / "translations"
# Folders of templates still to be converted; each is removed as it is done. Empty when done.
PENDING: set[str] = set()
# Words that are the same in every language: names of things, formats and units.
NOT_TRANSLATED = {
    "Deliberate",
    "GOV.UK",
    "Polis",
    "CSV",
    "JSON",
    "ZIP",
    "API",
    "OpenAPI",
    "URL",
    "CC",
    "BY",
    "4.0",
    "Cymraeg",
    "English",
    "pol.is",
    "Markdown",
}
TEXT_KEYS = {
    "text",
    "titleText",
    "caption",
    "label",
    "hint",
    "legend",
    "summaryText",
    "descriptionText",
    "heading",
}
ATTRIBUTE_TEXT = re.compile(r'\b(?:alt|title|aria-label|placeholder)="([^"{]*[A-Za-z][^"{]*)"')
CODE = re.compile(r"<(code|pre)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
WORD = re.compile(r"[^\W\d_][\w.'\u2019-]*")


def _words(text: str) -> list[str]:
    text = ENTITY.sub(" ", TAG.sub(" ", CODE.sub(" ", text)))
    return [w for w in WORD.findall(text) if w.strip(".") not in NOT_TRANSLATED]


def _outside_tags(value: str, in_tag: bool) -> tuple[str, bool]:
    """The text of ``value`` outside HTML tags, and whether it ends inside a tag: a tag can run
    across Jinja tokens (``<a href="{{ url }}">``), so its state is carried from one to the next."""
    kept: list[str] = []
    for char in value:
        if in_tag:
            in_tag = char != ">"
            if not in_tag:
                kept.append(" ")
        elif char == "<":
            in_tag = True
            kept.append(" ")
        else:
            kept.append(char)
    return "".join(kept), in_tag


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of each piece of interface text in a template that is not translatable."""
    found: list[tuple[int, str]] = []
    # Only lexed, never rendered: autoescaping does not apply.
    tokens = list(Environment(extensions=["jinja2.ext.i18n"]).lex(source))  # noqa: S701
    in_trans = False
    in_tag = False
    significant = [t for t in tokens if t[1] != "whitespace"]
    for i, (line, kind, value) in enumerate(significant):
        if (
            kind == "name"
            and value in {"trans", "pluralize"}
            and significant[i - 1][1] == "block_begin"
        ):
            in_trans = True
        elif kind == "name" and value == "endtrans":
            in_trans = False
        elif kind == "data":
            for match in ATTRIBUTE_TEXT.finditer(value):
                found.append((line, match.group(0)))
            code_free = CODE.sub(" ", value)
            text, in_tag = _outside_tags(ATTRIBUTE_TEXT.sub(" ", code_free), in_tag)
            if not in_trans and _words(text):
                found.append((line, " ".join(value.split())[:80]))
        elif (
            kind == "string"
            and i >= 2
            and significant[i - 1][2] == ":"
            and significant[i - 2][1] == "string"
            and significant[i - 2][2].strip("\"'") in TEXT_KEYS
            and _words(value.strip("\"'"))
        ):
            found.append((line, value[:80]))
    return found


def _templates() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"})


def _folder(path: Path) -> str:
    parent = path.parent.relative_to(TEMPLATES)
    return str(parent) if str(parent) != "." else "."


@pytest.mark.parametrize(
    "template",
    [p for p in _templates() if _folder(p) not in PENDING],
    ids=lambda p: str(p.relative_to(TEMPLATES)),
)
def test_a_converted_template_holds_no_untranslated_text(template: Path):
    assert untranslated(template.read_text()) == []


def test_the_checker_finds_text_outside_the_catalogue():
    assert untranslated("<h1>Cookies</h1>") == [(1, "<h1>Cookies</h1>")]
    assert untranslated('{{ govukButton({"text": "Continue"}) }}') == [(1, '"Continue"')]
    assert untranslated('<img alt="A map of opinions" src="x">') != []
    assert untranslated("<h1>{{ _('Cookies') }}</h1>") == []
    assert untranslated('{{ govukButton({"text": _("Continue")}) }}') == []
    assert untranslated("{% trans n=3 %}{{ n }} people{% endtrans %}") == []
    assert untranslated('<p class="govuk-body">{{ count }} \u2013 {{ name }}</p>') == []
    assert untranslated("<p>Download the <code>run.json</code> as JSON</p>") != []
    assert untranslated("<p><code>curl https://example.org</code> (JSON)</p>") == []
    assert untranslated('<a class="govuk-link" href="{{ url }}">{{ _("Back") }}</a>') == []
    assert untranslated('<a class="govuk-link" href="{{ url }}">Back</a>') != []


def _extracted() -> set[str | tuple[str, ...]]:
    method_map = [
        ("deliberate/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    ids: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT),
        method_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None},
    ):
        ids.add(message)
    return ids


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_interface_string_has_a_translation(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale=language)
    missing = []
    for message_id in sorted(_extracted(), key=str):
        key = message_id[0] if isinstance(message_id, tuple) else message_id
        entry = catalogue.get(key)
        strings = entry.string if entry is not None else None
        ok = all(strings) if isinstance(strings, tuple) else bool(strings)
        if not ok:
            missing.append(key)
    assert missing == [], f"{len(missing)} strings have no {language} translation: {missing[:20]}"
