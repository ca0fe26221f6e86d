"""Cells that a spreadsheet will not run: text starting with = + - @ or a tab/carriage return is
a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV injection"), so it gets a leading
apostrophe, which spreadsheets show as text and hide."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
