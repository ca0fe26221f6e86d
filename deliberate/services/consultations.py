"""Running consultations: what a mission team does to set one up, open, close and re-run it, and
what moderators do with the comments waiting for them.

Who may do what:
- the team of the consultation's mission (``user.is_on_team``, which includes admins) does
  everything here;
- global moderators (``user.is_moderator``) may also moderate comments, and nothing else.

What may change, and when (the edit rules):
- a draft may change every setting;
- an open consultation may change only its context (to clarify it) and its closing date (to extend
  or shorten it). The question, moderation mode, anonymous taking part, service areas and opening
  date are what people answered under, so changing them mid-way would make the answers
  incomparable: close it and start a next round instead;
- a closed consultation changes nothing (it may be reopened, with a reason for the audit log);
- seed statements may be edited or removed only while the consultation is a draft: once it is
  open, people may have voted on them, so they are fixed;
- only a draft may be deleted: nobody outside the team has seen it.

Dates are chosen as days. A consultation opens at the start of its opening day and closes at the
end of its closing day (UTC), so "closes on 31 March" means people can take part all that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ConsultationState,
    IllegalTransition,
    Mission,
    ModerationMode,
    ModerationStatus,
    Participant,
    RemovalReason,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    User,
    normalise_statement,
    utcnow,
)
from deliberate.models.consultation import TITLE_MAX
from deliberate.services import audit, statement_reports
from deliberate.services.audit import REASON_MAX
from deliberate.services.errors import Refused, one_line
from deliberate.services.ideas import ReviewQueue, review_queues
from deliberate.services.statements import (
    DuplicateStatement,
    clean_statement_text,
    find_other_duplicate,
    moderate_statement,
    redact_statement,
    write_statement,
)

CONTEXT_MAX = 5000
SERVICE_AREA_MAX = 100  # the size of Participant.service_area
SERVICE_AREAS_MAX_COUNT = 20
RECENTLY_MODERATED_COUNT = 20


class NotPermitted(Refused):
    """The acting user may not do this to this mission's consultations."""


class IllegalMove(Refused):
    """The consultation cannot make this move from the state it is in."""


class DuplicateSeed(DuplicateStatement):
    """A seed statement the consultation already has (as a seed or as a participant's comment),
    said in the team's words: the participants' "vote on it instead" does not fit the team."""

    def __init__(self, original: Statement):
        Refused.__init__(
            self,
            _("This consultation already has that statement: change the wording or leave it out"),
            "text",
        )
        self.original = original


@dataclass(frozen=True)
class ConsultationSettings:
    """Everything a mission team chooses about a consultation, as typed on the form."""

    title: str
    context: str = ""
    moderation_mode: ModerationMode = ModerationMode.POST
    allow_anonymous: bool = True
    service_areas: str = ""  # one per line
    opens_on: date | None = None
    closes_on: date | None = None

    @classmethod
    def of(cls, consultation: Consultation) -> ConsultationSettings:
        return cls(
            title=consultation.title,
            context=consultation.context,
            moderation_mode=consultation.moderation_mode,
            allow_anonymous=consultation.allow_anonymous,
            service_areas=consultation.service_areas,
            opens_on=opening_day(consultation),
            closes_on=closing_day(consultation),
        )


@dataclass(frozen=True)
class ConsultationCounts:
    statements: int = 0  # live: accepted seeds and comments
    pending_comments: int = 0
    participants: int = 0


@dataclass
class MissionOverview:
    mission: Mission
    consultations: list[tuple[Consultation, ConsultationCounts]] = field(default_factory=list)
    ideas: ReviewQueue = field(default_factory=ReviewQueue)


# -- who may do what ------------------------------------------------------------------------------


def may_run(user: User, mission_id: int) -> bool:
    return user.is_authenticated and user.is_on_team(mission_id)


def may_moderate(user: User, consultation: Consultation) -> bool:
    return user.is_authenticated and (user.is_moderator or user.is_on_team(consultation.mission_id))


def may_use_manage_pages(user: User) -> bool:
    return user.is_authenticated and bool(
        user.is_admin or user.is_moderator or user.team_memberships
    )


def _require_team(user: User, mission_id: int) -> None:
    if not may_run(user, mission_id):
        raise NotPermitted(_("Only the mission team can run this mission's consultations"))


# -- dates ----------------------------------------------------------------------------------------


def opening_day(consultation: Consultation) -> date | None:
    return consultation.opens_at.date() if consultation.opens_at else None


def closing_day(consultation: Consultation) -> date | None:
    return consultation.closes_at.date() if consultation.closes_at else None


def _start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min) if day else None


def _end_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time.max) if day else None


def _check_dates(opens_on: date | None, closes_on: date | None, now: datetime) -> None:
    if closes_on is None:
        return
    if opens_on is not None and closes_on <= opens_on:
        raise Refused(_("Closing date must be after the opening date"), "closes_on")
    if _end_of(closes_on) <= now:
        raise Refused(_("Closing date must be today or in the future"), "closes_on")


# -- settings -------------------------------------------------------------------------------------


def _clean_title(title: str | None) -> str:
    return one_line(title, "title", _("Question"), TITLE_MAX, _("Enter the question"))


def _clean_context(context: str | None) -> str:
    context = (context or "").replace("\r\n", "\n").strip()
    if len(context) > CONTEXT_MAX:
        raise Refused(_("Context must be %(max)s characters or fewer", max=CONTEXT_MAX), "context")
    return context


def clean_service_areas(text: str | None) -> str:
    """One area per line, blank lines and repeats dropped; refuse what a participant could not pick
    from sensibly (too many, or too long to store)."""
    areas: list[str] = []
    for line in (text or "").splitlines():
        area = " ".join(line.split())
        if area and area.casefold() not in {a.casefold() for a in areas}:
            areas.append(area)
    if len(areas) > SERVICE_AREAS_MAX_COUNT:
        raise Refused(
            _(
                "Enter %(most)s service areas or fewer (you entered %(count)s)",
                most=SERVICE_AREAS_MAX_COUNT,
                count=len(areas),
            ),
            "service_areas",
        )
    for area in areas:
        if len(area) > SERVICE_AREA_MAX:
            raise Refused(
                _(
                    "Each service area must be %(max)s characters or fewer: “%(area)s…” is "
                    "%(length)s",
                    max=SERVICE_AREA_MAX,
                    area=area[:30],
                    length=len(area),
                ),
                "service_areas",
            )
    return "\n".join(areas)


def _cleaned(settings: ConsultationSettings) -> ConsultationSettings:
    """The settings as they will be stored, or a refusal naming the field at fault."""
    return replace(
        settings,
        title=_clean_title(settings.title),
        context=_clean_context(settings.context),
        moderation_mode=ModerationMode(settings.moderation_mode),
        allow_anonymous=bool(settings.allow_anonymous),
        service_areas=clean_service_areas(settings.service_areas),
    )


def _apply(consultation: Consultation, settings: ConsultationSettings) -> None:
    consultation.title = settings.title
    consultation.context = settings.context
    consultation.moderation_mode = settings.moderation_mode
    consultation.allow_anonymous = settings.allow_anonymous
    consultation.service_areas = settings.service_areas
    consultation.opens_at = _start_of(settings.opens_on)
    consultation.closes_at = _end_of(settings.closes_on)


def create_consultation(
    user: User, mission: Mission, settings: ConsultationSettings, now: datetime | None = None
) -> Consultation:
    """A new draft: nobody outside the team sees it until it is opened."""
    _require_team(user, mission.id)
    settings = _cleaned(settings)
    _check_dates(settings.opens_on, settings.closes_on, now or utcnow())
    consultation = Consultation(mission_id=mission.id, title=settings.title)
    _apply(consultation, settings)
    db.session.add(consultation)
    db.session.flush()
    audit.record("consultation.created", consultation, actor_id=user.id, mission=mission.slug)
    return consultation


# The settings an open consultation keeps (the form field of each has the same name).
_FIXED_WHILE_OPEN = (
    ("title", _l("The question cannot change while the consultation is open")),
    ("moderation_mode", _l("The moderation mode cannot change while the consultation is open")),
    (
        "allow_anonymous",
        _l("Whether people can take part anonymously cannot change while the consultation is open"),
    ),
    ("service_areas", _l("The service areas cannot change while the consultation is open")),
    ("opens_on", _l("The opening date cannot change while the consultation is open")),
)


def editable_settings(consultation: Consultation) -> frozenset[str]:
    """The settings that may change now (see the edit rules at the top of this module)."""
    if consultation.state is ConsultationState.DRAFT:
        return frozenset(f.name for f in fields(ConsultationSettings))
    if consultation.state is ConsultationState.OPEN:
        return frozenset({"context", "closes_on"})
    return frozenset()


def update_consultation(
    user: User,
    consultation: Consultation,
    settings: ConsultationSettings,
    now: datetime | None = None,
) -> Consultation:
    """Change a consultation's settings, within the edit rules for its state."""
    _require_team(user, consultation.mission_id)
    if consultation.state is ConsultationState.CLOSED:
        raise IllegalMove(_("A closed consultation cannot be changed: start a next round instead"))
    now = now or utcnow()
    settings = _cleaned(settings)
    current = ConsultationSettings.of(consultation)
    if consultation.state is ConsultationState.OPEN:
        for attribute, fixed in _FIXED_WHILE_OPEN:
            if getattr(settings, attribute) != getattr(current, attribute):
                raise Refused(str(fixed), attribute)
        if settings.closes_on != current.closes_on:
            _check_dates(settings.opens_on, settings.closes_on, now)
    else:
        _check_dates(settings.opens_on, settings.closes_on, now)
    _apply(consultation, settings)
    db.session.flush()
    changed = ",".join(
        f.name for f in fields(settings) if getattr(settings, f.name) != getattr(current, f.name)
    )
    audit.record("consultation.edited", consultation, actor_id=user.id, changed=changed)
    return consultation


# -- the life cycle -------------------------------------------------------------------------------


def open_consultation(user: User, consultation: Consultation, now: datetime | None = None) -> None:
    """Open a draft. A next round invites, by email, those who follow the earlier rounds."""
    # Imported here: following reads the rounds through this module.
    from deliberate.services import following

    _require_team(user, consultation.mission_id)
    try:
        consultation.open(now)
    except IllegalTransition as error:
        raise IllegalMove(str(error)) from error
    db.session.flush()
    audit.record("consultation.opened", consultation, actor_id=user.id)
    following.next_round_opened(consultation)


def close_consultation(user: User, consultation: Consultation, now: datetime | None = None) -> None:
    _require_team(user, consultation.mission_id)
    try:
        consultation.close(now)
    except IllegalTransition as error:
        raise IllegalMove(str(error)) from error
    db.session.flush()
    audit.record("consultation.closed", consultation, actor_id=user.id)


def why_not_reopen(consultation: Consultation) -> str | None:
    """Why the consultation cannot be reopened, or None when it can. A closed round whose next
    round has been started stays closed: people take part in the new round."""
    problem = consultation.why_not_reopen()
    if problem:
        return problem
    later = next_round_of(consultation)
    if later is not None:
        return _(
            "Round %(round)s of this consultation has been started, so this round cannot be "
            "reopened",
            round=later.round_number,
        )
    return None


def clean_reason(reason: str | None, missing: str) -> str:
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise Refused(missing, "reason")
    if len(reason) > audit.REASON_MAX:
        raise Refused(
            _("Reason must be %(max)s characters or fewer", max=audit.REASON_MAX), "reason"
        )
    return reason


def reopen_consultation(
    user: User, consultation: Consultation, reason: str | None, now: datetime | None = None
) -> None:
    """Let people take part again in a closed consultation; the reason goes to the audit log."""
    _require_team(user, consultation.mission_id)
    reason = clean_reason(reason, _("Enter why you are reopening the consultation"))
    problem = why_not_reopen(consultation)
    if problem:
        raise IllegalMove(problem)
    closing_date_cleared = consultation.closing_date_passed(now)
    consultation.reopen(now)
    db.session.flush()
    audit.record(
        "consultation.reopened",
        consultation,
        actor_id=user.id,
        reason=reason,
        closing_date_cleared=closing_date_cleared,
    )


def why_not_delete(consultation: Consultation) -> str | None:
    if consultation.state is not ConsultationState.DRAFT:
        if consultation.state is ConsultationState.OPEN:
            return _(
                "Only a draft consultation can be deleted; this one is open. People may have "
                "taken part, so it is kept."
            )
        return _(
            "Only a draft consultation can be deleted; this one is closed. People may have "
            "taken part, so it is kept."
        )
    return None


def delete_draft(user: User, consultation: Consultation) -> None:
    """Delete a draft and everything in it (its seed statements, and any analysis of them). The
    audit log keeps that it existed."""
    _require_team(user, consultation.mission_id)
    problem = why_not_delete(consultation)
    if problem:
        raise IllegalMove(problem)
    audit.record(
        "consultation.deleted",
        consultation,
        actor_id=user.id,
        mission=consultation.mission.slug,
        round=consultation.round_number,
        seeds=len(seed_statements(consultation)),
    )
    db.session.delete(consultation)
    db.session.flush()


def next_round_of(consultation: Consultation) -> Consultation | None:
    return db.session.scalar(
        select(Consultation)
        .where(Consultation.previous_round_id == consultation.id)
        .order_by(Consultation.id)
        .limit(1)
    )


def rounds_of(consultation: Consultation) -> list[Consultation]:
    """Every round of the consultation's question, first round first."""
    first = consultation
    while first.previous_round is not None:
        first = first.previous_round
    chain = [first]
    while (after := next_round_of(chain[-1])) is not None:
        chain.append(after)
    return chain


def start_next_round(user: User, consultation: Consultation) -> Consultation:
    """A new draft round of a closed consultation, seeded with the statements its participants
    could vote on at the end (accepted seeds and comments, in the order they were made).

    Pending and rejected comments are not carried: nobody voted on them, and a rejected one should
    not come back as a seed. Only one next round may follow a round, so a repeated request does not
    make two."""
    _require_team(user, consultation.mission_id)
    existing = next_round_of(consultation)
    if existing is not None:
        raise IllegalMove(
            _(
                "Round %(round)s of this consultation has already been started",
                round=existing.round_number,
            )
        )
    try:
        new_round = consultation.next_round()
    except IllegalTransition as error:
        raise IllegalMove(str(error)) from error
    db.session.add(new_round)
    db.session.flush()
    carried = db.session.scalars(
        select(Statement)
        .where(
            Statement.consultation_id == consultation.id,
            Statement.moderation == ModerationStatus.ACCEPTED,
        )
        .order_by(Statement.created_at, Statement.id)
    )
    for statement in carried:
        try:
            write_statement(
                new_round, statement.text, origin=StatementOrigin.SEED, language=statement.language
            )
        except DuplicateStatement:
            continue  # imported rounds may hold near-duplicates; one copy is enough
    audit.record("consultation.next_round", consultation, actor_id=user.id, next_round=new_round.id)
    return new_round


def add_seed_statement(
    user: User, consultation: Consultation, text: str | None, language: str | None = None
) -> Statement:
    """A statement from the team to start or widen the conversation; it is live at once, in the
    consultation's main language unless ``language`` names another of its languages.
    A duplicate raises ``DuplicateStatement`` carrying the original."""
    _require_team(user, consultation.mission_id)
    if consultation.state is ConsultationState.CLOSED:
        raise IllegalMove(_("A closed consultation cannot take new statements"), "text")
    try:
        statement = write_statement(
            consultation,
            text,
            origin=StatementOrigin.SEED,
            language=language if language in consultation.languages else None,
        )
    except DuplicateStatement as duplicate:
        raise DuplicateSeed(duplicate.original) from duplicate
    audit.record("seed.added", statement, actor_id=user.id, consultation=consultation.id)
    return statement


def why_not_change_seed(statement: Statement) -> str | None:
    """Why the team cannot edit or remove this statement now, or None when it can."""
    if statement.origin is not StatementOrigin.SEED:
        return _("Only seed statements can be changed by the team: comments are moderated instead.")
    if statement.consultation.state is not ConsultationState.DRAFT:
        return _(
            "Seed statements are fixed once the consultation has opened: people may have voted "
            "on them as they are."
        )
    return None


def _require_changeable_seed(user: User, statement: Statement) -> None:
    _require_team(user, statement.consultation.mission_id)
    problem = why_not_change_seed(statement)
    if problem:
        raise IllegalMove(problem, "text")


def edit_seed_statement(user: User, statement: Statement, text: str | None) -> Statement:
    """Change a draft's seed statement. Its old embedding is dropped, so the new text is embedded
    afresh; a text the consultation already has is refused with ``DuplicateSeed``."""
    _require_changeable_seed(user, statement)
    text = clean_statement_text(text)
    if text == statement.text:
        return statement
    normalised = normalise_statement(text)
    original = db.session.scalar(
        select(Statement)
        .where(
            Statement.consultation_id == statement.consultation_id,
            Statement.normalised_text == normalised,
            Statement.id != statement.id,
        )
        .order_by(Statement.id)
        .limit(1)
    )
    if original is not None:
        raise DuplicateSeed(original)
    statement.text = text
    statement.normalised_text = normalised
    db.session.execute(
        delete(StatementEmbedding).where(StatementEmbedding.statement_id == statement.id)
    )
    db.session.flush()
    audit.record("seed.edited", statement, actor_id=user.id, consultation=statement.consultation_id)
    return statement


def remove_seed_statement(user: User, statement: Statement) -> None:
    _require_changeable_seed(user, statement)
    audit.record(
        "seed.removed", statement, actor_id=user.id, consultation=statement.consultation_id
    )
    db.session.delete(statement)
    db.session.flush()


# -- moderation -----------------------------------------------------------------------------------


def moderator_role(user: User, consultation: Consultation) -> str:
    """How the moderation log names whoever acted: by role, never by name."""
    if any(m.mission_id == consultation.mission_id for m in user.team_memberships):
        return "mission team"
    if user.is_moderator:
        return "moderator"
    if user.is_admin:
        return "admin"
    return "not recorded"


def _clean_note(note: str | None) -> str | None:
    note = (note or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(note) > REASON_MAX:
        raise Refused(_("Note must be %(max)s characters or fewer", max=REASON_MAX), "note")
    return note or None


def _require_moderator(user: User, statement: Statement) -> None:
    if not may_moderate(user, statement.consultation):
        raise NotPermitted(_("Only the mission team and moderators can moderate comments"))
    if statement.origin is not StatementOrigin.PARTICIPANT:
        raise Refused(_("Seed statements are written by the mission team and are not moderated"))


def moderate(
    user: User,
    statement: Statement,
    accept: bool,
    note: str | None = None,
    *,
    removal_reason: RemovalReason | None = None,
) -> Statement:
    """Accept or reject a participant's comment. A rejection needs a reason from the published
    policy (``removal_reason``); ``note`` is shown to the author beside it, and kept in the audit
    log with the decision, the reason and the moderator's role.

    Pending comments are accepted (they become votable) or rejected. A live comment may be taken
    down (rejected) in either moderation mode: in post-moderation that is the only check, and in
    pre-moderation it corrects a mistaken acceptance. A rejected comment may be reinstated. Asking
    for the state a comment is already in changes nothing, so a double click is harmless. Votes
    already cast are kept; analyses leave out rejected statements, and every decision makes the
    consultation's analysis stale."""
    consultation = statement.consultation
    _require_moderator(user, statement)
    wanted = ModerationStatus.ACCEPTED if accept else ModerationStatus.REJECTED
    # Any decision closes the statement's reports and lifts a hide (accepting a live statement
    # that reports hid changes only that).
    statement_reports.close_reports(user, statement, accept)
    if statement.moderation is wanted:
        return statement
    if not accept and removal_reason is None:
        raise Refused(_("Select why this comment breaks the moderation policy"), "removal_reason")
    note = _clean_note(note)
    previous = statement.moderation
    moderate_statement(statement, accept, None if accept else removal_reason, note)
    audit.record(
        "statement.moderated",
        statement,
        actor_id=user.id,
        reason=note,
        decision="accept" if accept else "reject",
        previous=previous.value,
        removal_reason=None if accept or removal_reason is None else removal_reason.value,
        role=moderator_role(user, consultation),
        note_public=not accept,  # a rejection's note is shown to the author
        consultation=consultation.id,
    )
    return statement


def redact(
    user: User, statement: Statement, text: str | None, removal_reason: RemovalReason | None
) -> Statement:
    """Edit a participant's statement to take out what breaks the policy (a person's name, say),
    keeping it and its votes. It is labelled "Edited by moderators" wherever it is shown. The
    words taken out are kept nowhere: the audit event has the statement, the reason and the
    moderator's role only. The analysis becomes stale, and the statement is embedded again."""
    consultation = statement.consultation
    _require_moderator(user, statement)
    if removal_reason is None:
        raise Refused(_("Select why the words must change"), "removal_reason")
    text = clean_statement_text(text)
    if text == statement.text:
        raise Refused(_("Change the words to take out what breaks the policy"), "text")
    other = find_other_duplicate(statement, text)
    if other is not None:
        raise Refused(
            _(
                "Statement %(id)s already says this: reject this one as a duplicate instead",
                id=other.id,
            ),
            "text",
        )
    redact_statement(statement, text)
    audit.record(
        "statement.redacted",
        statement,
        actor_id=user.id,
        removal_reason=removal_reason.value,
        role=moderator_role(user, consultation),
        consultation=consultation.id,
    )
    return statement


def awaiting_moderation(consultation: Consultation) -> list[Statement]:
    """Comments waiting for a decision, oldest first, so nobody waits longest."""
    return list(
        db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.origin == StatementOrigin.PARTICIPANT,
                Statement.moderation == ModerationStatus.PENDING,
            )
            .order_by(Statement.created_at, Statement.id)
        )
    )


def recently_moderated(
    consultation: Consultation, limit: int = RECENTLY_MODERATED_COUNT
) -> list[Statement]:
    return list(
        db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.origin == StatementOrigin.PARTICIPANT,
                Statement.moderation != ModerationStatus.PENDING,
            )
            .order_by(Statement.moderated_at.desc(), Statement.id.desc())
            .limit(limit)
        )
    )


def seed_statements(consultation: Consultation) -> list[Statement]:
    return list(
        db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.origin == StatementOrigin.SEED,
            )
            .order_by(Statement.created_at, Statement.id)
        )
    )


# -- overviews ------------------------------------------------------------------------------------


def counts_for(consultation_ids: Iterable[int]) -> dict[int, ConsultationCounts]:
    """Live statements, pending comments and participants per consultation, in two queries."""
    ids = list(consultation_ids)
    if not ids:
        return {}
    by_moderation = {
        (consultation_id, moderation): n
        for consultation_id, moderation, n in db.session.execute(
            select(Statement.consultation_id, Statement.moderation, func.count(Statement.id))
            .where(Statement.consultation_id.in_(ids))
            .group_by(Statement.consultation_id, Statement.moderation)
        ).all()
    }
    live = {i: by_moderation.get((i, ModerationStatus.ACCEPTED), 0) for i in ids}
    pending = {i: by_moderation.get((i, ModerationStatus.PENDING), 0) for i in ids}
    people = dict(
        db.session.execute(
            select(Participant.consultation_id, func.count(Participant.id))
            .where(Participant.consultation_id.in_(ids))
            .group_by(Participant.consultation_id)
        ).all()
    )
    return {i: ConsultationCounts(live.get(i, 0), pending.get(i, 0), people.get(i, 0)) for i in ids}


def team_overview(user: User) -> list[MissionOverview]:
    """The missions whose team the user is on (every mission for an admin), each with its
    consultations, newest first, and the staff ideas waiting on the team."""
    missions = [
        m
        for m in db.session.scalars(select(Mission).order_by(Mission.position, Mission.id))
        if may_run(user, m.id)
    ]
    if not missions:
        return []
    consultations = db.session.scalars(
        select(Consultation)
        .where(Consultation.mission_id.in_([m.id for m in missions]))
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
    ).all()
    counts = counts_for(c.id for c in consultations)
    queues = review_queues([m.id for m in missions])
    overview = {m.id: MissionOverview(m, ideas=queues[m.id]) for m in missions}
    for consultation in consultations:
        overview[consultation.mission_id].consultations.append(
            (consultation, counts[consultation.id])
        )
    return list(overview.values())


def moderation_overview(user: User) -> list[tuple[Consultation, int]]:
    """For a moderator: each consultation with comments waiting, most waiting first."""
    if not (user.is_authenticated and user.is_moderator):
        return []
    rows = db.session.execute(
        select(Consultation, func.count(Statement.id))
        .join(Statement, Statement.consultation_id == Consultation.id)
        .where(
            Statement.origin == StatementOrigin.PARTICIPANT,
            Statement.moderation == ModerationStatus.PENDING,
        )
        .group_by(Consultation.id)
        .order_by(func.count(Statement.id).desc(), Consultation.id)
    ).all()
    return [(consultation, count) for consultation, count in rows]
