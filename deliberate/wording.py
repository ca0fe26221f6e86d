"""Counts in words, in English: "1 participant", "1,150 participants".

Pure Python for pure code (the reporting layer imports no Flask): English only, with English
plurals (one form for 1, another for every other number) and English dates.

Pages do not use these for what people read in their language. A translated template writes a
plural with ``ngettext`` (``{{ ngettext("%(num)s person", "%(num)s people", n, num=n|number) }}``),
since Welsh has six plural forms; the ``number``, ``day`` and ``file_size`` filters are the
locale-aware ones of ``deliberate.frontend`` (Flask-Babel: "3 Mawrth 2026" in Welsh). The
``counted`` and ``plural_form`` filters still point here for templates not yet translated;
tests/test_govuk_texts.py fails when a translated template uses them.
Irregular plurals are given: ``counted(n, "person", "people")``.
"""

from __future__ import annotations

from datetime import date


def number(n: int | float) -> str:
    """A count with thousands separators: 1,150."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def plural_form(n: int | float, singular: str, plural: str | None = None) -> str:
    """The noun alone, in the form ``n`` takes (1 -> singular, anything else -> plural)."""
    return singular if n == 1 else (plural or f"{singular}s")


def counted(n: int | float, singular: str, plural: str | None = None) -> str:
    """``n`` and its noun: "1 participant", "0 participants", "1,937 people"."""
    return f"{number(n)} {plural_form(n, singular, plural)}"


def file_size(n_bytes: int) -> str:
    """A download's size as people read it: "850 bytes", "12 KB", "1.4 MB"."""
    if n_bytes < 1000:
        return counted(n_bytes, "byte")
    if n_bytes < 1_000_000:
        return f"{n_bytes / 1000:,.0f} KB"
    return f"{n_bytes / 1_000_000:,.1f} MB"


def day(value: date) -> str:
    """A date as people write it: 3 March 2026."""
    return f"{value.day} {value:%B %Y}"
