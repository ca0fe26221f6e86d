"""write_export then read_export gives back exactly what was written, in any language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from deliberate.polis_format import (
    PolisComment,
    PolisExport,
    PolisParticipant,
    PolisVote,
    read_export,
    write_export,
    write_votes_csv,
)

from .csvfiles import read_rows


def assert_same_content(written: PolisExport, original: PolisExport) -> None:
    """Same comments, final votes, participants (the reader may add unlisted voters at the end)."""
    assert written.comments == original.comments
    assert written.votes == original.votes
    assert written.participants[: len(original.participants)] == original.participants
    assert (written.topic, written.url, written.description) == (
        original.topic,
        original.url,
        original.description,
    )


def keyed(path: Path, key: str, *, drop: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """Rows of a CSV by the value of ``key``, without the ``drop`` columns."""
    header, *rows = read_rows(path)
    return {
        row[header.index(key)]: {h: v for h, v in zip(header, row, strict=True) if h not in drop}
        for row in rows
    }


@pytest.fixture(scope="session")
def write_real(tmp_path_factory: pytest.TempPathFactory, read_real) -> Callable[[str], Path]:
    """Write a real conversation with write_export, once per session."""
    folders: dict[str, Path] = {}

    def write(name: str) -> Path:
        if name not in folders:
            folders[name] = write_export(read_real(name), tmp_path_factory.mktemp(name))
        return folders[name]

    return write


def test_round_trip_is_exact(conversation: Path, real_export: PolisExport, write_real) -> None:
    written = read_export(write_real(conversation.name))
    assert_same_content(written, real_export)
    assert written.participants == real_export.participants
    assert written.vote_events == real_export.vote_events  # the history too, row for row
    assert written.polis_groups() == real_export.polis_groups()


def test_written_files_match_what_polis_wrote(conversation: Path, write_real) -> None:
    """Counts computed by the writer (n-votes, voters, ...) equal Polis's own numbers.

    Only datetime differs (written in UTC), the row order (Polis orders rows its own way), and
    comments.csv's agrees/disagrees, which count final answers (see the next test).
    """
    out = write_real(conversation.name)
    assert read_rows(out / "summary.csv") == read_rows(conversation / "summary.csv")
    drop = ("datetime", "xid")  # london's matrix has an xid column with no xid in it
    counts = ("agrees", "disagrees")
    assert keyed(out / "comments.csv", "comment-id", drop=drop + counts) == keyed(
        conversation / "comments.csv", "comment-id", drop=drop + counts
    )
    assert keyed(out / "participants-votes.csv", "participant", drop=drop) == keyed(
        conversation / "participants-votes.csv", "participant", drop=drop
    )
    assert [row[:1] + row[2:] for row in read_rows(out / "votes.csv")] == [
        row[:1] + row[2:] for row in read_rows(conversation / "votes.csv")
    ]


def test_comment_counts_are_final_answers_where_polis_counted_every_row(
    conversation: Path, real_export: PolisExport, write_real
) -> None:
    """Polis's comments.csv counted every row of votes.csv, so a changed answer counted twice and
    its counts disagreed with its own vote matrix; ours count final answers, as the matrix."""
    final: dict[str, list[int]] = {str(c.comment_id): [0, 0] for c in real_export.comments}
    every_row: dict[str, list[int]] = {str(c.comment_id): [0, 0] for c in real_export.comments}
    for counts, votes in ((final, real_export.votes), (every_row, real_export.vote_events)):
        for vote in votes:
            if vote.vote != 0:
                counts[str(vote.comment_id)][0 if vote.vote == 1 else 1] += 1
    ours = keyed(write_real(conversation.name) / "comments.csv", "comment-id")
    theirs = keyed(conversation / "comments.csv", "comment-id")
    assert {cid: [int(r["agrees"]), int(r["disagrees"])] for cid, r in ours.items()} == final
    if real_export.vote_events:  # Polis's own file: every row
        assert {
            cid: [int(r["agrees"]), int(r["disagrees"])] for cid, r in theirs.items()
        } == every_row


def test_final_votes_only_when_history_is_not_wanted(read_real, tmp_path: Path) -> None:
    original = read_real("15-per-hour-seattle")
    out = write_export(original, tmp_path / "out", history=False)
    written = read_export(out)
    assert written.votes == original.votes
    assert written.vote_events == original.votes  # one row per final vote
    assert len(read_rows(out / "votes.csv")) == len(original.votes) + 1


def test_matrix_only_export_round_trips(read_real, tmp_path: Path) -> None:
    original = read_real("london.youth.policing")
    stripped = PolisExport(
        topic=original.topic,
        url=original.url,
        description=original.description,
        comments=original.comments,
        votes=[PolisVote(v.voter_id, v.comment_id, v.vote, None) for v in original.votes],
        participants=original.participants,
    )
    written = read_export(write_export(stripped, tmp_path / "out"))
    assert_same_content(written, stripped)
    assert all(v.timestamp_ms is None for v in written.votes)


TEXTS = {
    1: "Wir brauchen mehr Bürgerbeteiligung – für Straßen, Brücken & Schulen.",  # noqa: RUF001
    2: "我们需要更多的公共交通，尤其是在农村地区。",  # noqa: RUF001
    3: "Dylai'r Llywodraeth wrando ar bobl ifanc ym mhob cwm: ŵyr, ŷd, Ŵ, Ŷ, â, ê, î, ô, û.",
    4: "يجب أن تكون الخدمات الصحية متاحة للجميع",
    5: "צריך יותר תחבורה ציבורית בשבת",
    6: 'A body with "quotes", commas,\nseveral\r\nlines and an emoji 🚲',
    7: "  leading and trailing spaces  ",
}


def multilingual_export() -> PolisExport:
    comments = [
        PolisComment(cid, cid % 3 or None, text, (1, 0, -1)[cid % 3], 1_700_000_000_000 + cid)
        for cid, text in TEXTS.items()
    ]
    comments.append(PolisComment(8, 2, "Ydych chi'n byw yng Nghymru?", 1, None, True, True))
    votes = [
        PolisVote(voter, cid, (voter + cid) % 3 - 1, 1_700_000_100_000 + voter * 10 + cid)
        for voter in range(5)
        for cid in range(1, 9)
        if (voter, cid) != (4, 8)
    ]
    participants = [PolisParticipant(voter, f"usuário-{voter}", voter % 2) for voter in range(3)]
    participants.append(PolisParticipant(3, None, None))
    return PolisExport(
        topic="Sut allwn ni wella trafnidiaeth? / Wie verbessern wir den Verkehr?",
        url="https://pol.is/4xyzwelsh",
        description="Dweud eich dweud, 说出你的看法, قل رأيك",
        comments=comments,
        votes=votes,
        vote_events=votes,
        participants=participants,
    )


def test_non_english_text_survives_the_round_trip(tmp_path: Path) -> None:
    original = multilingual_export()
    out = write_export(original, tmp_path / "out")
    written = read_export(out)
    assert_same_content(written, original)
    assert {c.comment_id: c.text for c in written.comments} == {
        **TEXTS,
        8: original.comments[-1].text,
    }
    assert [(c.is_meta, c.is_seed) for c in written.comments][-1] == (True, True)
    assert written.participants[4] == PolisParticipant(4, None, None)  # an unlisted voter is added
    assert written.conversation_id == "4xyzwelsh"
    assert not (out / "comments.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_writers_accept_generators(tmp_path: Path) -> None:
    original = multilingual_export()
    lazy = PolisExport(
        topic=original.topic,
        url=original.url,
        description=original.description,
        comments=(c for c in original.comments),
        votes=(v for v in original.votes),
        participants=iter(original.participants),
    )
    assert read_export(write_export(lazy, tmp_path / "out")).votes == original.votes
    tallies = write_votes_csv(tmp_path / "votes.csv", (v for v in original.votes))
    assert tallies[1] == (
        sum(v.vote == 1 for v in original.votes if v.comment_id == 1),
        sum(v.vote == -1 for v in original.votes if v.comment_id == 1),
    )


def test_inconsistent_exports_are_refused(tmp_path: Path) -> None:
    good = multilingual_export()
    stale_history = PolisExport(
        good.topic, good.url, good.description, good.comments, good.votes, good.votes[:-1]
    )
    unknown_comment = PolisExport(
        good.topic, good.url, good.description, good.comments[1:], good.votes
    )
    twice = PolisExport(
        good.topic, good.url, good.description, good.comments, [*good.votes, good.votes[0]]
    )
    for bad, words in (
        (stale_history, "do not reduce"),
        (unknown_comment, "comment 1"),
        (twice, "two final votes"),
    ):
        with pytest.raises(ValueError, match=words):
            write_export(bad, tmp_path / "out")


def test_a_225000_vote_export_parses_in_a_few_seconds(tmp_path: Path) -> None:
    """1,500 participants x 150 comments, plus 2,000 earlier votes that were changed.

    The files are written by hand (fast, and independent of the writer). CPU time is measured,
    not wall time, as other test suites share the cores.
    """
    folder = tmp_path / "big"
    folder.mkdir()
    bodies = "".join(f'{cid},1,"Statement {cid}, with a comma"\n' for cid in range(150))
    (folder / "comments.csv").write_text("comment-id,moderated,comment-body\n" + bodies)
    lines = ["timestamp,datetime,comment-id,voter-id,vote\n"]
    for pid in range(1500):
        base = 1_600_000_000_000 + pid * 1000
        lines += [f"{base + cid},,{cid},{pid},{(pid + cid) % 3 - 1}\n" for cid in range(150)]
    changed = range(0, 225_000, 112)  # written last, but older: they must lose
    for n in changed:
        pid, cid = divmod(n, 150)
        earlier = (pid + cid + 1) % 3 - 1  # never the final vote
        lines.append(f"{1_600_000_000_000 + pid * 1000 + cid - 1},,{cid},{pid},{earlier}\n")
    (folder / "votes.csv").write_text("".join(lines))

    export = read_export(folder)
    assert len(export.vote_events) == 225_000 + len(changed)
    assert len(export.votes) == 225_000
    assert all(v.vote == (v.voter_id + v.comment_id) % 3 - 1 for v in export.votes)
