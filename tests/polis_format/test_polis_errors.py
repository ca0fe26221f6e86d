"""Malformed exports raise PolisFormatError naming the file, the physical line and the problem."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from deliberate.polis_format import PolisFormatError, read_export

from .csvfiles import read_rows, write_rows


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def start_line(rows: list[list[str]], index: int) -> int:
    """Physical line of rows[index] once written: counted from the text, not from a CSV reader."""
    return csv_text(rows[:index]).count("\n") + 1


def after_multiline_bodies(rows: list[list[str]]) -> int:
    """Index of the first row that follows at least two bodies spanning several lines."""
    seen = 0
    for index, row in enumerate(rows):
        if seen >= 2:
            return index
        seen += "\n" in row[-1]
    raise AssertionError("expected multi-line bodies in the real data")


def raises_at(folder: Path, file: str, line: int | None, *words: str) -> PolisFormatError:
    with pytest.raises(PolisFormatError) as caught:
        read_export(folder)
    error = caught.value
    message = str(error)
    assert error.file.name == file and file in message
    if line is not None:
        assert error.line == line
        assert re.search(rf"\bline {line}\b", message), message
    for word in words:
        assert word in message, message
    return error


def test_bad_moderation_value_after_multiline_bodies(copy_of) -> None:
    folder = copy_of("15-per-hour-seattle")
    rows = read_rows(folder / "comments.csv")
    index = after_multiline_bodies(rows)
    line = start_line(rows, index)
    assert line > index + 1  # earlier bodies really shifted the physical lines
    rows[index][rows[0].index("moderated")] = "2"
    write_rows(folder / "comments.csv", rows)
    raises_at(folder, "comments.csv", line, "moderated", "2")


def test_non_integer_comment_id_after_multiline_bodies(copy_of) -> None:
    folder = copy_of("scoop-hivemind.freshwater")
    rows = read_rows(folder / "comments.csv")
    index = after_multiline_bodies(rows) + 3
    rows[index][rows[0].index("comment-id")] = "twelve"
    write_rows(folder / "comments.csv", rows)
    raises_at(folder, "comments.csv", start_line(rows, index), "comment-id", "'twelve'")


def test_bad_vote_value(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "votes.csv")
    rows[120][rows[0].index("vote")] = "2"
    write_rows(folder / "votes.csv", rows)
    raises_at(folder, "votes.csv", 121, "vote", "2")


def test_non_integer_voter_id(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "votes.csv")
    rows[300][rows[0].index("voter-id")] = "anonymous"
    write_rows(folder / "votes.csv", rows)
    raises_at(folder, "votes.csv", 301, "voter-id", "'anonymous'")


def test_vote_for_a_comment_absent_from_comments_csv(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "votes.csv")
    rows[7][rows[0].index("comment-id")] = "999"
    write_rows(folder / "votes.csv", rows)
    raises_at(folder, "votes.csv", 8, "999", "absent from comments.csv")


def test_matrix_column_for_an_unknown_comment(tmp_path: Path, copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "votes.csv").unlink()
    rows = read_rows(folder / "participants-votes.csv")
    rows[0][-1] = "999"
    write_rows(folder / "participants-votes.csv", rows)
    raises_at(folder, "participants-votes.csv", 1, "999")


def test_bad_matrix_cell(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "votes.csv").unlink()
    rows = read_rows(folder / "participants-votes.csv")
    rows[5][rows[0].index("4")] = "yes"
    write_rows(folder / "participants-votes.csv", rows)
    raises_at(folder, "participants-votes.csv", 6, "comment 4", "'yes'")


def test_missing_column(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "votes.csv")
    write_rows(folder / "votes.csv", [row[:-1] for row in rows])  # drops "vote"
    raises_at(folder, "votes.csv", 1, "missing column 'vote'")


def test_row_with_the_wrong_number_of_fields(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "votes.csv")
    rows[40].append("1")
    write_rows(folder / "votes.csv", rows)
    raises_at(folder, "votes.csv", 41, "expected 5 fields", "found 6")


def test_duplicate_comment_id_names_both_lines(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "comments.csv")
    rows[9][2] = rows[4][2]
    write_rows(folder / "comments.csv", rows)
    raises_at(folder, "comments.csv", 10, "already given on line 5")


def test_missing_comments_file(tmp_path: Path, copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "comments.csv").unlink()
    raises_at(folder, "comments.csv", None, "missing")


def test_missing_votes_and_matrix(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "votes.csv").unlink()
    (folder / "participants-votes.csv").unlink()
    raises_at(folder, "votes.csv", None, "missing", "participants-votes.csv")


def test_not_a_folder(tmp_path: Path) -> None:
    raises_at(tmp_path / "nowhere", "nowhere", None, "not a folder")


def test_two_candidate_files_for_one_role(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "2025-08-29-0002-7btrabcujr-comments.csv").write_bytes(
        (folder / "comments.csv").read_bytes()
    )
    error = raises_at(folder, "london.youth.policing", None, "several files")
    assert "2025-08-29-0002-7btrabcujr-comments.csv" in str(error)


def test_text_that_is_not_utf8(copy_of) -> None:
    folder = copy_of("15-per-hour-seattle")
    rows = read_rows(folder / "comments.csv")
    index = after_multiline_bodies(rows) + 1
    rows[index][-1] = "A caf\u00e9 owner's view"
    text = csv_text(rows)
    line = text[: text.index("caf\u00e9")].count("\n") + 1
    data = text.encode("utf-8").replace("caf\u00e9".encode(), "caf\u00e9".encode("latin-1"))
    (folder / "comments.csv").write_bytes(data)
    raises_at(folder, "comments.csv", line, "not UTF-8", "0xe9")


def test_unterminated_quote_at_the_end(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    rows = read_rows(folder / "comments.csv")
    text = csv_text(rows) + '1658934700000,Wed,99,4,0,0,1,"A body that never ends\n'
    (folder / "comments.csv").write_text(text, encoding="utf-8")
    raises_at(folder, "comments.csv", len(rows) + 1, "unreadable CSV record")


def test_empty_votes_file(copy_of) -> None:
    folder = copy_of("london.youth.policing")
    (folder / "votes.csv").write_bytes(b"")
    raises_at(folder, "votes.csv", None, "empty")


def test_the_error_is_a_value_error_with_its_parts() -> None:
    error = PolisFormatError(Path("x/votes.csv"), 12, "column 'vote' must be -1, 0 or 1")
    assert isinstance(error, ValueError)
    assert str(error) == "x/votes.csv, line 12: column 'vote' must be -1, 0 or 1"
    assert (error.file, error.line) == (Path("x/votes.csv"), 12)
