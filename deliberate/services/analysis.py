"""Running the analysis of a consultation (votes and topics) and storing it as an immutable run.

Runs happen in CLI commands and background jobs, never on the request path: this module imports
numpy and scikit-learn. What views need about runs is in ``analysis_runs``.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from itertools import chain
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from threadpoolctl import threadpool_limits

from deliberate.analysis import AnalysisParameters, VoteMatrix, analyse_votes
from deliberate.analysis.bridging import BridgingParameters, bridging_ranking
from deliberate.config import PROJECT_ROOT
from deliberate.extensions import db
from deliberate.findings import stamp
from deliberate.models import (
    AnalysisRun,
    ModerationStatus,
    Participant,
    ParticipantFlag,
    RunStatus,
    Statement,
    Vote,
    utcnow,
)
from deliberate.services.analysis_runs import watermark
from deliberate.services.embeddings import store_vectors
from deliberate.services.moderation_log import removal_counts
from deliberate.services.participation_review import exclusions
from deliberate.services.topics import analyse_topics

VOTE_BATCH = 50_000  # votes fetched at a time when the analysis reads them


@cache
def code_version() -> str:
    """The package version and, in a git checkout, the commit: stored with every run."""
    try:
        package = version("deliberate")
    except PackageNotFoundError:
        package = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607 - git from PATH, no input
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{package}+{commit}" if commit else package


def load_vote_matrix(consultation_id: int, left_out: Collection[int] = ()) -> VoteMatrix:
    """Every current vote of the consultation as sparse triples, with roles and moderation;
    the participants ``left_out`` (excluded by the team) and their votes are not in it."""
    statements = db.session.execute(
        select(Statement.id, Statement.moderation, Statement.is_meta)
        .where(Statement.consultation_id == consultation_id)
        .order_by(Statement.id)
    ).all()
    participants = db.session.execute(
        select(Participant.id, Participant.role)
        .where(Participant.consultation_id == consultation_id)
        .order_by(Participant.id)
    ).all()
    if left_out:
        participants = [p for p in participants if p.id not in left_out]
    # Streamed into one array in batches: a list of a million Row objects first, handed to
    # np.array, cost 6x the CPU and ~300 MB per million votes (bench/bench_size.py).
    rows = db.session.execute(
        select(Vote.participant_id, Vote.statement_id, Vote.choice)
        .where(Vote.consultation_id == consultation_id)
        .execution_options(yield_per=VOTE_BATCH)
    )
    votes = np.fromiter(chain.from_iterable(rows), dtype=np.int64).reshape(-1, 3)
    if left_out:
        votes = votes[~np.isin(votes[:, 0], np.fromiter(left_out, dtype=np.int64))]
    participant_ids = np.array([p.id for p in participants], dtype=np.int64)
    statement_ids = np.array([s.id for s in statements], dtype=np.int64)
    return VoteMatrix.from_triples(
        np.searchsorted(participant_ids, votes[:, 0]),
        np.searchsorted(statement_ids, votes[:, 1]),
        votes[:, 2],
        participant_ids=participant_ids.tolist(),
        statement_ids=statement_ids.tolist(),
        # Rejected statements keep their votes but are zeroed, as Polis does; so are meta ones.
        # One hidden after reports counts until a moderator rejects it (statement_reports.py).
        moderated_out=[s.moderation is ModerationStatus.REJECTED or s.is_meta for s in statements],
        roles=[p.role.value for p in participants],
    )


def exclusions_record(left_out: Mapping[int, ParticipantFlag]) -> dict[str, Any]:
    """What a run stores about the participants the team left out: how many, how many for each
    reason, and which (by id), so the run can be reproduced and known to be stale when the team
    changes its mind (``analysis_runs.is_stale``)."""
    by_reason = Counter(flag.value for flag in left_out.values())
    return {
        "n_participants": len(left_out),
        "by_reason": dict(sorted(by_reason.items())),
        "participant_ids": sorted(left_out),
    }


def run_analysis(
    consultation_id: int,
    params: AnalysisParameters | None = None,
    *,
    topics: bool = True,
    refit_topics: bool = False,
) -> AnalysisRun:
    """Analyse the votes and the topics as they are now and store the run, one record for both.

    Topics reuse the last fit unless ``refit_topics`` or enough has changed (services.topics).
    If the topics fail (a broken model folder, say), the vote analysis is still stored, with the
    failure in ``results["topics"]``. Flushes; the caller commits."""
    started_at, clock = utcnow(), time.perf_counter()
    mark = watermark(consultation_id)
    left_out = exclusions(consultation_id)
    matrix = load_vote_matrix(consultation_id, left_out)
    result = analyse_votes(matrix, params)
    votes = result.to_dict()
    parameters: dict[str, Any] = {"votes": result.parameters.to_dict()}
    results: dict[str, Any] = {"votes": votes, "exclusions": exclusions_record(left_out)}
    results["moderation"] = removal_counts(consultation_id, mark.last_statement_id)
    bridging = BridgingParameters(n_bootstrap=current_app.config["BRIDGING_RESAMPLES"])
    with threadpool_limits(limits=1):
        results["bridging"] = bridging_ranking(matrix, bridging).to_dict()
    parameters["bridging"] = results["bridging"]["parameters"]
    outcome = None
    if topics:
        try:
            outcome = analyse_topics(consultation_id, matrix, votes, refit=refit_topics)
        except Exception as error:
            current_app.logger.exception("Topics of consultation %s failed", consultation_id)
            results["topics"] = {"status": "failed", "message": f"No topics: {error}"}
        else:
            results["topics"] = outcome.results
            parameters["topics"] = outcome.results.get("parameters", {})
    run = AnalysisRun(
        consultation_id=consultation_id,
        status=RunStatus.DONE,
        started_at=started_at,
        finished_at=utcnow(),
        last_vote_event_id=mark.last_vote_event_id,
        last_statement_id=mark.last_statement_id,
        moderation_changes=mark.moderation_changes,
        n_participants=matrix.n_participants,
        n_statements=matrix.n_statements,
        n_votes=matrix.n_votes,
        parameters=parameters,
        code_version=f"{code_version()} {result.method_version}",
        model_fingerprint=outcome.fingerprint if outcome else None,
        results=stamp(results),
        duration_ms=round((time.perf_counter() - clock) * 1000),
    )
    db.session.add(run)
    if outcome is not None and outcome.new_vectors:
        ids = list(outcome.new_vectors)
        store_vectors(outcome.fingerprint, ids, [outcome.new_vectors[i] for i in ids])
    db.session.flush()
    return run


FAILURE_REASON_MAX = 300


def failure_reason(error: BaseException) -> str:
    """What went wrong, short enough for the dashboard and free of personal data: the exception's
    type and the first line of its message. A database error gives its type only, since its
    message can quote the values written (a statement's text, an email address); the service's
    log has the rest."""
    if isinstance(error, DBAPIError):
        return f"{type(error.orig or error).__name__} from the database"
    lines = str(error).strip().splitlines()
    reason = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    if len(reason) > FAILURE_REASON_MAX:
        reason = reason[: FAILURE_REASON_MAX - 1] + "…"
    return reason


def record_failure(
    consultation_id: int, started_at: datetime, error: BaseException, step: str = ""
) -> AnalysisRun:
    """Store a failed attempt as a run with its reason, so the team sees it on the dashboard.

    It has no results and is never shown as an analysis: every page reads finished runs only.
    ``step`` names the part that failed when it was not the analysis itself. Flushes; the caller
    commits, in a transaction apart from the one that failed."""
    reason = failure_reason(error)
    now = utcnow()
    run = AnalysisRun(
        consultation_id=consultation_id,
        status=RunStatus.FAILED,
        started_at=started_at,
        finished_at=now,
        code_version=code_version()[:80],
        error=f"{step}: {reason}" if step else reason,
        duration_ms=round((now - started_at).total_seconds() * 1000),
    )
    db.session.add(run)
    db.session.flush()
    return run
