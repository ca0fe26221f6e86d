"""Cells that a spreadsheet will not run, and the text they stand for.

Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP "CSV injection"), so every CSV the site writes gives such a
text cell a leading apostrophe, which spreadsheets read as "this is text". Text that already
starts with apostrophes before one of those characters (``'=x``, written by someone) gets one more,
so ``restore_cell`` can take exactly one off and a download read back gives the very text written:
``safe_cell`` and ``restore_cell`` are inverse, whatever the text.

Only text cells go through here; numbers stay numbers (``-1`` in votes.csv is a disagreement, not
a formula). Here, in the pure Polis format package, because its reader must undo what its writer
did; the audit log, the moderation log and every other CSV writer of the site use it too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_OR_TO_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")


def safe_cell(value: object) -> object:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula (or text that
    looks escaped already): then with a leading apostrophe."""
    if isinstance(value, str) and _ESCAPED_OR_TO_ESCAPE.match(value):
        return "'" + value
    return value


def restore_cell(text: str) -> str:
    """The text ``safe_cell`` was given: one leading apostrophe off a cell it escaped."""
    return text[1:] if _ESCAPED.match(text) else text


class TextRows:
    """A ``csv.writer`` for rows with text cells, ending lines with ``\\n`` as Polis does.

    Python's writer quotes a cell only for the characters of its own line ending, so with ``\\n``
    a lone carriage return went out bare and split the row for every reader. Rows are written with
    ``\\r\\n`` (which quotes both) and their ending then written as ``\\n``.
    """

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._row = io.StringIO()
        self._writer = csv.writer(self._row, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerow(row)
        self._handle.write(self._row.getvalue()[:-2] + "\n")

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
