"""Reading one CSV file of an export row by row, knowing the physical line of every record.

Comment bodies span several lines, so a record number is useless to someone fixing a file by hand:
every error raised here names the file and the physical line where the faulty record starts.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, TextIO, overload

from deliberate.polis_format.model import PolisFormatError

_TRUE = frozenset(("1", "true", "t", "yes", "y"))
_FALSE = frozenset(("0", "false", "f", "no", "n", ""))
# Timestamps below this are seconds (newer Polis exports round to seconds): 1e11 ms is 1973.
SECONDS_BELOW = 10**11


def parse_integer(text: str) -> int | None:
    """An integer cell, or None; tolerates "12.0", which spreadsheet tools write back."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


class CsvTable:
    """A CSV file with a header row, read as (first physical line, cells) pairs.

    Text must be UTF-8 (a byte-order mark is tolerated); blank rows are skipped. When the last
    header column is ``overflow_column``, a row with too many cells has its extra cells joined back
    into that column: some Polis servers wrote comment bodies without quotes, so each comma in a
    body split it.
    """

    def __init__(self, path: Path, *, header: bool = True, overflow_column: str | None = None):
        self.path = path
        try:
            self._handle: TextIO = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise self.error(None, f"cannot be opened ({exc.strerror})") from None
        self._reader = csv.reader(self._handle, strict=True)
        self._overflow = False
        self.header: list[str] = []
        self.header_line = 1
        self._index: dict[str, int] = {}
        if header:
            try:
                self._read_header()
            except BaseException:
                self._handle.close()
                raise
            self._overflow = self.header[-1] == overflow_column

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._handle.close()

    def error(self, line: int | None, problem: str) -> PolisFormatError:
        return PolisFormatError(self.path, line, problem)

    @overload
    def column(self, name: str, *, required: Literal[True] = True) -> int: ...
    @overload
    def column(self, name: str, *, required: bool) -> int | None: ...
    def column(self, name: str, *, required: bool = True) -> int | None:
        """Position of a column, or None when it is optional and absent."""
        position = self._index.get(name)
        if position is None and required:
            found = ", ".join(self.header)
            raise self.error(self.header_line, f"missing column '{name}' (found: {found})")
        return position

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (physical line where the record starts, cells), checking the width of each row."""
        reader = self._reader
        width = len(self.header)
        start = reader.line_num + 1
        try:
            for cells in reader:
                if cells and (cells[0] or any(cells)):  # spreadsheets leave rows of empty cells
                    if width and len(cells) != width:
                        cells = self._fit(start, cells, width)
                    yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise self.error(start, f"unreadable CSV record ({exc})") from None
        except UnicodeDecodeError:
            raise self._decoding_error() from None

    def integer(self, line: int, column: str, text: str) -> int:
        value = parse_integer(text)
        if value is None:
            raise self.error(line, f"column '{column}' must be an integer, found {text!r}")
        return value

    def optional_integer(self, line: int, column: str, text: str) -> int | None:
        return None if text.strip() == "" else self.integer(line, column, text)

    def timestamp_ms(self, line: int, column: str, text: str) -> int | None:
        """A timestamp in milliseconds; exports that write seconds are converted."""
        value = self.optional_integer(line, column, text)
        if value is not None and 0 <= value < SECONDS_BELOW:
            return value * 1000
        return value

    def flag(self, line: int, column: str, text: str) -> bool:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise self.error(line, f"column '{column}' must be true or false, found {text!r}")

    def _read_header(self) -> None:
        first = next(self.rows(), None)
        if first is None:
            raise self.error(None, "the file is empty (a header row was expected)")
        self.header_line, cells = first
        self.header = [cell.strip().lower() for cell in cells]
        for position, name in enumerate(self.header):
            if name in self._index:
                raise self.error(self.header_line, f"column '{name}' appears twice in the header")
            self._index[name] = position

    def _fit(self, line: int, cells: list[str], width: int) -> list[str]:
        if len(cells) > width and self._overflow:
            return [*cells[: width - 1], ",".join(cells[width - 1 :])]
        raise self.error(line, f"expected {width} fields as in the header, found {len(cells)}")

    def _decoding_error(self) -> PolisFormatError:
        """Find the first line that is not UTF-8: the text decoder only knows its buffer offset."""
        with self.path.open("rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    byte = line[exc.start]
                    return self.error(
                        number, f"not UTF-8 text (byte 0x{byte:02x} at byte {exc.start + 1})"
                    )
        return self.error(None, "not UTF-8 text")
