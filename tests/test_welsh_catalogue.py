"""The Welsh catalogue: marked as needing review, placeholders kept, all six plural forms.

A translation that loses or renames a ``%(name)s`` placeholder makes the page raise KeyError
(or show the raw placeholder); a ``%{count}`` is read by GOV.UK Frontend's JavaScript."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from deliberate.config import PROJECT_ROOT

WELSH_PO = PROJECT_ROOT / "deliberate" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%\{(\w+)\}")
# Welsh plural forms: n == 0, 1, 2, 3, 6, and every other number (CLDR: zero, one, two, few, many,
# other).
WELSH_FORMS = 6


@pytest.fixture(scope="module")
def catalogue():
    with WELSH_PO.open("rb") as po:
        return read_po(po, locale="cy")


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def test_the_header_says_it_needs_review_by_a_welsh_translator(catalogue):
    comment = " ".join(catalogue.header_comment.split())
    assert "NEEDS REVIEW BY A WELSH TRANSLATOR BEFORE LIVE USE" in comment
    assert "needs review" in catalogue.last_translator
    assert catalogue.num_plurals == WELSH_FORMS


def test_every_translation_keeps_the_placeholders_of_its_message(catalogue):
    broken = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = placeholders(ids[0]) | placeholders(ids[-1])
        for string in strings:
            # A plural form may leave out the count ("un bleidlais"), never add or rename one.
            found = placeholders(string)
            if string and (found - wanted or (len(ids) == 1 and found != wanted)):
                broken.append((ids[0], string))
    assert broken == []


def test_every_plural_message_has_all_six_welsh_forms(catalogue):
    short = [
        message.id[0]
        for message in catalogue
        if isinstance(message.id, tuple)
        and (len(message.string) != WELSH_FORMS or not all(message.string))
    ]
    assert short == []


def test_the_checks_find_a_broken_placeholder():
    assert placeholders("Answered %(n)s of %(total)s") == {"n", "total"}
    assert placeholders("Mae gennych %{count} nod yn weddill") == {"count"}
    assert placeholders("Atebwyd %(nifer)s") != placeholders("Answered %(n)s")
