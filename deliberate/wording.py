"""Counts in words: "1 participant", "1,150 participants". The one place plural forms are made.

Pure Python: the reporting code counts in words too. Pages and emails use it through the Jinja
filters that ``deliberate.frontend`` registers: ``counted`` (``{{ n|counted("participant") }}``),
``number`` (thousands separators), ``file_size`` and ``day`` (3 March 2026).
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
