"""Every export variant met in the wild, rebuilt from real files, reads to the same final votes."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from deliberate.polis_format import PolisExport, read_export

from .csvfiles import final_votes, read_rows, write_rows

ReadReal = Callable[[str], PolisExport]
PREFIX = "2025-08-29-0002-7btrabcujr-"


def linked(folder: Path, source: Path, *names: str) -> Path:
    """A folder holding only some files of a real export (symlinks: nothing is copied)."""
    folder.mkdir()
    for name in names:
        (folder / name).symlink_to(source / name)
    return folder


def test_matrix_with_an_xid_column(tmp_path: Path, copy_of, read_real: ReadReal) -> None:
    folder = copy_of("brexit-consensus")
    header, *rows = read_rows(folder / "participants-votes.csv")
    xids = {int(row[0]): f"citizen-{row[0]}@example.org" for row in rows if int(row[0]) % 2}
    rows = [[row[0], xids.get(int(row[0]), ""), *row[1:]] for row in rows]
    write_rows(folder / "participants-votes.csv", [[header[0], "xid", *header[1:]], *rows])

    export = read_export(folder)
    original = read_real("brexit-consensus")
    assert export.votes == original.votes
    assert export.polis_groups() == original.polis_groups()
    assert {p.participant_id: p.xid for p in export.participants if p.xid} == xids
    assert all(p.xid is None for p in export.participants if p.participant_id % 2 == 0)


def test_matrix_without_an_xid_column(tmp_path: Path, copy_of, read_real: ReadReal) -> None:
    folder = copy_of("london.youth.policing")  # the real file has one
    header, *rows = read_rows(folder / "participants-votes.csv")
    assert header[1] == "xid"
    write_rows(folder / "participants-votes.csv", [[r[0], *r[2:]] for r in [header, *rows]])
    export = read_export(folder)
    original = read_real("london.youth.policing")
    assert export.votes == original.votes
    assert export.participants == original.participants


def test_2024_comments_format(copy_of, read_real: ReadReal) -> None:
    """No datetime; is-meta, is-seed, group-informed-consensus; seconds; columns found by name."""
    folder = copy_of("15-per-hour-seattle")
    header, *rows = read_rows(folder / "comments.csv")
    at = {name: header.index(name) for name in header}
    new_header = ["comment-id", "timestamp", "author-id", "agrees", "disagrees", "moderated"]
    new_header += ["is-meta", "is-seed", "group-informed-consensus", "comment-body"]
    new_rows = []
    for row in rows:
        comment_id = int(row[at["comment-id"]])
        new_rows.append(
            [
                row[at["comment-id"]],
                str(int(row[at["timestamp"]]) // 1000),
                row[at["author-id"]],
                row[at["agrees"]],
                row[at["disagrees"]],
                row[at["moderated"]],
                "true" if comment_id == 0 else "false",
                "true" if comment_id < 3 else "false",
                "0.4421",
                row[at["comment-body"]],
            ]
        )
    write_rows(folder / "comments.csv", [new_header, *new_rows])

    export = read_export(folder)
    original = read_real("15-per-hour-seattle")
    assert export.votes == original.votes
    assert [c.comment_id for c in export.comments if c.is_meta] == [0]
    assert [c.comment_id for c in export.comments if c.is_seed] == [0, 1, 2]
    for new, old in zip(export.comments, original.comments, strict=True):
        assert (new.comment_id, new.author_id, new.text, new.moderated) == (
            old.comment_id,
            old.author_id,
            old.text,
            old.moderated,
        )
        assert new.created_ms == old.created_ms // 1000 * 1000  # seconds became milliseconds


@pytest.mark.parametrize("name", ["15-per-hour-seattle", "london.youth.policing"])
def test_2025_prefixed_names_and_participant_votes(name: str, copy_of, read_real: ReadReal) -> None:
    """Prefixed names, participant-votes.csv with a column per comment, seconds, no views."""
    folder = copy_of(name)
    comment_ids = sorted(int(r[2]) for r in read_rows(folder / "comments.csv")[1:])
    header, *rows = read_rows(folder / "participants-votes.csv")
    fixed = header.index("n-disagree") + 1
    full = []
    for row in rows:
        cells = dict(zip(header[fixed:], row[fixed:], strict=True))
        full.append([*row[:fixed], *(cells.get(str(cid), "") for cid in comment_ids)])
    write_rows(folder / f"{PREFIX}participant-votes.csv", [header[:fixed] + comment_ids, *full])
    (folder / "participants-votes.csv").unlink()

    header, *rows = read_rows(folder / "votes.csv")
    for row in rows:
        row[0] = str(int(row[0]) // 1000)  # newer servers write seconds: re-votes now tie
    write_rows(folder / f"{PREFIX}votes.csv", [header, *rows])
    (folder / "votes.csv").unlink()
    summary = [row for row in read_rows(folder / "summary.csv") if row[0] != "views"]
    write_rows(folder / f"{PREFIX}summary.csv", summary)
    (folder / "summary.csv").unlink()
    (folder / "comments.csv").rename(folder / f"{PREFIX}comments.csv")
    write_rows(folder / f"{PREFIX}stats-history.csv", [["n-voters", "n-commenters"], ["1", "1"]])
    write_rows(folder / f"{PREFIX}comment-groups.csv", [["comment-id", "comment"]])

    export = read_export(folder)
    original = read_real(name)
    assert final_votes(export) == final_votes(original)
    assert export.participants == original.participants
    assert export.comments == original.comments
    assert all(v.timestamp_ms % 1000 == 0 for v in export.vote_events)
    assert "views" not in export.summary
    assert export.source_files["participants_votes"].name == f"{PREFIX}participant-votes.csv"

    without_url = [row for row in summary if row[0] != "url"]
    write_rows(folder / f"{PREFIX}summary.csv", without_url)
    assert read_export(folder).conversation_id == "7btrabcujr"


def test_matrix_only_gives_the_same_final_votes(
    tmp_path: Path, conversation: Path, real_export: PolisExport
) -> None:
    folder = linked(tmp_path / "x", conversation, "comments.csv", "participants-votes.csv")
    export = read_export(folder)
    assert final_votes(export) == final_votes(real_export)
    assert all(v.timestamp_ms is None for v in export.votes)
    assert export.vote_events == ()
    assert export.participants == real_export.participants
    assert (export.topic, export.url) == ("", None)  # no summary.csv: optional


def test_votes_only_gives_the_same_final_votes(
    tmp_path: Path, polis_data: Path, read_real: ReadReal
) -> None:
    source = polis_data / "scoop-hivemind.freshwater"
    folder = linked(tmp_path / "x", source, "comments.csv", "votes.csv", "summary.csv")
    export = read_export(folder)
    original = read_real("scoop-hivemind.freshwater")
    assert export.votes == original.votes
    assert [p.participant_id for p in export.participants] == [
        p.participant_id for p in original.participants
    ]
    assert export.polis_groups() == {}


def test_latest_timestamp_wins_whatever_the_row_order(copy_of, read_real: ReadReal) -> None:
    folder = copy_of("15-per-hour-seattle")
    header, *rows = read_rows(folder / "votes.csv")
    rows.reverse()
    write_rows(folder / "votes.csv", [header, *rows])
    reversed_export = read_export(folder)
    random.Random(7).shuffle(rows)
    write_rows(folder / "votes.csv", [header, *rows])
    shuffled_export = read_export(folder)

    original = read_real("15-per-hour-seattle")
    assert reversed_export.votes == original.votes
    assert shuffled_export.votes == original.votes
    last_row_wins = {(v.voter_id, v.comment_id): v.vote for v in reversed_export.vote_events}
    assert last_row_wins != final_votes(original)  # so file order alone would have been wrong


def test_equal_timestamps_go_to_the_later_row_and_blank_ones_lose(tmp_path: Path) -> None:
    write_rows(
        tmp_path / "comments.csv",
        [["comment-id", "author-id", "moderated", "comment-body"], ["0", "1", "1", "Statement"]],
    )
    write_rows(
        tmp_path / "votes.csv",
        [
            ["timestamp", "comment-id", "voter-id", "vote"],
            ["1500000000", "0", "1", "1"],
            ["1500000000", "0", "1", "-1"],  # same second, later row: wins
            ["1500000001000", "0", "2", "0"],
            ["", "0", "2", "1"],  # no timestamp: older than any
            ["", "0", "3", "1"],
            ["", "0", "3", "-1"],
        ],
    )
    export = read_export(tmp_path)
    assert final_votes(export) == {(1, 0): -1, (2, 0): 0, (3, 0): -1}
    assert export.votes[0].timestamp_ms == 1_500_000_000_000  # seconds read as milliseconds


def test_byte_order_mark_and_windows_line_endings(copy_of, read_real: ReadReal) -> None:
    folder = copy_of("15-per-hour-seattle")
    for name in ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv"):
        rows = read_rows(folder / name)
        with (folder / name).open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, lineterminator="\r\n").writerows(rows)
    assert (folder / "votes.csv").read_bytes().startswith(b"\xef\xbb\xbftimestamp")
    export = read_export(folder)
    original = read_real("15-per-hour-seattle")
    assert export.comments == original.comments  # bodies keep their own newlines
    assert export.votes == original.votes
    assert export.participants == original.participants
    assert export.topic == original.topic


def test_unquoted_bodies_with_commas_are_rejoined(tmp_path: Path) -> None:
    """An early Polis server wrote comment-body without quotes."""
    (tmp_path / "comments.csv").write_text(
        "timestamp,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1500000000000,0,4,1,0,1,Bread, butter, and jam\n"
        "1500000000001,1,4,0,0,1,No comma here\n",
        encoding="utf-8",
    )
    (tmp_path / "votes.csv").write_text(
        "timestamp,comment-id,voter-id,vote\n1500000000002,0,4,1\n", encoding="utf-8"
    )
    (tmp_path / "summary.csv").write_text(
        "topic,Breakfast, lunch and tea\nurl,https://pol.is/abc123\n", encoding="utf-8"
    )
    export = read_export(tmp_path)
    assert [c.text for c in export.comments] == ["Bread, butter, and jam", "No comma here"]
    assert export.topic == "Breakfast, lunch and tea"
    assert export.conversation_id == "abc123"


def test_matrix_rewritten_by_a_spreadsheet_tool(tmp_path: Path) -> None:
    """pandas writes integer columns with blanks as floats: 1.0, -1.0, 0.0."""
    write_rows(
        tmp_path / "comments.csv",
        [["comment-id", "moderated", "comment-body"], ["0", "1", "A"], ["1", "-1", "B"]],
    )
    write_rows(
        tmp_path / "participants-votes.csv",
        [
            ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree", "0", "1"],
            ["0", "1.0", "0", "2", "1", "1", "1.0", "-1.0"],
            ["1", "", "0", "1", "0", "0", "", "0.0"],
        ],
    )
    export = read_export(tmp_path)
    assert final_votes(export) == {(0, 0): 1, (0, 1): -1, (1, 1): 0}
    assert export.polis_groups() == {0: 1}
    assert [c.author_id for c in export.comments] == [None, None]
