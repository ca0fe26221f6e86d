"""The six real conversations read completely and agree with what Polis itself computed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from deliberate.polis_format import PolisExport, read_export

from .csvfiles import final_votes, matrix_votes, read_rows

ReadReal = Callable[[str], PolisExport]

# The table in data/polis/README.md: participants, comments (rows of comments.csv), groups.
README_TABLE = {
    "15-per-hour-seattle": (339, 54, 2),
    "brexit-consensus": (204, 50, 2),
    "canadian-electoral-reform": (448, 174, 2),
    "london.youth.policing": (26, 39, 3),
    "scoop-hivemind.biodiversity": (536, 316, 2),
    "scoop-hivemind.freshwater": (117, 80, 2),
}


def test_counts_match_the_readme_table(conversation: Path, real_export: PolisExport) -> None:
    participants, comments, groups = README_TABLE[conversation.name]
    assert len(real_export.participants) == participants
    assert len(real_export.comments) == comments
    assert len(set(real_export.polis_groups().values())) == groups
    data_rows = len(read_rows(conversation / "votes.csv")) - 1
    assert len(real_export.vote_events) == data_rows


def test_seattle_has_23_rejected_comments_whose_votes_still_count(read_real: ReadReal) -> None:
    export = read_real("15-per-hour-seattle")
    moderation = Counter(c.moderated for c in export.comments)
    assert moderation == {1: 30, -1: 23, 0: 1}
    rejected = {c.comment_id for c in export.comments if c.moderated == -1}
    assert any(v.comment_id in rejected for v in export.votes)


def test_final_votes_equal_the_polis_matrix(conversation: Path, real_export: PolisExport) -> None:
    """Latest-wins over votes.csv reproduces, cell for cell, the matrix Polis exported."""
    expected = matrix_votes(conversation / "participants-votes.csv")
    assert final_votes(real_export) == expected
    assert len(real_export.votes) == len(expected)  # one final vote per voter and comment


def test_revotes_exist_so_latest_wins_is_really_exercised(read_real: ReadReal) -> None:
    export = read_real("15-per-hour-seattle")
    values: dict[tuple[int, int], set[int]] = {}
    for event in export.vote_events:
        values.setdefault((event.voter_id, event.comment_id), set()).add(event.vote)
    assert sum(len(v) > 1 for v in values.values()) == 7


def test_participants_xids_and_groups_come_from_the_matrix(
    conversation: Path, real_export: PolisExport
) -> None:
    header, *rows = read_rows(conversation / "participants-votes.csv")
    group_at = header.index("group-id")
    expected = {int(row[0]): int(row[group_at]) for row in rows if row[group_at] != ""}
    assert real_export.polis_groups() == expected
    assert [p.participant_id for p in real_export.participants] == sorted(int(r[0]) for r in rows)
    assert all(p.xid is None for p in real_export.participants)  # london has the column, empty


def test_comment_bodies_with_newlines_and_commas_are_read_whole(
    polis_data: Path, read_real: ReadReal
) -> None:
    header, *rows = read_rows(polis_data / "15-per-hour-seattle" / "comments.csv")
    id_at, body_at, time_at = (header.index(n) for n in ("comment-id", "comment-body", "timestamp"))
    expected = {int(r[id_at]): (r[body_at], int(r[time_at])) for r in rows}
    export = read_real("15-per-hour-seattle")
    assert {c.comment_id: (c.text, c.created_ms) for c in export.comments} == expected
    assert sum("\n" in c.text for c in export.comments) == 15


def test_summary_and_conversation_id(read_real: ReadReal) -> None:
    seattle = read_real("15-per-hour-seattle")
    assert (seattle.topic, seattle.url, seattle.conversation_id) == (
        "$15/hour",
        "https://pol.is/2demo",
        "2demo",
    )
    assert seattle.description.startswith("How do you think the new minimum wage law")
    assert seattle.summary["views"] == "6184"
    assert read_real("canadian-electoral-reform").description == ""
    assert read_real("brexit-consensus").conversation_id == "7wmvbjcjhp"


def test_biodiversity_keeps_every_row_of_its_vote_history(polis_data: Path) -> None:
    """Reading speed is measured by bench/bench_import.py, not asserted here."""
    export = read_export(polis_data / "scoop-hivemind.biodiversity")
    assert len(export.vote_events) == 29802
