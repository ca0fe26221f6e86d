"""Downloads of a run: its stored record as JSON, and the consultation as the run saw it in the
Polis export format (with the run's opinion groups and topics). Before any run, the team can
download the consultation's data as it stands, in the same format."""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from deliberate.extensions import db
from deliberate.models import AnalysisRun, Consultation, Participant, Statement, VoteEvent
from deliberate.polis_format import latest_votes, write_export
from deliberate.services.polis_exchange import (
    MODERATION_CODE,
    TOPICS_FILE,
    build_export,
    export_ids,
    topics_csv,
)
from deliberate.services.reports._rows import count_rows
from deliberate.services.reports.cache import EXPORT_CACHE_SIZE, cached_for_run
from deliberate.services.reports.report import findings_of, public_text


def run_record(run: AnalysisRun) -> dict[str, Any]:
    """The stored run as JSON: what it saw, how, and what it found (exactly as stored)."""
    return {
        "run": {
            "id": run.id,
            "consultation_id": run.consultation_id,
            "started_at": run.started_at.isoformat() + "Z",
            "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
            "duration_ms": run.duration_ms,
            "n_participants": run.n_participants,
            "n_statements": run.n_statements,
            "n_votes": run.n_votes,
            "last_vote_event_id": run.last_vote_event_id,
            "last_statement_id": run.last_statement_id,
            "parameters": run.parameters,
            "code_version": run.code_version,
            "model_fingerprint": run.model_fingerprint,
        },
        "results": run.results,
    }


def run_json(run: AnalysisRun) -> bytes:
    data: bytes = cached_for_run(
        "json",
        run,
        lambda: json.dumps(run_record(run), ensure_ascii=False, separators=(",", ":")).encode(),
        EXPORT_CACHE_SIZE,
    )
    return data


def polis_zip(run: AnalysisRun) -> bytes:
    """The consultation in the classic Polis export format as the run saw it, with the run's
    opinion groups in ``group-id`` and, when it has topics, ``topics.csv``; zipped. The votes of
    participants the team left out of the run are not in it, as the run did not count them."""
    data: bytes = cached_for_run("zips", run, lambda: _build_zip(run), EXPORT_CACHE_SIZE)
    return data


def _build_zip(run: AnalysisRun) -> bytes:
    consultation = db.session.get(Consultation, run.consultation_id)
    export = build_export(consultation)  # everything now, ids as Polis knows them
    # Keep what the run saw: statements and vote events are in id order in the export.
    cid = consultation.id
    n_comments = count_rows(Statement, cid, Statement.id <= run.last_statement_id)
    n_events = count_rows(VoteEvent, cid, VoteEvent.id <= run.last_vote_event_id)
    status = {code: moderation for moderation, code in MODERATION_CODE.items()}
    comments = [
        dataclasses.replace(c, text=public_text(consultation, c.text, status[c.moderated]))
        for c in export.comments[:n_comments]
    ]
    people = export_ids(Participant, cid)
    findings = findings_of(run)
    # Participants the team left out of the run are left out of its data too.
    left_out = {people[own] for own in findings.exclusions.participant_ids if own in people}
    events = [e for e in export.vote_events[:n_events] if e.voter_id not in left_out]
    votes = export.votes if len(events) == len(export.vote_events) else latest_votes(events)
    groups = findings.votes.opinion_group_of()
    on_map = set(findings.votes.opinion_map.participant_ids if findings.votes.opinion_map else ())
    voters = {v.voter_id for v in votes}
    export_group = {people[own]: g for own, g in groups.items() if own in people}
    seen_people = {people[own] for own in on_map if own in people} | voters
    participants = [
        dataclasses.replace(p, group_id=export_group.get(p.participant_id))
        for p in export.participants
        if p.participant_id in seen_people
    ]
    export = dataclasses.replace(
        export,
        comments=comments,
        votes=tuple(votes),
        vote_events=tuple(events),
        participants=participants,
    )
    buffer = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        write_export(export, folder)
        for path in sorted(Path(folder).iterdir()):
            archive.write(path, path.name)
        topics = findings.topics
        if topics is not None and topics.ok:
            placed = topics.topic_of_statements()
            archive.writestr(TOPICS_FILE, topics_csv(placed, export_ids(Statement, cid)))
    return buffer.getvalue()


def current_data_zip(consultation: Consultation) -> bytes:
    """The consultation as it stands, in the classic Polis export format, zipped: the team's
    download before any analysis has finished (``group-id`` holds the newest run's groups, if
    there is one; no topics). Comment texts are as in every download: a rejected comment, or one
    still held under pre-moderation, is withheld."""
    export = build_export(consultation)
    status = {code: moderation for moderation, code in MODERATION_CODE.items()}
    comments = [
        dataclasses.replace(c, text=public_text(consultation, c.text, status[c.moderated]))
        for c in export.comments
    ]
    export = dataclasses.replace(export, comments=comments)
    buffer = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        write_export(export, folder)
        for path in sorted(Path(folder).iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
