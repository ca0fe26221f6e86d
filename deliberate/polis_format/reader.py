"""Reading a Polis export folder, in every format generation seen in the wild.

Accepted: the classic five files; a matrix with an ``xid`` column after ``participant``; the 2024
comments.csv (no ``datetime``; ``is-meta``, ``is-seed``, ``group-informed-consensus`` added); the
2025 names (``<date>-<serial>-<conversation id>-comments.csv`` and ``participant-votes.csv``).
Columns are found by name, so their order and any extra column do not matter; timestamps written
in seconds are turned into milliseconds. Text cells escaped against spreadsheet formulas (a
leading apostrophe before ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, as our writer
and careful exporters write them) are read as the text they stand for.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from deliberate.polis_format.cells import restore_cell
from deliberate.polis_format.layout import locate_files
from deliberate.polis_format.model import (
    MODERATION_VALUES,
    VOTE_VALUES,
    PolisComment,
    PolisExport,
    PolisParticipant,
    PolisVote,
    latest_votes,
)
from deliberate.polis_format.table import SECONDS_BELOW, CsvTable, parse_integer

_MATRIX_FIXED = frozenset(
    ("participant", "xid", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
)


def read_export(folder: Path | str) -> PolisExport:
    """Read the export in ``folder``; raise ``PolisFormatError`` naming file and line on any fault.

    Where the final votes come from: when votes.csv exists it is the source, because it is the
    full history; per voter and comment the row with the latest timestamp wins, equal timestamps
    going to the later row (``latest_votes``). The matrix then only supplies participants, their
    xids and Polis group ids. Without votes.csv the non-blank matrix cells are the final votes, with
    no timestamp. A vote or matrix column for a comment absent from comments.csv is an error, as
    it would leave a vote nobody can show.
    """
    folder = Path(folder)
    files = locate_files(folder)
    comments = _read_comments(files["comments"])
    known_comments = {comment.comment_id for comment in comments}
    summary = _read_summary(files["summary"]) if "summary" in files else {}

    participants: dict[int, PolisParticipant] = {}
    votes: tuple[PolisVote, ...] = ()
    events: tuple[PolisVote, ...] = ()
    if "participants_votes" in files:
        participants, matrix_votes = _read_matrix(
            files["participants_votes"], known_comments, with_votes="votes" not in files
        )
        votes = tuple(sorted(matrix_votes, key=lambda v: (v.voter_id, v.comment_id)))
    if "votes" in files:
        events = _read_votes(files["votes"], known_comments)
        votes = latest_votes(events)
        for vote in votes:
            if vote.voter_id not in participants:
                participants[vote.voter_id] = PolisParticipant(vote.voter_id, None, None)

    return PolisExport(
        topic=summary.get("topic", ""),
        url=summary.get("url") or None,
        description=summary.get("conversation-description", ""),
        comments=comments,
        votes=votes,
        vote_events=events,
        participants=tuple(participants[pid] for pid in sorted(participants)),
        source_files=files,
        summary=summary,
    )


def _translations(
    table: CsvTable, line: int, cells: list[str], at: int | None
) -> tuple[tuple[str, str], ...]:
    """The ``translations`` extra column: a JSON object of language -> text, or empty."""
    if at is None or not cells[at].strip():
        return ()
    try:
        found = json.loads(restore_cell(cells[at]))
    except ValueError:
        raise table.error(line, "column 'translations' must be a JSON object") from None
    if not isinstance(found, dict):
        raise table.error(line, "column 'translations' must be a JSON object")
    return tuple(sorted((str(k), str(v)) for k, v in found.items()))


def _read_comments(path: Path) -> tuple[PolisComment, ...]:
    """Comments sorted by id (Polis orders them by an internal ranking that means nothing here)."""
    by_id: dict[int, tuple[int, PolisComment]] = {}
    with CsvTable(path, overflow_column="comment-body") as table:
        id_at = table.column("comment-id")
        body_at = table.column("comment-body")
        moderated_at = table.column("moderated")
        author_at = table.column("author-id", required=False)
        time_at = table.column("timestamp", required=False)
        meta_at = table.column("is-meta", required=False)
        seed_at = table.column("is-seed", required=False)
        language_at = table.column("language", required=False)
        translations_at = table.column("translations", required=False)
        for line, cells in table.rows():
            comment_id = table.integer(line, "comment-id", cells[id_at])
            moderated = table.integer(line, "moderated", cells[moderated_at])
            if moderated not in MODERATION_VALUES:
                raise table.error(line, f"column 'moderated' must be -1, 0 or 1, found {moderated}")
            if comment_id in by_id:
                first = by_id[comment_id][0]
                raise table.error(line, f"comment id {comment_id} already given on line {first}")
            comment = PolisComment(
                comment_id=comment_id,
                author_id=None
                if author_at is None
                else table.optional_integer(line, "author-id", cells[author_at]),
                text=restore_cell(cells[body_at]),
                moderated=moderated,
                created_ms=None
                if time_at is None
                else table.timestamp_ms(line, "timestamp", cells[time_at]),
                is_meta=meta_at is not None and table.flag(line, "is-meta", cells[meta_at]),
                is_seed=seed_at is not None and table.flag(line, "is-seed", cells[seed_at]),
                language=(cells[language_at].strip() or None) if language_at is not None else None,
                translations=_translations(table, line, cells, translations_at),
            )
            by_id[comment_id] = (line, comment)
    return tuple(by_id[comment_id][1] for comment_id in sorted(by_id))


def _read_votes(path: Path, known_comments: Collection[int]) -> tuple[PolisVote, ...]:
    events: list[PolisVote] = []
    with CsvTable(path) as table:
        comment_at = table.column("comment-id")
        voter_at = table.column("voter-id")
        vote_at = table.column("vote")
        time_at = table.column("timestamp", required=False)
        for line, cells in table.rows():
            try:  # the plain case inline: this loop runs once per vote ever cast
                comment_id = int(cells[comment_at])
                voter_id = int(cells[voter_at])
                vote = int(cells[vote_at])
                timestamp = None
                if time_at is not None:
                    timestamp = int(cells[time_at])
                    if timestamp < SECONDS_BELOW:
                        timestamp = table.timestamp_ms(line, "timestamp", cells[time_at])
            except ValueError:
                comment_id = table.integer(line, "comment-id", cells[comment_at])
                voter_id = table.integer(line, "voter-id", cells[voter_at])
                vote = table.integer(line, "vote", cells[vote_at])
                timestamp = None
                if time_at is not None:
                    timestamp = table.timestamp_ms(line, "timestamp", cells[time_at])
            if comment_id not in known_comments:
                raise table.error(line, f"vote for comment {comment_id}, absent from comments.csv")
            if vote not in VOTE_VALUES:
                raise table.error(line, f"column 'vote' must be -1, 0 or 1, found {vote}")
            events.append(PolisVote(voter_id, comment_id, vote, timestamp))
    return tuple(events)


def _read_matrix(
    path: Path, known_comments: Collection[int], *, with_votes: bool
) -> tuple[dict[int, PolisParticipant], list[PolisVote]]:
    """Participants of the matrix, and its cells as votes when ``with_votes`` (else unparsed)."""
    participants: dict[int, PolisParticipant] = {}
    first_line: dict[int, int] = {}
    votes: list[PolisVote] = []
    with CsvTable(path) as table:
        participant_at = table.column("participant")
        xid_at = table.column("xid", required=False)
        group_at = table.column("group-id", required=False)
        columns: list[tuple[int, int]] = []  # (position, comment id)
        for position, name in enumerate(table.header):
            if name in _MATRIX_FIXED:
                continue
            if not name.isdigit():
                continue  # a column some future export adds; it holds no votes
            comment_id = int(name)
            if comment_id not in known_comments:
                raise table.error(1, f"column for comment {comment_id}, absent from comments.csv")
            columns.append((position, comment_id))
        for line, cells in table.rows():
            pid = table.integer(line, "participant", cells[participant_at])
            if pid in participants:
                raise table.error(
                    line, f"participant {pid} already given on line {first_line[pid]}"
                )
            first_line[pid] = line
            xid = restore_cell(cells[xid_at].strip()) if xid_at is not None else ""
            participants[pid] = PolisParticipant(
                participant_id=pid,
                xid=xid or None,
                group_id=None
                if group_at is None
                else table.optional_integer(line, "group-id", cells[group_at]),
            )
            if not with_votes:
                continue
            for position, comment_id in columns:
                text = cells[position]
                if not text or text.isspace():
                    continue
                vote = parse_integer(text)
                if vote not in VOTE_VALUES:
                    raise table.error(
                        line, f"vote for comment {comment_id} must be -1, 0, 1 or blank: {text!r}"
                    )
                votes.append(PolisVote(pid, comment_id, vote, None))
    return participants, votes


def _read_summary(path: Path) -> dict[str, str]:
    """summary.csv has no header: ``key,value`` rows; unquoted commas in a value are rejoined."""
    summary: dict[str, str] = {}
    with CsvTable(path, header=False) as table:
        for _line, cells in table.rows():
            summary[cells[0].strip().lower()] = restore_cell(",".join(cells[1:]))
    return summary
