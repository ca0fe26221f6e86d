"""Writing an export in the classic Polis layout, the one every Polis tool reads.

``write_export`` writes comments.csv, votes.csv, participants-votes.csv and summary.csv so that
``read_export`` gives back the same comments, final votes and participants. The per-file writers
take plain iterables, so a caller can stream rows from a database cursor instead of building a
``PolisExport`` first.

Two departures from what Polis writes, both for people who open the files in a spreadsheet:
text cells that a spreadsheet would run as a formula get a leading apostrophe
(``deliberate.csv_cells``; ``TEXT_COLUMNS`` says which columns, and the reader takes it off
again), and the agrees/disagrees of comments.csv count final answers, as the vote matrix and
our report pages do, where Polis counted every row of votes.csv, changed answers included.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import chain
from pathlib import Path

from deliberate.polis_format.cells import TextRows, safe_cell
from deliberate.polis_format.model import (
    AGREE,
    DISAGREE,
    MODERATION_VALUES,
    PASS,
    VOTE_VALUES,
    PolisComment,
    PolisExport,
    PolisParticipant,
    PolisVote,
    latest_votes,
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CELL = {AGREE: "1", PASS: "0", DISAGREE: "-1"}
_STANDARD_MATRIX = ("group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
# The text columns, the only cells that may be escaped (file -> columns; summary.csv has no
# header: its values are escaped). Every other cell is a number, a date or empty.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "comments.csv": ("translations", "comment-body"),
    "participants-votes.csv": ("xid",),
    "summary.csv": ("the value of each row",),
}


def write_export(export: PolisExport, folder: Path | str, *, history: bool = True) -> Path:
    """Write ``export`` into ``folder`` (created if needed) and return the folder.

    votes.csv receives the vote history when ``history`` is set and the export has one, else the
    final votes; a history that does not reduce to ``export.votes`` is refused, since reading the
    files back would then give other votes than the export holds. Inconsistent input (duplicate
    ids, votes on unknown comments) raises ``ValueError`` rather than writing files that
    ``read_export`` would reject.
    """
    folder = Path(folder)
    _check_consistency(export)
    rows = export.votes
    if history and export.vote_events:
        final = latest_votes(export.vote_events)
        # Equal tuples are the usual case (and cheap: read_export shares the objects).
        if final != export.votes and set(final) != set(export.votes):
            raise ValueError("vote_events do not reduce to the export's final votes")
        rows = export.vote_events
    folder.mkdir(parents=True, exist_ok=True)
    write_votes_csv(folder / "votes.csv", rows)
    write_comments_csv(folder / "comments.csv", export.comments, final_tallies(export.votes))
    authored = Counter(c.author_id for c in export.comments if c.author_id is not None)
    write_participants_votes_csv(
        folder / "participants-votes.csv", export.participants, export.votes, authored
    )
    write_summary_csv(folder / "summary.csv", summary_rows(export))
    return folder


def write_votes_csv(path: Path, votes: Iterable[PolisVote]) -> dict[int, tuple[int, int]]:
    """Write votes.csv row by row; return (agrees, disagrees) per comment over the rows written.

    Those counts are what Polis put in comments.csv: every row, changed answers included.
    ``write_export`` puts the counts of final answers there instead (``final_tallies``).
    """
    agrees: Counter[int] = Counter()
    disagrees: Counter[int] = Counter()
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(("timestamp", "datetime", "comment-id", "voter-id", "vote"))
        for vote in votes:
            if vote.vote not in VOTE_VALUES:
                raise ValueError(f"vote must be -1, 0 or 1, found {vote!r}")
            if vote.vote == AGREE:
                agrees[vote.comment_id] += 1
            elif vote.vote == DISAGREE:
                disagrees[vote.comment_id] += 1
            stamp = vote.timestamp_ms
            if stamp is None:
                out.writerow(("", "", vote.comment_id, vote.voter_id, vote.vote))
            else:
                out.writerow((stamp, _datetime(stamp), vote.comment_id, vote.voter_id, vote.vote))
    return {cid: (agrees[cid], disagrees[cid]) for cid in agrees.keys() | disagrees.keys()}


def final_tallies(votes: Iterable[PolisVote]) -> dict[int, tuple[int, int]]:
    """(agrees, disagrees) per comment over final votes: the counts comments.csv carries, the
    same as the vote matrix's and the report page's."""
    agrees: Counter[int] = Counter()
    disagrees: Counter[int] = Counter()
    for vote in votes:
        if vote.vote == AGREE:
            agrees[vote.comment_id] += 1
        elif vote.vote == DISAGREE:
            disagrees[vote.comment_id] += 1
    return {cid: (agrees[cid], disagrees[cid]) for cid in agrees.keys() | disagrees.keys()}


def write_comments_csv(
    path: Path,
    comments: Iterable[PolisComment],
    tallies: Mapping[int, tuple[int, int]],
    *,
    flags: bool | None = None,
) -> None:
    """Write comments.csv; ``flags`` adds is-meta/is-seed (None: only if some comment has one).

    ``tallies`` gives (agrees, disagrees) per comment id. comment-body is the one text column:
    a body a spreadsheet would run as a formula is escaped. The classic header has no place for
    those flags, so they are added only when they carry information, and then in the 2024
    position, before comment-body.
    """
    comments = list(comments)
    if flags is None:
        flags = any(c.is_meta or c.is_seed for c in comments)
    header = ["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees"]
    languages = any(c.language for c in comments)
    header += ["moderated", *(("is-meta", "is-seed") if flags else ())]
    header += [*(("language", "translations") if languages else ()), "comment-body"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = TextRows(handle)
        out.writerow(header)
        for comment in comments:
            if comment.moderated not in MODERATION_VALUES:
                raise ValueError(f"moderated must be -1, 0 or 1, found {comment!r}")
            agrees, disagrees = tallies.get(comment.comment_id, (0, 0))
            row: list[object] = [
                _text(comment.created_ms),
                _datetime(comment.created_ms),
                comment.comment_id,
                _text(comment.author_id),
                agrees,
                disagrees,
                comment.moderated,
            ]
            if flags:
                row += [_flag(comment.is_meta), _flag(comment.is_seed)]
            if languages:
                translations = dict(comment.translations)
                row += [
                    comment.language or "",
                    safe_cell(json.dumps(translations, ensure_ascii=False)) if translations else "",
                ]
            row.append(safe_cell(comment.text))
            out.writerow(row)


def write_participants_votes_csv(
    path: Path,
    participants: Iterable[PolisParticipant],
    votes: Iterable[PolisVote],
    authored: Mapping[int, int] | None = None,
) -> None:
    """Write the final-vote matrix: one row per participant, one column per voted comment.

    Rows are the given participants plus any other voter, by id; columns are the comments with at
    least one vote, by id, as Polis writes them. ``authored`` gives n-comments per participant;
    the vote counts are computed here. An xid column is added when some participant has an xid.
    """
    matrix: dict[int, dict[int, int]] = {}
    for vote in votes:
        row = matrix.setdefault(vote.voter_id, {})
        if vote.comment_id in row:
            raise ValueError(
                f"two final votes for voter {vote.voter_id}, comment {vote.comment_id}"
            )
        if vote.vote not in VOTE_VALUES:
            raise ValueError(f"vote must be -1, 0 or 1, found {vote!r}")
        row[vote.comment_id] = vote.vote
    people = {p.participant_id: p for p in participants}
    for voter_id in matrix.keys() - people.keys():
        people[voter_id] = PolisParticipant(voter_id, None, None)
    columns = sorted({comment_id for row in matrix.values() for comment_id in row})
    position = {comment_id: index for index, comment_id in enumerate(columns)}
    with_xid = any(p.xid for p in people.values())
    authored = authored or {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = TextRows(handle)
        out.writerow(["participant", *(("xid",) if with_xid else ()), *_STANDARD_MATRIX, *columns])
        for pid in sorted(people):
            person = people[pid]
            row = matrix.get(pid, {})
            values = list(row.values())
            cells: list[object] = [pid]
            if with_xid:
                cells.append(safe_cell(person.xid or ""))
            cells += [
                _text(person.group_id),
                authored.get(pid, 0),
                len(values),
                values.count(AGREE),
                values.count(DISAGREE),
            ]
            votes_cells = [""] * len(columns)
            for comment_id, value in row.items():
                votes_cells[position[comment_id]] = _CELL[value]
            out.writerow(cells + votes_cells)


def summary_rows(export: PolisExport) -> list[tuple[str, str]]:
    """The summary.csv rows, counted from the export as Polis counts them.

    ``comments`` is the number of comments with at least one vote (Polis counts the matrix
    columns, not comments.csv). ``views`` and ``voters-in-conv`` cannot be derived from the
    votes, so they are carried over from the export's summary, or left blank.
    """
    voted_comments = {vote.comment_id for vote in export.votes}
    groups = {p.group_id for p in export.participants if p.group_id is not None}
    return [
        ("topic", export.topic),
        ("url", export.url or ""),
        ("views", export.summary.get("views", "")),
        ("voters", str(len({vote.voter_id for vote in export.votes}))),
        ("voters-in-conv", export.summary.get("voters-in-conv", "")),
        ("commenters", str(len({c.author_id for c in export.comments if c.author_id is not None}))),
        ("comments", str(len(voted_comments))),
        ("groups", str(len(groups))),
        ("conversation-description", export.description),
    ]


def write_summary_csv(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """key,value rows; the values (topic, url, description...) are text, escaped as such."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        TextRows(handle).writerows((key, safe_cell(value)) for key, value in rows)


def _check_consistency(export: PolisExport) -> None:
    comment_ids: set[int] = set()
    for comment in export.comments:
        if comment.comment_id in comment_ids:
            raise ValueError(f"comment id {comment.comment_id} appears twice")
        comment_ids.add(comment.comment_id)
    for vote in chain(export.votes, export.vote_events):
        if vote.comment_id not in comment_ids:
            raise ValueError(f"vote on comment {vote.comment_id}, which the export does not hold")
    participant_ids = [p.participant_id for p in export.participants]
    if len(participant_ids) != len(set(participant_ids)):
        raise ValueError("a participant id appears twice")


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _datetime(timestamp_ms: int | None) -> str:
    """Java's Date.toString layout, as in Polis exports, but in UTC (Polis used its own zone)."""
    if timestamp_ms is None:
        return ""
    day, second = divmod(timestamp_ms // 1000, 86_400)
    date, year = _day_text(day)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{date} {hour:02d}:{minute:02d}:{second:02d} UTC {year}"


@lru_cache(maxsize=4096)
def _day_text(day: int) -> tuple[str, int]:
    """("Sat Nov 17", 2018) for a day since 1970, cached: a conversation spans few days."""
    t = time.gmtime(day * 86_400)
    return f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d}", t.tm_year
