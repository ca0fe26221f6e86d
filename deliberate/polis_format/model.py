"""The content of a Polis export, as plain frozen values.

These classes carry no file-format detail (column names, file names, time units), so code that
builds an export from the database and code that reads one from disk meet on the same shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

AGREE, PASS, DISAGREE = 1, 0, -1
VOTE_VALUES = frozenset((AGREE, PASS, DISAGREE))
ACCEPTED, UNREVIEWED, REJECTED = 1, 0, -1
MODERATION_VALUES = frozenset((ACCEPTED, UNREVIEWED, REJECTED))

# "2025-08-29-0002-7btrabcujr-comments.csv": date, a serial, the conversation id, the classic name.
PREFIXED_NAME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<serial>\d+)-(?P<conversation>[A-Za-z0-9]+)-(?P<name>[a-z-]+\.csv)$"
)


class PolisFormatError(ValueError):
    """A Polis export that cannot be read; says which file, which physical line and what is wrong.

    Importers show this message to people who will open the file in an editor, so the line is the
    physical line (1-based, the header is line 1), not the record number.
    """

    def __init__(self, file: Path | str, line: int | None, problem: str) -> None:
        self.file = Path(file)
        self.line = line
        self.problem = problem
        where = f"{self.file}, line {line}" if line is not None else str(self.file)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class PolisComment:
    """A statement; ``moderated``: 1 accepted, 0 unreviewed, -1 rejected (its votes still count)."""

    comment_id: int
    author_id: int | None
    text: str
    moderated: int
    created_ms: int | None
    is_meta: bool = False
    is_seed: bool = False
    # Extras Polis tools ignore: the language it was written in, and translations (language,
    # text) pairs; written as the ``language`` and ``translations`` columns when any comment has
    # a language.
    language: str | None = None
    translations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PolisVote:
    """One vote: 1 agree, -1 disagree, 0 pass; ``timestamp_ms``: None when only a matrix gave it."""

    voter_id: int
    comment_id: int
    vote: int
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class PolisParticipant:
    """A participant; ``group_id``: the group Polis computed at export (None: not clustered)."""

    participant_id: int
    xid: str | None
    group_id: int | None


def latest_votes(events: Iterable[PolisVote]) -> tuple[PolisVote, ...]:
    """Reduce a vote history to the current vote per voter and comment, sorted by voter, comment.

    Polis appends a row each time someone votes again, and does not sort its file by time, so the
    row with the latest timestamp wins. Equal timestamps (newer exports round to whole seconds) are
    settled by order, the later row winning, which is what Polis's own matrix shows. A missing
    timestamp counts as older than any real one.
    """
    current: dict[tuple[int, int], PolisVote] = {}
    held_for = current.get
    for event in events:
        key = (event.voter_id, event.comment_id)
        held = held_for(key)
        if (
            held is None
            or held.timestamp_ms is None
            or (event.timestamp_ms is not None and event.timestamp_ms >= held.timestamp_ms)
        ):
            current[key] = event
    return tuple(map(current.__getitem__, sorted(current)))


@dataclass(frozen=True)
class PolisExport:
    """A whole Polis conversation: comments, final votes, vote history and participants.

    ``votes`` holds the final votes (one per voter and comment, see ``latest_votes``);
    ``vote_events`` every row of votes.csv as given, empty when the export had no votes.csv.
    ``participants`` come from the vote matrix (with Polis's group ids) plus any voter seen only in
    votes.csv. ``source_files`` maps a role ("comments", "votes", "participants_votes", "summary")
    to the file read; ``summary`` keeps every key/value row of summary.csv (views, voters, ...).
    Any iterable is accepted for the sequences and stored as a tuple.
    """

    topic: str
    url: str | None
    description: str
    comments: tuple[PolisComment, ...]
    votes: tuple[PolisVote, ...]
    vote_events: tuple[PolisVote, ...] = ()
    participants: tuple[PolisParticipant, ...] = ()
    source_files: Mapping[str, Path] = field(default_factory=dict, compare=False)
    summary: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("comments", "votes", "vote_events", "participants"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        for name in ("source_files", "summary"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def polis_groups(self) -> dict[int, int]:
        """Participant id -> the group Polis computed, for the participants it clustered."""
        return {p.participant_id: p.group_id for p in self.participants if p.group_id is not None}

    @property
    def conversation_id(self) -> str | None:
        """The Polis conversation id: the last part of the url, else the 2025 file-name prefix."""
        if self.url:
            parts = [part for part in urlparse(self.url).path.split("/") if part]
            if parts:
                return parts[-1]
        for path in self.source_files.values():
            match = PREFIXED_NAME.match(Path(path).name)
            if match:
                return match.group("conversation")
        return None
