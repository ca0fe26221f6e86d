"""Downloads of a run: its stored record as JSON, and the consultation as the run saw it in the
Polis export format (with the run's opinion groups and topics, the run as open-data JSON and a
README: ``open_data``). Before any run, the team can download the consultation's data as it
stands, in the same format."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from deliberate.extensions import db
from deliberate.findings import Findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    Participant,
    Statement,
    VoteEvent,
    utcnow,
)
from deliberate.polis_format import PolisComment, PolisExport, latest_votes, write_export
from deliberate.services.polis_exchange import (
    MODERATION_CODE,
    TOPICS_FILE,
    build_export,
    export_ids,
    topics_csv,
)
from deliberate.services.reports import open_data
from deliberate.services.reports._rows import count_rows
from deliberate.services.reports.cache import EXPORT_CACHE_SIZE, cached_for_run
from deliberate.services.reports.report import figures_for, findings_of, public_text


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
    opinion groups in ``group-id`` and, when it has topics, ``topics.csv``; the run as JSON with its
    schema, what the moderators took out, and a README saying what each file holds; zipped. The
    votes of participants the team left out of the run are not in it, as the run did not count
    them. The same run gives the same bytes (members are dated when the run finished)."""
    data: bytes = cached_for_run("zips", run, lambda: _build_zip(run), EXPORT_CACHE_SIZE)
    return data


def _run_export(consultation: Consultation, run: AnalysisRun, findings: Findings) -> PolisExport:
    """The consultation's export as the run saw it: its statements (public texts), the vote
    events up to the run, the participants it counted, with its opinion groups."""
    export = build_export(consultation)  # everything now, ids as Polis knows them
    # Keep what the run saw: statements and vote events are in id order in the export.
    cid = consultation.id
    n_comments = count_rows(Statement, cid, Statement.id <= run.last_statement_id)
    n_events = count_rows(VoteEvent, cid, VoteEvent.id <= run.last_vote_event_id)
    people = export_ids(Participant, cid)
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
    return dataclasses.replace(
        export,
        comments=_public_comments(consultation, export.comments[:n_comments]),
        votes=tuple(votes),
        vote_events=tuple(events),
        participants=participants,
    )


def _public_comments(
    consultation: Consultation, comments: Iterable[PolisComment]
) -> list[PolisComment]:
    """Comment texts as in every download: a rejected comment, or one still held under
    pre-moderation, is withheld."""
    status = {code: moderation for moderation, code in MODERATION_CODE.items()}
    return [
        dataclasses.replace(c, text=public_text(consultation, c.text, status[c.moderated]))
        for c in comments
    ]


def _build_zip(run: AnalysisRun) -> bytes:
    consultation = db.session.get(Consultation, run.consultation_id)
    findings = findings_of(run)
    figures = figures_for(run)
    export = _run_export(consultation, run, findings)
    comment_ids = export_ids(Statement, consultation.id)
    files = _polis_files(export)
    topics = findings.topics
    if topics is not None and topics.ok:
        files[TOPICS_FILE] = topics_csv(topics.topic_of_statements(), comment_ids).encode()
    if findings.moderation is not None:
        files[open_data.MODERATION_FILE] = open_data.moderation_csv(findings.moderation).encode()
    moderated = {c.comment_id: c.moderated for c in export.comments}
    document = open_data.run_document(consultation, run, figures, findings, comment_ids, moderated)
    files[open_data.RUN_JSON] = open_data.dumps(document)
    files[open_data.SCHEMA_FILE] = open_data.dumps(open_data.run_schema())
    members = [open_data.README, *files]
    readme = open_data.readme_text(
        consultation, open_data.FileCounts.of(export), members, run, figures
    )
    files = {open_data.README: readme.encode(), **files}
    return zip_members(files, run.finished_at or run.started_at)


def current_data_zip(consultation: Consultation) -> bytes:
    """The consultation as it stands, in the classic Polis export format, zipped with its README:
    the team's download before any analysis has finished (``group-id`` holds the newest run's
    groups, if there is one; no topics). Comment texts are as in every download."""
    export = build_export(consultation)
    export = dataclasses.replace(export, comments=_public_comments(consultation, export.comments))
    files = _polis_files(export)
    members = [open_data.README, *files]
    readme = open_data.readme_text(consultation, open_data.FileCounts.of(export), members)
    return zip_members({open_data.README: readme.encode(), **files}, utcnow())


def _polis_files(export: PolisExport) -> dict[str, bytes]:
    """The four Polis CSVs of ``export``, by name, in the order Polis lists them."""
    with tempfile.TemporaryDirectory() as folder:
        write_export(export, folder)
        return {
            name: (Path(folder) / name).read_bytes()
            for name in ("comments.csv", "votes.csv", "participants-votes.csv", "summary.csv")
        }


def zip_members(files: Mapping[str, bytes], when: datetime) -> bytes:
    """A zip of ``files`` in the given order, each readable by everyone (mode 0644: zipping a
    temporary file once kept its 0600) and dated ``when``, so equal files give equal bytes."""
    buffer = io.BytesIO()
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3  # Unix, so the mode below is read as such
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
