"""The mission team's responses to what a consultation found ("You said, we did").

The team records a response (a decision or an action) answering statements, findings of the
published analysis run, topics and staff ideas; it is public at once, and every later change is a
dated update. ``announce`` is the one place where a response becomes public or changes publicly:
notifications to followers hook there.

What a response may answer is read from the published run's figures (``reports.figures_for``,
through the one typed reader), never recomputed; a finding is named by (run, kind, statement,
group or topic), so it stays the same finding however often the report is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from deliberate import mail
from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Idea,
    IllegalTransition,
    LinkKind,
    Mission,
    MissionResponse,
    ModerationStatus,
    ResponseLink,
    ResponseStatus,
    ResponseUpdate,
    Statement,
    User,
    utcnow,
)
from deliberate.models.response import RESPONSE_TEXT_MAX, RESPONSE_TITLE_MAX, link_key
from deliberate.reporting.figures import Figures, group_name
from deliberate.services import audit, following
from deliberate.services.errors import Refused
from deliberate.services.ideas import clean_text
from deliberate.services.reports import (
    AWAITING_TEXT,
    REMOVED_TEXT,
    figures_for,
    public_text,
    published_run,
)

FINDING_HEADINGS = {
    LinkKind.CONSENSUS: _l("Common ground"),
    LinkKind.DIVISIVE: _l("Where people divide"),
    LinkKind.REPRESENTATIVE: _l("What sets a group apart"),
    LinkKind.ROLE_DIFFERENCE: _l("Where staff and citizens differ"),
    LinkKind.ROLE_AGREEMENT: _l("Where staff and citizens both agree"),
    LinkKind.TOPIC: _l("Topics"),
    LinkKind.STATEMENT: _l("Statements"),
    LinkKind.IDEA: _l("Staff ideas"),
}


# -- what the pages are given ---------------------------------------------------------------------


@dataclass(frozen=True)
class Answerable:
    """One thing a response may answer: a finding of the run, a statement or a staff idea."""

    kind: LinkKind
    text: str  # the statement's words, the topic's name or the idea's title
    statement_id: int | None = None
    group_id: int | None = None
    topic_id: int | None = None
    idea_id: int | None = None
    direction: str | None = None  # for common ground: "agree" or "disagree"

    @property
    def key(self) -> str:
        return link_key(self.kind, self.statement_id, self.group_id, self.topic_id, self.idea_id)

    @property
    def short(self) -> str:
        """As listed under its section's heading: "Agreed: …", "Group A: …", or the text."""
        if self.kind is LinkKind.REPRESENTATIVE and self.group_id is not None:
            return f"{group_name(self.group_id)}: {self.text}"
        if self.kind is LinkKind.CONSENSUS and self.direction:
            agreed = self.direction == "agree"
            return (
                _("Agreed: %(text)s", text=self.text)
                if agreed
                else _("Rejected: %(text)s", text=self.text)
            )
        return self.text

    @property
    def label(self) -> str:
        """What it is, in words: "Common ground (agreed): …", "What sets Group A apart: …"."""
        if self.kind is LinkKind.REPRESENTATIVE and self.group_id is not None:
            heading = _("What sets %(group)s apart", group=group_name(self.group_id))
        elif self.kind is LinkKind.CONSENSUS and self.direction:
            agreed = self.direction == "agree"
            heading = _("Common ground (agreed)") if agreed else _("Common ground (rejected)")
        elif self.kind is LinkKind.STATEMENT:
            heading = _("Statement")
        elif self.kind is LinkKind.IDEA:
            heading = _("Staff idea")
        elif self.kind is LinkKind.TOPIC:
            heading = _("Topic")
        else:
            heading = str(FINDING_HEADINGS[self.kind])
        return f"{heading}: {self.text}"


@dataclass(frozen=True)
class Answerables:
    """What a response to a consultation may answer, in sections as the team's form lists them:
    the findings of the published run (if any), the public statements and the mission's ideas."""

    run: AnalysisRun | None
    findings: tuple[Answerable, ...]
    statements: tuple[Answerable, ...]
    ideas: tuple[Answerable, ...]

    @property
    def sections(self) -> list[tuple[str, str, tuple[Answerable, ...]]]:
        """(id, heading, items) for each non-empty section, findings first."""
        out = []
        for kind in (
            LinkKind.CONSENSUS,
            LinkKind.DIVISIVE,
            LinkKind.REPRESENTATIVE,
            LinkKind.ROLE_DIFFERENCE,
            LinkKind.ROLE_AGREEMENT,
            LinkKind.TOPIC,
        ):
            items = tuple(a for a in self.findings if a.kind is kind)
            if items:
                out.append((kind.value, str(FINDING_HEADINGS[kind]), items))
        for kind, items in ((LinkKind.STATEMENT, self.statements), (LinkKind.IDEA, self.ideas)):
            if items:
                out.append((kind.value, str(FINDING_HEADINGS[kind]), items))
        return out

    def by_key(self) -> dict[str, Answerable]:
        return {a.key: a for a in (*self.findings, *self.statements, *self.ideas)}


@dataclass(frozen=True)
class ResponseSummary:
    """A response as a list, a finding or an idea shows it."""

    id: int
    consultation_id: int
    consultation_title: str
    round_number: int
    title: str
    status: ResponseStatus
    recorded_at: datetime
    updated_at: datetime
    updates: tuple[ResponseUpdate, ...] = field(default=(), compare=False)

    @property
    def status_label(self) -> str:
        return self.status.label


@dataclass(frozen=True)
class LinkShown:
    """One thing a response answers, described for its public page, and where it is shown
    (``url_for(endpoint, **args)``; no endpoint when nothing public shows it)."""

    label: str
    endpoint: str | None = None
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ResponseDetails:
    response: MissionResponse
    answers: tuple[LinkShown, ...]
    updates: tuple[ResponseUpdate, ...]


@dataclass(frozen=True)
class RunAnswers:
    """The responses under each finding of one run's report: by the finding's key, and by
    statement for the responses that answer a statement itself."""

    by_key: dict[str, tuple[ResponseSummary, ...]] = field(default_factory=dict)

    def of(self, kind: str, statement_id: int | None = None, other: int | None = None) -> list:
        """The responses linked to a finding (``other`` is the group of a group's statement, or
        the topic), or to its statement directly, each once."""
        try:
            link = LinkKind(kind)
        except ValueError:
            return []
        if link is LinkKind.REPRESENTATIVE:
            key = link_key(link, statement_id, group_id=other)
        elif link is LinkKind.TOPIC:
            key = link_key(link, topic_id=other)
        else:
            key = link_key(link, statement_id)
        found = list(self.by_key.get(key, ()))
        if statement_id is not None and link is not LinkKind.STATEMENT:
            found += self.by_key.get(link_key(LinkKind.STATEMENT, statement_id), ())
        seen: set[int] = set()
        return [r for r in found if not (r.id in seen or seen.add(r.id))]


@dataclass(frozen=True)
class Unanswered:
    """The findings and statements of the latest published run that no response answers."""

    run: AnalysisRun | None
    findings: tuple[Answerable, ...]
    statements: tuple[Answerable, ...]


# -- who may -------------------------------------------------------------------------------------


def may_respond(user: User, consultation: Consultation) -> bool:
    """The consultation's mission team (admins included), and nobody else."""
    return user.is_authenticated and user.is_on_team(consultation.mission_id)


def _require_team(user: User, consultation: Consultation) -> None:
    if not may_respond(user, consultation):
        raise Refused(_("Only the mission team can respond to this consultation"))


# -- what a response may answer ------------------------------------------------------------------


def answerables(consultation: Consultation) -> Answerables:
    run = published_run(consultation.id)
    ideas = tuple(
        Answerable(LinkKind.IDEA, title, idea_id=idea_id)
        for idea_id, title in db.session.execute(
            select(Idea.id, Idea.title)
            .where(Idea.mission_id == consultation.mission_id)
            .order_by(Idea.created_at.desc(), Idea.id.desc())
        )
    )
    if run is None:
        return Answerables(None, (), _statements_without_run(consultation), ideas)
    figures = figures_for(run)
    statements = tuple(
        Answerable(LinkKind.STATEMENT, row.text, statement_id=row.id)
        for row in figures.statements
        if row.text not in (REMOVED_TEXT, AWAITING_TEXT)
    )
    return Answerables(run, _findings(figures), statements, ideas)


def _findings(f: Figures) -> tuple[Answerable, ...]:
    """The findings the report states, in its order: the ones a response may answer."""
    out: list[Answerable] = []
    if f.ok:
        out += [
            Answerable(LinkKind.CONSENSUS, c.statement.text, c.statement.id, direction=c.direction)
            for c in f.consensus_agree + f.consensus_disagree
        ]
        if f.k >= 2:
            out += [
                Answerable(LinkKind.DIVISIVE, d.statement.text, d.statement.id) for d in f.divisive
            ]
        out += [
            Answerable(LinkKind.REPRESENTATIVE, r.statement.text, r.statement.id, group_id=g.id)
            for g in f.groups
            for r in g.distinctive
        ]
    if f.roles is not None and f.roles.comparable:
        out += [
            Answerable(LinkKind.ROLE_DIFFERENCE, r.statement.text, r.statement.id)
            for r in f.roles.differ_most
        ]
        out += [
            Answerable(LinkKind.ROLE_AGREEMENT, r.statement.text, r.statement.id)
            for r in f.roles.both_agree
        ]
    if f.topics.available:
        out += [Answerable(LinkKind.TOPIC, t.label, topic_id=t.id) for t in f.topics.topics]
    return tuple(out)


def _statements_without_run(consultation: Consultation) -> tuple[Answerable, ...]:
    rows = db.session.execute(
        select(Statement.id, Statement.text, Statement.moderation)
        .where(
            Statement.consultation_id == consultation.id,
            Statement.moderation != ModerationStatus.REJECTED,
        )
        .order_by(Statement.id)
    )
    out = []
    for sid, text, moderation in rows:
        shown = public_text(consultation, text, moderation)
        if shown not in (REMOVED_TEXT, AWAITING_TEXT):
            out.append(Answerable(LinkKind.STATEMENT, shown, statement_id=sid))
    return tuple(out)


# -- recording and updating ------------------------------------------------------------------------


def _status(value: str | None, field_name: str) -> ResponseStatus:
    try:
        return ResponseStatus(value or "")
    except ValueError:
        raise Refused(_("Choose the response's status"), field_name) from None


def record_response(
    actor: User,
    consultation: Consultation,
    *,
    title: str | None,
    explanation: str | None,
    status: str | None,
    reason: str | None,
    answers: Iterable[str],
    now: datetime | None = None,
) -> MissionResponse:
    """Record a response, public at once, linked to what it answers (keys from ``answerables``)."""
    _require_team(actor, consultation)
    if consultation.state is ConsultationState.DRAFT:
        raise Refused(_("A draft consultation has nothing to respond to yet: open it first"))
    title = clean_text(title, "title", "what was decided or done", RESPONSE_TITLE_MAX)
    explanation_text = (explanation or "").strip()
    if explanation_text:
        explanation_text = clean_text(
            explanation_text, "explanation", "the explanation", RESPONSE_TEXT_MAX
        )
    chosen = _status(status, "status")
    not_doing_reason = _reason(reason) if chosen is ResponseStatus.NOT_DOING else None
    offered = answerables(consultation)
    links = _links(offered, answers)
    now = now or utcnow()
    try:
        response = MissionResponse(
            consultation_id=consultation.id,
            title=title,
            explanation=explanation_text,
            status=chosen,
            not_doing_reason=not_doing_reason,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
    except IllegalTransition as illegal:
        raise Refused(str(illegal), "reason") from None
    response.links = links
    first = ResponseUpdate(note="", to_status=chosen, created_by_id=actor.id, created_at=now)
    response.updates.append(first)
    db.session.add(response)
    db.session.flush()
    announce(actor, response, first)
    return response


def _reason(reason: str | None) -> str:
    return clean_text(reason, "reason", "why you are not doing this", RESPONSE_TEXT_MAX)


def _links(offered: Answerables, keys: Iterable[str]) -> list[ResponseLink]:
    known = offered.by_key()
    chosen = list(dict.fromkeys(k for k in keys if k))
    if not chosen:
        raise Refused(
            _("Choose at least one finding, statement or idea that this response answers"),
            "answers",
        )
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise Refused(
            _(
                "Choose what this response answers from the lists on this page: "
                "the findings, statements and ideas shown there"
            ),
            "answers",
        )
    links = []
    for key in chosen:
        a = known[key]
        links.append(
            ResponseLink(
                kind=a.kind,
                run_id=offered.run.id if a.kind.is_finding and offered.run else None,
                statement_id=a.statement_id,
                group_id=a.group_id,
                topic_id=a.topic_id,
                idea_id=a.idea_id,
            )
        )
    return links


def add_update(
    actor: User,
    response: MissionResponse,
    *,
    note: str | None,
    status: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> ResponseUpdate:
    """A dated public update, which may change the status (within the allowed moves)."""
    consultation = response.consultation
    _require_team(actor, consultation)
    note = clean_text(note, "note", "what has happened", RESPONSE_TEXT_MAX)
    # Two team members updating at once: the second waits, then sees the first one's change.
    db.session.refresh(response, with_for_update=True)
    try:
        if status:
            target = _status(status, "status")
            if target is ResponseStatus.NOT_DOING:
                reason = _reason(reason)
            update = response.move_to(target, note, reason=reason, by=actor, now=now)
        else:
            update = response.note(note, by=actor, now=now)
    except IllegalTransition as illegal:
        raise Refused(str(illegal), "status") from None
    db.session.flush()
    announce(actor, response, update)
    return update


def announce(actor: User, response: MissionResponse, update: ResponseUpdate) -> None:
    """The one place a response becomes public (its first update) or changes publicly (every
    later one): recorded in the audit log, and its followers told by email (after the commit)."""
    first = update.from_status is None and update.note == ""
    audit.record(
        "response.recorded" if first else "response.updated",
        response,
        actor_id=actor.id,
        consultation=response.consultation_id,
        update=update.id,
        status=response.status.value,
        **({"from_status": update.from_status.value} if update.from_status else {}),
    )
    following.response_recorded(
        response.consultation_id,
        mail.link(
            "responses.response", consultation_id=response.consultation_id, response_id=response.id
        ),
        response_title=f"{response.title} ({response.status.label.lower()})",
    )


# -- reading -------------------------------------------------------------------------------------


def _with_details(query):
    return query.options(
        selectinload(MissionResponse.updates),
        selectinload(MissionResponse.links),
        selectinload(MissionResponse.consultation),
    )


def consultation_responses(consultation: Consultation) -> list[MissionResponse]:
    """The consultation's responses, most recently updated first, with updates and links."""
    return list(
        db.session.scalars(
            _with_details(select(MissionResponse))
            .where(MissionResponse.consultation_id == consultation.id)
            .order_by(MissionResponse.updated_at.desc(), MissionResponse.id.desc())
        )
    )


def response_of(consultation: Consultation, response_id: int) -> MissionResponse | None:
    response = db.session.scalar(
        _with_details(select(MissionResponse)).where(MissionResponse.id == response_id)
    )
    if response is None or response.consultation_id != consultation.id:
        return None
    return response


def _summary(response: MissionResponse) -> ResponseSummary:
    c = response.consultation
    return ResponseSummary(
        id=response.id,
        consultation_id=response.consultation_id,
        consultation_title=c.title,
        round_number=c.round_number,
        title=response.title,
        status=response.status,
        recorded_at=response.created_at,
        updated_at=response.updated_at,
        updates=tuple(response.updates),
    )


def summaries(consultation: Consultation) -> list[ResponseSummary]:
    return [_summary(r) for r in consultation_responses(consultation)]


def mission_responses(mission: Mission) -> list[ResponseSummary]:
    """Every response to the mission's consultations, newest recorded first, each with its dated
    updates (oldest first): for the mission's public timeline."""
    rows = db.session.scalars(
        _with_details(select(MissionResponse))
        .join(Consultation, Consultation.id == MissionResponse.consultation_id)
        .where(
            Consultation.mission_id == mission.id,
            Consultation.state != ConsultationState.DRAFT,
        )
        .order_by(MissionResponse.created_at.desc(), MissionResponse.id.desc())
    )
    return [_summary(r) for r in rows]


def citing_idea(idea: Idea) -> list[ResponseSummary]:
    """The responses that answer a staff idea, most recently updated first."""
    rows = db.session.scalars(
        _with_details(select(MissionResponse))
        .join(ResponseLink, ResponseLink.response_id == MissionResponse.id)
        .where(ResponseLink.kind == LinkKind.IDEA, ResponseLink.idea_id == idea.id)
        .order_by(MissionResponse.updated_at.desc(), MissionResponse.id.desc())
        .distinct()
    )
    return [_summary(r) for r in rows]


def answers_stamp(consultation_id: int) -> tuple[int, datetime | None]:
    """Changes whenever a response to the consultation is recorded or updated (for caches)."""
    count, latest = db.session.execute(
        select(func.count(MissionResponse.id), func.max(MissionResponse.updated_at)).where(
            MissionResponse.consultation_id == consultation_id
        )
    ).one()
    return count, latest


def answers_for_run(run: AnalysisRun) -> RunAnswers:
    """The responses under each finding of ``run``: those linked to its findings, and those
    linked to a statement directly."""
    rows = db.session.execute(
        select(ResponseLink, MissionResponse)
        .join(MissionResponse, MissionResponse.id == ResponseLink.response_id)
        .options(selectinload(MissionResponse.consultation))
        .where(MissionResponse.consultation_id == run.consultation_id)
        .order_by(MissionResponse.updated_at.desc(), MissionResponse.id.desc())
    ).all()
    by_key: dict[str, list[ResponseSummary]] = {}
    for link, response in rows:
        if link.kind.is_finding and link.run_id != run.id:
            continue
        if link.kind is LinkKind.IDEA:
            continue
        by_key.setdefault(link.key, []).append(_summary(response))
    return RunAnswers({k: tuple(v) for k, v in by_key.items()})


def response_details(response: MissionResponse) -> ResponseDetails:
    """A response with what it answers described for the public, and its dated updates."""
    consultation = response.consultation
    runs = {link.run_id for link in response.links if link.run_id is not None}
    figures = {
        run.id: (run, figures_for(run))
        for run in db.session.scalars(select(AnalysisRun).where(AnalysisRun.id.in_(runs)))
    }
    statement_ids = {link.statement_id for link in response.links if link.statement_id}
    texts = {
        sid: public_text(consultation, text, moderation)
        for sid, text, moderation in db.session.execute(
            select(Statement.id, Statement.text, Statement.moderation).where(
                Statement.id.in_(statement_ids)
            )
        )
    }
    idea_ids = {link.idea_id for link in response.links if link.idea_id}
    ideas = dict(db.session.execute(select(Idea.id, Idea.title).where(Idea.id.in_(idea_ids))).all())
    current = published_run(consultation.id)
    answers = [_shown(link, texts, ideas, figures, current) for link in response.links]
    return ResponseDetails(response, tuple(answers), tuple(response.updates))


def _shown(link, texts, ideas, figures, current) -> LinkShown:
    if link.kind is LinkKind.IDEA:
        title = ideas.get(link.idea_id, "An idea")
        return LinkShown(f"Staff idea: {title}", "ideas.idea", {"idea_id": link.idea_id})
    text = texts.get(link.statement_id, "")
    if link.kind is LinkKind.STATEMENT:
        label = Answerable(LinkKind.STATEMENT, text).label
        if current is None:
            return LinkShown(label)
        return LinkShown(
            label,
            "reports.statements",
            {
                "consultation_id": current.consultation_id,
                "run_id": current.id,
                "_anchor": f"s-{link.statement_id}",
            },
        )
    run, f = figures.get(link.run_id, (None, None))
    answer = Answerable(link.kind, text, link.statement_id, link.group_id, link.topic_id)
    anchor = f"s-{link.statement_id}" if link.statement_id else None
    if link.kind is LinkKind.TOPIC:
        topic = f.topics.of(link.topic_id) if f is not None else None
        answer = Answerable(
            LinkKind.TOPIC, topic.label if topic else "a topic", topic_id=link.topic_id
        )
        anchor = topic.anchor if topic else None
    if run is None:
        return LinkShown(answer.label)
    return LinkShown(
        answer.label,
        "reports.run_report",
        {"consultation_id": run.consultation_id, "run_id": run.id, "_anchor": anchor},
    )


def not_yet_answered(consultation: Consultation) -> Unanswered:
    """The findings of the latest published run that no response links to, and its statements
    that no response answers, directly or through a finding on them (in any run)."""
    offered = answerables(consultation)
    links = db.session.scalars(
        select(ResponseLink)
        .join(MissionResponse, MissionResponse.id == ResponseLink.response_id)
        .where(MissionResponse.consultation_id == consultation.id)
    ).all()
    run_id = offered.run.id if offered.run else None
    answered_findings = {
        link.key for link in links if link.kind.is_finding and link.run_id == run_id
    }
    answered_statements = {link.statement_id for link in links if link.statement_id is not None}
    return Unanswered(
        run=offered.run,
        findings=tuple(a for a in offered.findings if a.key not in answered_findings),
        statements=tuple(
            a for a in offered.statements if a.statement_id not in answered_statements
        ),
    )
