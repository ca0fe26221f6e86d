"""Importing Polis exports as consultations, and exporting consultations in the Polis format.

Imports are bulk inserts in one transaction: the export is read and checked completely before the
database is touched, so a malformed file changes nothing. Imported participants and comments keep
their source ids, and exports write them back, so import followed by export gives every final vote
id for id.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Mission,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
    Vote,
    VoteEvent,
    normalise_statement,
    utcnow,
)
from deliberate.polis_format import (
    PolisComment,
    PolisExport,
    PolisParticipant,
    PolisVote,
    read_export,
)
from deliberate.polis_format.cells import TextRows, safe_cell
from deliberate.services.analysis_runs import latest_run, opinion_group_of

BATCH = 5_000
TOPICS_FILE = "topics.csv"
POLIS_LICENCE_NAME = "CC BY 4.0"
POLIS_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
POLIS_LICENCE = (
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is sub-licensed "
    "under CC BY 4.0 with Attribution to The Computational Democracy Project."
)
# The public case-study pages of the conversations we ship (data/polis/README.md).
CASE_STUDIES = {
    "2demo": "https://compdemocracy.org/case-studies/2014-seattle-15-per-hour",
    "7wmvbjcjhp": "https://compdemocracy.org/case-studies/2017-brexit-consensus",
    "5mnfxu85hx": "https://compdemocracy.org/case-studies/2016-canadian-electoral-reform",
    "9xxwa9jpkm": "https://compdemocracy.org/case-studies/2022-london-youth-policing",
    "3atycmhmer": "https://compdemocracy.org/case-studies/2019-scoop-hivemind-biodiversity",
    "5psrv8bm2a": "https://compdemocracy.org/case-studies/2017-scoop-hivemind-freshwater",
}
MODERATION = {
    1: ModerationStatus.ACCEPTED,
    0: ModerationStatus.PENDING,
    -1: ModerationStatus.REJECTED,
}
MODERATION_CODE = {status: code for code, status in MODERATION.items()}


@dataclass(frozen=True)
class ImportResult:
    consultation_id: int
    created: bool
    participants: int
    statements: int
    votes: int


def _source_key(export: PolisExport, folder: Path) -> str:
    if export.conversation_id:
        return f"polis:{export.conversation_id}"
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return f"polis-folder:{digest}"


_EPOCH = datetime(1970, 1, 1)  # stored times are naive UTC
_MILLISECOND = timedelta(milliseconds=1)


def _ms_to_datetime(ms: int | None) -> datetime | None:
    if ms is None:
        return None
    return _EPOCH + ms * _MILLISECOND


def _datetime_to_ms(moment: datetime) -> int:
    """Whole milliseconds, in integers: ``timestamp() * 1000`` in floats can come out one
    millisecond short, and an export read back and written again must give the same bytes."""
    return (moment.replace(tzinfo=None) - _EPOCH) // _MILLISECOND


def _bulk_insert(model: type, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Insert many rows inside the session's transaction: COPY on PostgreSQL, executemany elsewhere.

    An ORM insert per row would take minutes for a 225,000-vote export; this takes seconds.
    """
    connection = db.session.connection()
    table = model.__table__.name
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    # Names come from our own models, never from input; the values are bound parameters.
    statement = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608
    cursor = connection.connection.driver_connection.cursor()
    try:
        for batch in _batched(rows):
            cursor.executemany(statement, batch)
    finally:
        cursor.close()


def _batched(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _id_map(model: type, consultation_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(model.source_id, model.id).where(model.consultation_id == consultation_id)
    )
    return {source: own for source, own in rows if source is not None}


def attribution_for(export: PolisExport) -> tuple[str | None, str]:
    """Where to read about the conversation, and the licence text its pages must carry."""
    return CASE_STUDIES.get(export.conversation_id or "") or export.url, POLIS_LICENCE


def import_polis_folder(folder: Path, mission: Mission) -> ImportResult:
    """Create a closed consultation from a Polis export folder; a second import changes nothing."""
    export = read_export(folder)  # raises PolisFormatError, naming file and line, before any write
    key = _source_key(export, folder)
    existing = db.session.scalar(select(Consultation).where(Consultation.source_key == key))
    if existing is not None:
        return ImportResult(existing.id, False, *_counts(existing.id))

    times = [c.created_ms for c in export.comments if c.created_ms] + [
        v.timestamp_ms for v in export.vote_events if v.timestamp_ms
    ]
    link, attribution = attribution_for(export)
    consultation = Consultation(
        mission_id=mission.id,
        title=(export.topic or f"Polis conversation {export.conversation_id}")[:200],
        context=export.description or "",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
        source_key=key,
        source_url=link,
        source_attribution=attribution,
    )
    start = _ms_to_datetime(min(times)) if times else utcnow()
    end = _ms_to_datetime(max(times)) if times else utcnow()
    consultation.open(now=start)
    consultation.close(now=end)
    consultation.created_at = start
    db.session.add(consultation)
    db.session.flush()
    cid = consultation.id

    people = sorted(
        {p.participant_id for p in export.participants}
        | {v.voter_id for v in export.votes}
        | {v.voter_id for v in export.vote_events}
        | {c.author_id for c in export.comments if c.author_id is not None}
    )
    _bulk_insert(
        Participant,
        ("consultation_id", "source_id", "role", "created_at"),
        ((cid, pid, ParticipantRole.CITIZEN.value, start) for pid in people),
    )
    participant_ids = _id_map(Participant, cid)
    _bulk_insert(
        Statement,
        (
            "consultation_id",
            "text",
            "normalised_text",
            "origin",
            "moderation",
            "author_id",
            "author_role",
            "is_meta",
            "source_id",
            "created_at",
            "moderated_at",
        ),
        (
            (
                cid,
                c.text,
                normalise_statement(c.text),
                (StatementOrigin.SEED if c.is_seed else StatementOrigin.PARTICIPANT).value,
                MODERATION[c.moderated].value,
                participant_ids.get(c.author_id),
                ParticipantRole.CITIZEN.value if c.author_id is not None else None,
                c.is_meta,
                c.comment_id,
                _ms_to_datetime(c.created_ms) or start,
                end if c.moderated else None,
            )
            for c in export.comments
        ),
    )
    statement_ids = _id_map(Statement, cid)

    def vote_rows(votes: Iterable[PolisVote]) -> Iterator[tuple]:
        for v in votes:
            yield (
                cid,
                participant_ids[v.voter_id],
                statement_ids[v.comment_id],
                v.vote,
                v.timestamp_ms or 0,
            )

    vote_columns = ("consultation_id", "participant_id", "statement_id", "choice", "cast_at_ms")
    _bulk_insert(Vote, vote_columns, vote_rows(export.votes))
    _bulk_insert(VoteEvent, vote_columns, vote_rows(export.vote_events or export.votes))
    db.session.flush()
    return ImportResult(cid, True, len(people), len(export.comments), len(export.votes))


def _counts(consultation_id: int) -> tuple[int, int, int]:
    def count(model: type) -> int:
        return db.session.scalar(
            select(func.count(model.id)).where(model.consultation_id == consultation_id)
        )

    return count(Participant), count(Statement), count(Vote)


def _export_ids(rows: Iterable[tuple[int, int | None]]) -> dict[int, int]:
    """Own id -> export id: the source id where there is one, else new ids above all source ids."""
    rows = list(rows)
    taken = [source for _, source in rows if source is not None]
    next_id = max(taken, default=-1) + 1
    mapping: dict[int, int] = {}
    for own, source in sorted(rows):
        if source is None:
            mapping[own] = next_id
            next_id += 1
        else:
            mapping[own] = source
    return mapping


def export_ids(model: type[Participant] | type[Statement], consultation_id: int) -> dict[int, int]:
    """Own id -> the id a Polis export gives it (``participant`` / ``comment-id``): the one rule
    every download and export uses, so a file's ids always match the other files'."""
    return _export_ids(
        db.session.execute(
            select(model.id, model.source_id).where(model.consultation_id == consultation_id)
        ).all()
    )


def build_export(consultation: Consultation) -> PolisExport:
    cid = consultation.id
    people = export_ids(Participant, cid)
    statements = (
        db.session.execute(
            select(Statement).where(Statement.consultation_id == cid).order_by(Statement.id)
        )
        .scalars()
        .all()
    )
    comment_ids = export_ids(Statement, cid)
    comments = [
        PolisComment(
            comment_id=comment_ids[s.id],
            author_id=people.get(s.author_id) if s.author_id else None,
            text=s.text,
            moderated=MODERATION_CODE[s.moderation],
            created_ms=_datetime_to_ms(s.created_at),
            is_meta=s.is_meta,
            is_seed=s.origin is StatementOrigin.SEED,
            language=s.language,
            translations=tuple((t.language, t.text) for t in s.translations),
        )
        for s in statements
    ]

    def votes_of(model: type) -> list[PolisVote]:
        rows = db.session.execute(
            select(model.participant_id, model.statement_id, model.choice, model.cast_at_ms)
            .where(model.consultation_id == cid)
            .order_by(model.id)
        )
        return [
            PolisVote(people[p], comment_ids[s], choice, ms or None) for p, s, choice, ms in rows
        ]

    votes = sorted(votes_of(Vote), key=lambda v: (v.voter_id, v.comment_id))
    run = latest_run(cid)
    groups = opinion_group_of(run) if run else {}
    participants = [
        PolisParticipant(export_id, None, groups.get(own)) for own, export_id in people.items()
    ]
    return PolisExport(
        topic=consultation.title,
        url=consultation.source_url,
        description=consultation.context,
        comments=comments,
        votes=votes,
        vote_events=votes_of(VoteEvent),
        participants=sorted(participants, key=lambda p: p.participant_id),
    )


def topics_csv(placed: Mapping[int, tuple[int, str]], comment_ids: Mapping[int, int]) -> str:
    """The one writer of ``topics.csv``: comment-id, topic-id, topic-label (-1 is "Other"), ids as
    in comments.csv, in comment order. topic-label is text, escaped like every text cell."""
    out = io.StringIO()
    writer = TextRows(out)
    writer.writerow(["comment-id", "topic-id", "topic-label"])
    writer.writerows(
        (comment_id, topic_id, safe_cell(label))
        for comment_id, topic_id, label in sorted(
            (comment_ids[sid], topic_id, label)
            for sid, (topic_id, label) in placed.items()
            if sid in comment_ids
        )
    )
    return out.getvalue()


def write_topics(consultation: Consultation, outdir: Path) -> Path:
    """Write topics.csv beside a Polis export: every statement with a topic in the newest run (or,
    written since, the nearest topic of its model); only the header when nothing is analysed."""
    from deliberate.services.topics import statement_topics

    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / TOPICS_FILE
    placed = statement_topics(consultation.id)
    path.write_text(topics_csv(placed, export_ids(Statement, consultation.id)), encoding="utf-8")
    return path
