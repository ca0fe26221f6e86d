"""Reading and writing test CSV files with the csv module alone, apart from the code tested."""

from __future__ import annotations

import csv
from pathlib import Path

from deliberate.polis_format import PolisExport


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]], *, encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def matrix_votes(path: Path) -> dict[tuple[int, int], int]:
    """The non-blank cells of a participants-votes.csv, parsed independently of the reader."""
    header, *rows = read_rows(path)
    first = header.index("n-disagree") + 1
    cells = {}
    for row in rows:
        for name, value in zip(header[first:], row[first:], strict=True):
            if value != "":
                cells[(int(row[0]), int(name))] = int(value)
    return cells


def final_votes(export: PolisExport) -> dict[tuple[int, int], int]:
    return {(v.voter_id, v.comment_id): v.vote for v in export.votes}
