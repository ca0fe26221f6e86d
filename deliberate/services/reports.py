"""Published reports: which analysis run the public sees, publishing one, the figures of a run,
its downloads, comparing rounds and a mission's trajectory.

Who sees what:
- the public sees a consultation's *published* run: the run most recently published by the
  mission team. A newer run that nobody published changes nothing the public sees;
- every run that was ever published keeps its permanent link (an earlier summary stays readable
  after a newer one is published); runs never published are for the mission team only;
- drafts are for the team only, as everywhere else.

Runs are immutable (only ``published_at`` is ever set, when publishing), so what a report needs
from a run is computed once per process and kept in a small LRU keyed by the run: a report page is
then two small queries and a template. Light on purpose, like ``analysis_runs``: views import this
module, so nothing here imports numpy, scikit-learn or torch.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Mission,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RunStatus,
    Statement,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.polis_format import latest_votes, write_export
from deliberate.reporting import charts
from deliberate.reporting.figures import (
    Figures,
    StatementRow,
    build_figures,
    group_name,
    topic_of_statements,
)
from deliberate.reporting.summary import Sentence, summarise
from deliberate.services import analysis_runs
from deliberate.services.consultations import (
    ConsultationCounts,
    NotPermitted,
    counts_for,
    may_run,
    next_round_of,
)
from deliberate.services.errors import Refused
from deliberate.services.polis_exchange import MODERATION_CODE, _export_ids, build_export

CACHE_SIZE = 32  # reports of this many runs stay in memory per process (a few MB at most)
EXPORT_CACHE_SIZE = 4  # Polis zips (up to a few MB each for a large consultation)
RUN_NOW_PATIENCE = timedelta(minutes=30)  # after this, a requested run is reported as overdue
DIVISIVE_CHARTED = 3
TOPICS_FILE = "topics.csv"
REMOVED_TEXT = "[Removed by the moderators]"
AWAITING_TEXT = "[Waiting for a moderator]"


# -- which run, and who may see it ----------------------------------------------------------------


def _runs(consultation_id: int):
    """Finished runs of a consultation, without their (large) results until a page needs them."""
    return (
        select(AnalysisRun)
        .options(defer(AnalysisRun.results))
        .where(AnalysisRun.consultation_id == consultation_id, AnalysisRun.status == RunStatus.DONE)
    )


def published_run(consultation_id: int) -> AnalysisRun | None:
    """The run the public sees: the one the mission team published last."""
    return db.session.scalar(
        _runs(consultation_id)
        .where(AnalysisRun.published_at.is_not(None))
        .order_by(AnalysisRun.published_at.desc(), AnalysisRun.id.desc())
        .limit(1)
    )


def finished_run(consultation_id: int, run_id: int) -> AnalysisRun | None:
    return db.session.scalar(_runs(consultation_id).where(AnalysisRun.id == run_id))


def finished_runs(consultation_id: int, limit: int = 50) -> list[AnalysisRun]:
    """Newest first."""
    return list(
        db.session.scalars(_runs(consultation_id).order_by(AnalysisRun.id.desc()).limit(limit))
    )


def published_runs(consultation_id: int) -> list[AnalysisRun]:
    """Every run ever published, newest publication first: the permanent links of the report."""
    return list(
        db.session.scalars(
            _runs(consultation_id)
            .where(AnalysisRun.published_at.is_not(None))
            .order_by(AnalysisRun.published_at.desc(), AnalysisRun.id.desc())
        )
    )


def is_team(user: User | None, consultation: Consultation) -> bool:
    return user is not None and user.is_authenticated and may_run(user, consultation.mission_id)


def visible_consultation(consultation_id: int, user: User | None) -> Consultation | None:
    """The consultation if this person may read about it: drafts only for the mission's team."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    if consultation.state is ConsultationState.DRAFT and not is_team(user, consultation):
        return None
    return consultation


def may_see_run(user: User | None, consultation: Consultation, run: AnalysisRun) -> bool:
    """Published once (even if a newer one replaced it): everyone. Never published: the team."""
    return run.published_at is not None or is_team(user, consultation)


def publish_run(
    user: User, consultation: Consultation, run: AnalysisRun, now: datetime | None = None
) -> AnalysisRun:
    """Make ``run`` what the public sees on the consultation's report.

    Publishing an earlier run again makes it the public one again; publishing the run already
    shown changes nothing (a double click is harmless)."""
    if not is_team(user, consultation):
        raise NotPermitted("Only the mission team can publish this consultation's summary")
    if run.consultation_id != consultation.id or run.status is not RunStatus.DONE:
        raise Refused("Only a finished analysis of this consultation can be published")
    if consultation.state is ConsultationState.DRAFT:
        raise Refused("Open the consultation before publishing a summary of it")
    current = published_run(consultation.id)
    if current is not None and current.id == run.id:
        return run
    run.published_at = now or utcnow()
    db.session.flush()
    return run


# -- what a report shows (computed once per run) --------------------------------------------------


@dataclass(frozen=True)
class Report:
    """Everything the report page of one run needs, built from the stored run once."""

    run_id: int
    figures: Figures
    summary: tuple[Sentence, ...]
    map_svg: Markup
    map_description: str
    divisive_svg: Markup
    divisive_description: str
    topics_svg: Markup
    topics_description: str
    roles_svg: Markup
    roles_description: str


class _RunCache:
    """A small thread-safe LRU for values computed from immutable runs."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def _cache(name: str, size: int) -> _RunCache:
    caches = current_app.extensions.setdefault("deliberate_reports", {})
    if name not in caches:
        caches[name] = _RunCache(size)
    return caches[name]


def cached_for_run(name: str, run: AnalysisRun, compute: Callable[[], Any], size: int = CACHE_SIZE):
    """A value computed once from an (immutable) run and kept per process, such as the rendered
    findings of its report page; computed again only if moderation has changed since."""
    return _cache(name, size).get(_public_key(run), compute)


def _key(run: AnalysisRun) -> tuple:
    # The id alone could name another run in another database served by this process (tests).
    return (run.id, run.consultation_id, run.started_at, run.finished_at)


def _public_key(run: AnalysisRun) -> tuple:
    """The run, and the last moderation decision on its consultation: a comment taken down after
    the run must disappear from its public pages and downloads at once."""
    last_decision = db.session.scalar(
        select(func.max(Statement.moderated_at)).where(
            Statement.consultation_id == run.consultation_id
        )
    )
    return (*_key(run), last_decision)


def statement_texts(run: AnalysisRun) -> dict[int, str]:
    """The texts of the statements the run saw, as the public may read them: a comment the
    moderators rejected (or, under pre-moderation, have not yet accepted) is never shown, though
    its votes still count where the analysis counted them."""
    consultation = db.session.get(Consultation, run.consultation_id)
    rows = db.session.execute(
        select(Statement.id, Statement.text, Statement.moderation).where(
            Statement.consultation_id == run.consultation_id,
            Statement.id <= run.last_statement_id,
        )
    )
    return {sid: public_text(consultation, text, moderation) for sid, text, moderation in rows}


def public_text(consultation: Consultation, text: str, moderation: ModerationStatus) -> str:
    if moderation is ModerationStatus.REJECTED:
        return REMOVED_TEXT
    if (
        moderation is ModerationStatus.PENDING
        and consultation.moderation_mode is ModerationMode.PRE
    ):
        return AWAITING_TEXT
    return text


def report_for(run: AnalysisRun) -> Report:
    return _cache("reports", CACHE_SIZE).get(_public_key(run), lambda: _build_report(run))


def figures_for(run: AnalysisRun) -> Figures:
    return report_for(run).figures


def _build_report(run: AnalysisRun) -> Report:
    figures = build_figures(run.results or {}, statement_texts(run))
    map_svg, map_text = Markup(""), ""
    if figures.opinion_map is not None and figures.opinion_map.points:
        map_text = charts.describe_map(figures.opinion_map, figures.groups)
        map_svg = charts.opinion_map_svg(
            figures.opinion_map, figures.groups, "Opinion map of everyone who voted", map_text
        )
    divisive_svg, divisive_text = _divisive_chart(figures)
    topics_svg, topics_text = _topics_chart(figures)
    roles_svg, roles_text = _roles_chart(figures)
    return Report(
        run_id=run.id,
        figures=figures,
        summary=summarise(figures),
        map_svg=map_svg,
        map_description=map_text,
        divisive_svg=divisive_svg,
        divisive_description=divisive_text,
        topics_svg=topics_svg,
        topics_description=topics_text,
        roles_svg=roles_svg,
        roles_description=roles_text,
    )


def _divisive_chart(f: Figures) -> tuple[Markup, str]:
    charted = [d for d in f.divisive if d.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not charted:
        return Markup(""), ""
    bars, sections, words = [], [], []
    for d in charted:
        s = d.statement
        sections.append((s.text, len(s.groups)))
        for gid, g in enumerate(s.groups):
            bars.append(
                charts.Bar(group_name(gid), g.agree, g.disagree, g.seen - g.agree - g.disagree)
            )
        words.append(
            f"On “{s.text}”, {group_name(d.most_agreeing)} agreed most "
            f"({d.agreeing.percent}%) and {group_name(d.most_disagreeing)} disagreed most "
            f"({d.disagreeing.percent}%)."
        )
    text = "How each opinion group voted on the statements that divide them most. " + " ".join(
        words
    )
    svg = charts.vote_bars_svg(
        "divisive-chart", bars, "How each group voted where they divide most", text, sections
    )
    return svg, text


def _topics_chart(f: Figures) -> tuple[Markup, str]:
    voted = [t for t in f.topics.topics if t.everyone and t.everyone.votes]
    if not f.topics.available or not voted:
        return Markup(""), ""
    bars = [
        charts.Bar(t.label, t.everyone.agree, t.everyone.disagree, t.everyone.passed) for t in voted
    ]
    words = [
        f"“{t.label}”: {t.everyone.agreed.percent}% agree and {t.everyone.disagreed.percent}% "
        f"disagree of {t.everyone.votes:,} votes."
        for t in voted
    ]
    text = "How everyone voted on the statements of each topic. " + " ".join(words)
    return charts.vote_bars_svg("topics-chart", bars, "Votes by topic", text), text


def _roles_chart(f: Figures) -> tuple[Markup, str]:
    roles = f.roles
    if roles is None or not roles.comparable:
        return Markup(""), ""
    shown = [r for r in roles.differ_most if r.q_value <= f.alpha][:DIVISIVE_CHARTED]
    if not shown:
        return Markup(""), ""
    bars, sections, words = [], [], []
    for r in shown:
        s = r.statement
        sections.append((s.text, 2))
        for label, agreed, disagreed in (
            ("Staff", r.staff, r.staff_disagree),
            ("Citizens", r.citizens, r.citizens_disagree),
        ):
            bars.append(
                charts.Bar(
                    label,
                    agreed.count,
                    disagreed.count,
                    agreed.seen - agreed.count - disagreed.count,
                )
            )
        words.append(
            f"On “{s.text}”, {r.staff.percent}% of staff agreed and {r.citizens.percent}% of "
            "citizens."
        )
    text = "How staff and citizens voted where they differ most. " + " ".join(words)
    svg = charts.vote_bars_svg(
        "roles-chart", bars, "Staff and citizens where they differ most", text, sections
    )
    return svg, text


@dataclass(frozen=True)
class ReportPage:
    """A report page: the run shown, where it stands among the consultation's runs and rounds."""

    consultation: Consultation
    run: AnalysisRun
    report: Report
    published: AnalysisRun | None  # what the public sees now
    earlier_runs: list[AnalysisRun]  # other runs ever published (permanent links)
    previous_round: Consultation | None
    previous_round_run: AnalysisRun | None
    next_round: Consultation | None
    next_round_run: AnalysisRun | None
    comparison: RoundComparison | None  # with the previous round, both published
    is_team: bool

    @property
    def is_public(self) -> bool:
        return self.published is not None and self.published.id == self.run.id

    @property
    def figures(self) -> Figures:
        return self.report.figures


def report_page(consultation: Consultation, run: AnalysisRun, user: User | None) -> ReportPage:
    previous = consultation.previous_round
    if previous is not None and previous.state is ConsultationState.DRAFT:
        previous = None
    later = next_round_of(consultation)
    if later is not None and later.state is ConsultationState.DRAFT:
        later = None
    previous_run = published_run(previous.id) if previous else None
    comparison = None
    if previous_run is not None and run.published_at is not None:
        comparison = compare_rounds(previous, previous_run, consultation, run)
    return ReportPage(
        consultation=consultation,
        run=run,
        report=report_for(run),
        published=published_run(consultation.id),
        earlier_runs=[r for r in published_runs(consultation.id) if r.id != run.id],
        previous_round=previous,
        previous_round_run=previous_run,
        next_round=later,
        next_round_run=published_run(later.id) if later else None,
        comparison=comparison,
        is_team=is_team(user, consultation),
    )


# -- downloads ------------------------------------------------------------------------------------


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
    return _cache("json", EXPORT_CACHE_SIZE).get(
        _key(run),
        lambda: json.dumps(run_record(run), ensure_ascii=False, separators=(",", ":")).encode(),
    )


def polis_zip(run: AnalysisRun) -> bytes:
    """The consultation in the classic Polis export format as the run saw it, with the run's
    opinion groups in ``group-id`` and, when it has topics, ``topics.csv``; zipped."""
    return _cache("zips", EXPORT_CACHE_SIZE).get(_public_key(run), lambda: _build_zip(run))


def _count(model: type, consultation_id: int, *where) -> int:
    return db.session.scalar(
        select(func.count(model.id)).where(model.consultation_id == consultation_id, *where)
    )


def _build_zip(run: AnalysisRun) -> bytes:
    consultation = db.session.get(Consultation, run.consultation_id)
    export = build_export(consultation)  # everything now, ids as Polis knows them
    # Keep what the run saw: statements and vote events are in id order in the export.
    cid = consultation.id
    n_comments = _count(Statement, cid, Statement.id <= run.last_statement_id)
    n_events = _count(VoteEvent, cid, VoteEvent.id <= run.last_vote_event_id)
    status = {code: moderation for moderation, code in MODERATION_CODE.items()}
    comments = [
        dataclasses.replace(c, text=public_text(consultation, c.text, status[c.moderated]))
        for c in export.comments[:n_comments]
    ]
    events = export.vote_events[:n_events]
    votes = export.votes if len(events) == len(export.vote_events) else latest_votes(events)
    people = _export_ids(
        list(
            db.session.execute(
                select(Participant.id, Participant.source_id).where(
                    Participant.consultation_id == cid
                )
            ).all()
        )
    )
    groups = analysis_runs.opinion_group_of(run)
    opinion_map = ((run.results or {}).get("votes") or {}).get("opinion_map") or {}
    on_map = set(opinion_map.get("participant_ids") or [])
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
        rows = _topic_rows(run)
        if rows is not None:
            archive.writestr(TOPICS_FILE, rows)
    return buffer.getvalue()


def _topic_rows(run: AnalysisRun) -> str | None:
    """topics.csv of the run (comment-id, topic-id, topic-label), or None when it has no topics."""
    stored = (run.results or {}).get("topics") or {}
    if stored.get("status") != "ok":
        return None
    comment_ids = _export_ids(
        list(
            db.session.execute(
                select(Statement.id, Statement.source_id).where(
                    Statement.consultation_id == run.consultation_id
                )
            ).all()
        )
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["comment-id", "topic-id", "topic-label"])
    writer.writerows(
        sorted(
            (comment_ids[sid], tid, label)
            for sid, (tid, label) in topic_of_statements(stored).items()
            if sid in comment_ids
        )
    )
    return out.getvalue()


# -- rounds: comparing two, and a mission's trajectory --------------------------------------------


def rounds_of(consultation: Consultation) -> list[Consultation]:
    """Every round of the consultation's question, first round first."""
    first = consultation
    while first.previous_round is not None:
        first = first.previous_round
    chain = [first]
    while (after := next_round_of(chain[-1])) is not None:
        chain.append(after)
    return chain


@dataclass(frozen=True)
class CarriedStatement:
    """A statement asked in both rounds (same words once normalised), with both rounds' votes."""

    then: StatementRow
    now: StatementRow

    @property
    def change(self) -> int | None:
        """Points of agreement gained (or lost, when negative) between the rounds."""
        if self.then.agreed.percent is None or self.now.agreed.percent is None:
            return None
        return self.now.agreed.percent - self.then.agreed.percent


@dataclass(frozen=True)
class RoundComparison:
    earlier: Consultation
    later: Consultation
    earlier_run: AnalysisRun
    later_run: AnalysisRun
    earlier_figures: Figures
    later_figures: Figures
    carried: tuple[CarriedStatement, ...]  # largest change first
    n_new: int  # statements of the later round not asked in the earlier one

    @property
    def n_up(self) -> int:
        return sum(1 for c in self.carried if (c.change or 0) > 0)

    @property
    def n_down(self) -> int:
        return sum(1 for c in self.carried if (c.change or 0) < 0)


def compare_rounds(
    earlier: Consultation, earlier_run: AnalysisRun, later: Consultation, later_run: AnalysisRun
) -> RoundComparison:
    """Agreement then and now on every statement both rounds asked (matched by normalised text)."""
    then_figures, now_figures = figures_for(earlier_run), figures_for(later_run)

    def by_text(consultation: Consultation, run: AnalysisRun) -> dict[str, int]:
        rows = db.session.execute(
            select(Statement.normalised_text, Statement.id)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.id <= run.last_statement_id,
            )
            .order_by(Statement.id.desc())
        )
        return {text: sid for text, sid in rows}

    then_ids, now_ids = by_text(earlier, earlier_run), by_text(later, later_run)
    carried = []
    for text, now_id in now_ids.items():
        then_id = then_ids.get(text)
        then_row, now_row = then_figures.statement(then_id), now_figures.statement(now_id)
        if then_row is None or now_row is None or not (then_row.seen and now_row.seen):
            continue
        carried.append(CarriedStatement(then_row, now_row))
    carried.sort(key=lambda c: (-abs(c.change or 0), c.now.id))
    n_new = sum(1 for text in now_ids if text not in then_ids)
    return RoundComparison(
        earlier, later, earlier_run, later_run, then_figures, now_figures, tuple(carried), n_new
    )


@dataclass(frozen=True)
class RoundPoint:
    """One round on a mission's trajectory, with its published figures when it has them."""

    consultation: Consultation
    run: AnalysisRun | None
    figures: Figures | None
    live: ConsultationCounts


@dataclass(frozen=True)
class Trajectory:
    """One question asked over one or more rounds, and how its answers moved."""

    rounds: tuple[RoundPoint, ...]
    comparisons: tuple[RoundComparison, ...]  # between consecutive rounds both published
    chart: Markup
    chart_description: str

    @property
    def title(self) -> str:
        return self.rounds[-1].consultation.title


def mission_trajectory(mission: Mission) -> list[Trajectory]:
    """The public consultations of a mission grouped into their rounds, newest question first,
    each round with its published figures (participation, groups, common ground, topics)."""
    consultations = list(
        db.session.scalars(
            select(Consultation)
            .where(
                Consultation.mission_id == mission.id,
                Consultation.state != ConsultationState.DRAFT,
            )
            .order_by(Consultation.created_at, Consultation.id)
        )
    )
    live = counts_for(c.id for c in consultations)
    public = {c.id for c in consultations}
    chains: list[list[Consultation]] = []
    placed: set[int] = set()
    for consultation in consultations:
        if consultation.id in placed:
            continue
        chain = [c for c in rounds_of(consultation) if c.id in public]
        placed.update(c.id for c in chain)
        chains.append(chain)
    out = []
    for chain in chains:
        points = []
        for consultation in chain:
            run = published_run(consultation.id)
            points.append(
                RoundPoint(
                    consultation, run, figures_for(run) if run else None, live[consultation.id]
                )
            )
        comparisons = tuple(
            compare_rounds(a.consultation, a.run, b.consultation, b.run)
            for a, b in pairwise(points)
            if a.run is not None and b.run is not None
        )
        chart, text = _trajectory_chart(points)
        out.append(Trajectory(tuple(points), comparisons, chart, text))
    out.sort(key=lambda t: max(p.consultation.created_at for p in t.rounds), reverse=True)
    return out


def _trajectory_chart(points: list[RoundPoint]) -> tuple[Markup, str]:
    published = [p for p in points if p.figures is not None]
    if len(points) < 2 or len(published) < 2:
        return Markup(""), ""
    columns = [(f"Round {p.consultation.round_number}", p.figures.n_voters) for p in published]
    text = (
        "People taking part in each round: "
        + "; ".join(f"{label}: {value:,}" for label, value in columns)
        + "."
    )
    return charts.column_svg(
        f"trajectory-{points[0].consultation.id}", columns, "People taking part by round", text
    ), text


# -- the mission team's view ----------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    """Taking part as it stands now (live counts, not an analysis)."""

    counts: ConsultationCounts
    votes: int
    votes_last_day: int
    staff: int  # participants who voted, by role
    citizens: int


def participation_now(consultation: Consultation, now: datetime | None = None) -> Participation:
    now = now or utcnow()
    cid = consultation.id
    day_ago_ms = int((now - timedelta(days=1)).replace(tzinfo=UTC).timestamp() * 1000)
    by_role = dict(
        db.session.execute(
            select(Participant.role, func.count(func.distinct(Vote.participant_id)))
            .join(Vote, Vote.participant_id == Participant.id)
            .where(Participant.consultation_id == cid)
            .group_by(Participant.role)
        ).all()
    )
    return Participation(
        counts=counts_for([cid])[cid],
        votes=_count(Vote, cid),
        votes_last_day=_count(VoteEvent, cid, VoteEvent.cast_at_ms >= day_ago_ms),
        staff=by_role.get(ParticipantRole.STAFF, 0),
        citizens=by_role.get(ParticipantRole.CITIZEN, 0),
    )


@dataclass(frozen=True)
class RunRequest:
    """A "run the analysis now" the team asked for: when, and the newest run at that moment."""

    requested_at: datetime
    newest_run_id: int

    def to_session(self) -> list:
        return [self.requested_at.isoformat(), self.newest_run_id]

    @classmethod
    def from_session(cls, value: Any) -> RunRequest | None:
        try:
            return cls(datetime.fromisoformat(value[0]), int(value[1]))
        except (TypeError, ValueError, IndexError):
            return None


@dataclass(frozen=True)
class Progress:
    """Where a requested run is: "idle" (none asked), "running", "done" or "overdue"."""

    state: str
    requested_at: datetime | None = None
    run: AnalysisRun | None = None


def request_run_now(
    user: User, consultation: Consultation, now: datetime | None = None
) -> RunRequest:
    """Queue an analysis at once (not debounced); the page then follows it until it lands."""
    if not is_team(user, consultation):
        raise NotPermitted("Only the mission team can run this consultation's analysis")
    if not analysis_runs.is_stale(consultation.id):
        raise Refused("The analysis is up to date: nothing has changed since the last run")
    from deliberate import jobs
    from deliberate.jobs.tasks import analyse_consultation

    newest = analysis_runs.latest_run(consultation.id)
    jobs.enqueue(
        analyse_consultation,
        consultation.id,
        key=f"analyse-now-{consultation.id}",
        delay=0,
    )
    return RunRequest(now or utcnow(), newest.id if newest else 0)


def progress_of(
    consultation: Consultation, request: RunRequest | None, now: datetime | None = None
) -> Progress:
    if request is None:
        return Progress("idle")
    newest = analysis_runs.latest_run(consultation.id)
    if newest is not None and newest.id > request.newest_run_id:
        return Progress("done", request.requested_at, newest)
    if (now or utcnow()) - request.requested_at > RUN_NOW_PATIENCE:
        return Progress("overdue", request.requested_at)
    return Progress("running", request.requested_at)


@dataclass(frozen=True)
class Dashboard:
    consultation: Consultation
    participation: Participation
    latest: AnalysisRun | None
    published: AnalysisRun | None
    stale: bool
    runs: list[AnalysisRun]
    rounds: list[Consultation]
    failure: AnalysisRun | None  # the newest attempt, when it failed


def dashboard(consultation: Consultation) -> Dashboard:
    return Dashboard(
        consultation=consultation,
        participation=participation_now(consultation),
        latest=analysis_runs.latest_run(consultation.id),
        published=published_run(consultation.id),
        stale=analysis_runs.is_stale(consultation.id),
        runs=finished_runs(consultation.id),
        rounds=rounds_of(consultation),
        failure=analysis_runs.latest_failure(consultation.id),
    )


def comparable_run(consultation: Consultation, team: bool) -> AnalysisRun | None:
    """The run a comparison uses for a round: the published one, else (for the team) the newest."""
    run = published_run(consultation.id)
    if run is None and team:
        newest = analysis_runs.latest_run(consultation.id)
        run = finished_run(consultation.id, newest.id) if newest else None
    return run


def moderation_backlog(consultation: Consultation) -> int:
    return _count(Statement, consultation.id, Statement.moderation == ModerationStatus.PENDING)
