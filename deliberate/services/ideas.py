"""Frontline staff ideas: proposing and supporting them, and the mission team's public decisions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from deliberate.extensions import db
from deliberate.models import (
    Idea,
    IdeaStage,
    IdeaStageChange,
    IdeaSupport,
    IllegalTransition,
    Mission,
    ParticipantRole,
    User,
    normalise_statement,
    utcnow,
)
from deliberate.models.idea import IDEA_TEXT_MAX, IDEA_TITLE_MAX, describe_author
from deliberate.services import audit
from deliberate.services.errors import Refused

# How many ideas of each kind the team dashboard lists per mission; the rest are a link away.
REVIEW_QUEUE_SHOWN = 10
# A second identical proposal from the same person this soon is a double submit, not a new idea.
DUPLICATE_WINDOW = timedelta(minutes=1)
# Control characters other than tab and newline: PostgreSQL refuses NUL, and none belong in prose.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DuplicateIdea(Refused):
    """The same person sent the same idea again moments ago; ``original`` is the one they sent."""

    def __init__(self, original: Idea):
        super().__init__(_("You have already proposed this idea"), "title")
        self.original = original


class AlreadySupported(Refused):
    def __init__(self) -> None:
        super().__init__(_("You already support this idea"))


@dataclass(frozen=True)
class SupportCounts:
    staff: int = 0
    citizens: int = 0

    @property
    def total(self) -> int:
        return self.staff + self.citizens


@dataclass(frozen=True)
class IdeaSummary:
    """An idea as a list shows it: the idea and its support, counted once for the whole list."""

    idea: Idea
    support: SupportCounts


@dataclass(frozen=True)
class IdeaDetails:
    """Everything the idea page shows, from where the viewer stands."""

    idea: Idea
    support: SupportCounts
    history: list[IdeaStageChange]
    viewer_supports: bool
    viewer_is_author: bool
    viewer_may_manage: bool


@dataclass(frozen=True)
class QueuedIdea:
    """An idea waiting on the mission team, and since when: proposed, or moved under review."""

    idea: Idea
    waiting_since: datetime
    support: SupportCounts


@dataclass(frozen=True)
class ReviewQueue:
    """A mission's ideas that wait on its team, oldest first: new ones to review, and reviewed
    ones waiting for a decision. ``*_total`` count them all; the lists hold the first few."""

    to_review: tuple[QueuedIdea, ...] = ()
    awaiting_decision: tuple[QueuedIdea, ...] = ()
    to_review_total: int = 0
    awaiting_decision_total: int = 0


def clean_text(
    value: str | None,
    field: str,
    name: str,
    limit: int,
    *,
    missing: str | None = None,
    too_long: str | None = None,
) -> str:
    """Trim and check one piece of prose; refuse it with a message a person can act on:
    ``missing`` and ``too_long`` (translated, ``too_long`` with a ``%(max)s``) when given, else
    built from ``name``."""
    text = _CONTROL_CHARACTERS.sub("", (value or "").replace("\r\n", "\n")).strip()
    if not text:
        raise Refused(missing or f"Enter {name}", field)
    if len(text) > limit:
        if too_long:
            raise Refused(too_long % {"max": limit}, field)
        raise Refused(f"{name[0].upper()}{name[1:]} must be {limit} characters or fewer", field)
    return text


def may_propose(user: User) -> bool:
    return user.is_authenticated and user.is_staff


def may_manage(user: User, idea: Idea) -> bool:
    """The mission's team (admins included) decides an idea's stage; nobody else."""
    return user.is_authenticated and user.is_on_team(idea.mission_id)


def staff_domain_of(user: User) -> str | None:
    """The accepted staff domain (from the settings) that the person's verified work address is
    on: the broadest one, so "gosh.nhs.uk" gives "nhs.uk" and an idea never narrows its author
    down to one employer. None when the address is on no domain accepted today."""
    if not user.staff_email or "@" not in user.staff_email:
        return None
    own = user.staff_email.rsplit("@", 1)[1].lower()
    accepted = current_app.config["STAFF_EMAIL_DOMAINS"]
    matches = [d for d in accepted if own == d or own.endswith("." + d)]
    return min(matches, key=len) if matches else None


def anonymous_author(user: User) -> str:
    """How an idea from this person names them when they do not show their name."""
    return describe_author(staff_domain_of(user))


def propose_idea(
    author: User,
    mission: Mission,
    *,
    title: str | None,
    problem: str | None,
    proposal: str | None,
    evidence: str | None,
    show_name: bool = False,
    now: datetime | None = None,
) -> Idea:
    """Publish a verified staff member's idea. It names its author only if they chose to
    (``show_name``); otherwise it says "a verified member of staff in the NHS" (or wherever)."""
    if not may_propose(author):
        raise Refused(_("Only verified frontline staff can propose ideas"))
    now = now or utcnow()
    idea = Idea(
        mission_id=mission.id,
        author_id=author.id,
        show_author_name=bool(show_name),
        author_staff_domain=staff_domain_of(author),
        title=clean_text(
            title,
            "title",
            "a title for your idea",
            IDEA_TITLE_MAX,
            missing=_("Enter a title for your idea"),
            too_long=_("A title for your idea must be %(max)s characters or fewer"),
        ),
        problem=clean_text(
            problem,
            "problem",
            "the problem you see",
            IDEA_TEXT_MAX,
            missing=_("Enter the problem you see"),
            too_long=_("The problem you see must be %(max)s characters or fewer"),
        ),
        proposal=clean_text(
            proposal,
            "proposal",
            "your idea",
            IDEA_TEXT_MAX,
            missing=_("Enter your idea"),
            too_long=_("Your idea must be %(max)s characters or fewer"),
        ),
        evidence=clean_text(
            evidence,
            "evidence",
            "the evidence or experience behind your idea",
            IDEA_TEXT_MAX,
            missing=_("Enter the evidence or experience behind your idea"),
            too_long=_(
                "The evidence or experience behind your idea must be %(max)s characters or fewer"
            ),
        ),
        created_at=now,
    )
    original = _recent_twin(idea, now)
    if original is not None:
        raise DuplicateIdea(original)
    db.session.add(idea)
    db.session.flush()
    return idea


def _recent_twin(idea: Idea, now: datetime) -> Idea | None:
    """The same author's idea with the same title and problem from the last minute, if any."""
    recent = db.session.scalars(
        select(Idea).where(
            Idea.author_id == idea.author_id,
            Idea.mission_id == idea.mission_id,
            Idea.created_at >= now - DUPLICATE_WINDOW,
        )
    )
    key = (normalise_statement(idea.title), normalise_statement(idea.problem))
    for candidate in recent:
        if (normalise_statement(candidate.title), normalise_statement(candidate.problem)) == key:
            return candidate
    return None


def support_idea(user: User, idea: Idea, now: datetime | None = None) -> IdeaSupport:
    """Record support once per person, with the role they hold today.

    The unique constraint has the last word, so two clicks racing each other store one support.
    No savepoint: with the SQLite driver a savepoint opened before any write commits on release."""
    if not user.is_authenticated:
        raise Refused(_("Sign in to support this idea"))
    if idea.author_id == user.id:
        raise Refused(
            _(
                "You proposed this idea, so you cannot support it too: "
                "support shows who else backs it"
            )
        )
    support = IdeaSupport(
        idea_id=idea.id,
        user_id=user.id,
        role=ParticipantRole.STAFF if user.is_staff else ParticipantRole.CITIZEN,
        created_at=now or utcnow(),
    )
    already = db.session.scalar(
        select(IdeaSupport.id).where(IdeaSupport.idea_id == idea.id, IdeaSupport.user_id == user.id)
    )
    if already is not None:
        raise AlreadySupported()
    db.session.add(support)
    try:
        db.session.flush()
    except IntegrityError:
        # A second click raced the first past the check; the caller rolls back on Refused.
        raise AlreadySupported() from None
    return support


def move_idea(
    actor: User, idea: Idea, stage: str | None, reason: str | None, now: datetime | None = None
) -> IdeaStageChange:
    if not may_manage(actor, idea):
        raise Refused(_("Only the mission team can move this idea"))
    try:
        target = IdeaStage(stage or "")
    except ValueError:
        raise Refused(_("Choose the stage to move this idea to"), "stage") from None
    reason = clean_text(
        reason,
        "reason",
        "the public reason for this move",
        IDEA_TEXT_MAX,
        missing=_("Enter the public reason for this move"),
        too_long=_("The public reason for this move must be %(max)s characters or fewer"),
    )
    # Two team members deciding at once: the second waits, then sees the first one's move.
    db.session.refresh(idea, with_for_update=True)
    try:
        change = idea.move_to(target, reason, by=actor, now=now)
    except IllegalTransition as illegal:
        raise Refused(str(illegal), "stage") from None
    db.session.flush()
    audit.record(
        "idea.stage_changed",
        idea,
        actor_id=actor.id,
        reason=reason,
        from_stage=change.from_stage.value,
        to_stage=change.to_stage.value,
    )
    return change


def record_trial_learning(actor: User, idea: Idea, learning: str | None) -> Idea:
    if not may_manage(actor, idea):
        raise Refused(_("Only the mission team can record what a trial learnt"))
    learning = clean_text(
        learning,
        "learning",
        "what the trial learnt",
        IDEA_TEXT_MAX,
        missing=_("Enter what the trial learnt"),
        too_long=_("What the trial learnt must be %(max)s characters or fewer"),
    )
    try:
        idea.record_trial_learning(learning)
    except IllegalTransition as illegal:
        raise Refused(str(illegal), "learning") from None
    db.session.flush()
    audit.record("idea.learning_added", idea, actor_id=actor.id)
    return idea


def support_counts(idea_ids: list[int]) -> dict[int, SupportCounts]:
    """Staff and citizen support for each idea, counted apart in one query."""
    counts: dict[int, dict[ParticipantRole, int]] = {i: {} for i in idea_ids}
    if idea_ids:
        rows = db.session.execute(
            select(IdeaSupport.idea_id, IdeaSupport.role, func.count(IdeaSupport.id))
            .where(IdeaSupport.idea_id.in_(idea_ids))
            .group_by(IdeaSupport.idea_id, IdeaSupport.role)
        )
        for idea_id, role, count in rows:
            counts[idea_id][role] = count
    return {
        idea_id: SupportCounts(
            staff=by_role.get(ParticipantRole.STAFF, 0),
            citizens=by_role.get(ParticipantRole.CITIZEN, 0),
        )
        for idea_id, by_role in counts.items()
    }


def mission_ideas(
    mission: Mission, stage: IdeaStage | None = None, limit: int | None = None
) -> list[IdeaSummary]:
    """The mission's ideas, newest first, optionally only those at one stage."""
    query = select(Idea).where(Idea.mission_id == mission.id)
    if stage is not None:
        query = query.where(Idea.stage == stage)
    query = query.order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)
    ideas = db.session.scalars(query).all()
    counts = support_counts([idea.id for idea in ideas])
    return [IdeaSummary(idea, counts[idea.id]) for idea in ideas]


def stage_totals(mission: Mission) -> dict[IdeaStage, int]:
    """How many of the mission's ideas sit at each stage, for the stage filter."""
    rows = db.session.execute(
        select(Idea.stage, func.count(Idea.id))
        .where(Idea.mission_id == mission.id)
        .group_by(Idea.stage)
    )
    totals = dict.fromkeys(IdeaStage, 0)
    totals.update({stage: count for stage, count in rows})
    return totals


def idea_details(idea: Idea, viewer: User) -> IdeaDetails:
    signed_in = viewer.is_authenticated
    supports = signed_in and (
        db.session.scalar(
            select(IdeaSupport.id).where(
                IdeaSupport.idea_id == idea.id, IdeaSupport.user_id == viewer.id
            )
        )
        is not None
    )
    history = db.session.scalars(
        select(IdeaStageChange)
        .where(IdeaStageChange.idea_id == idea.id)
        .order_by(IdeaStageChange.changed_at, IdeaStageChange.id)
    ).all()
    return IdeaDetails(
        idea=idea,
        support=support_counts([idea.id])[idea.id],
        history=list(history),
        viewer_supports=bool(supports),
        viewer_is_author=signed_in and idea.author_id == viewer.id,
        viewer_may_manage=may_manage(viewer, idea),
    )


def review_queues(
    mission_ids: list[int], shown: int = REVIEW_QUEUE_SHOWN
) -> dict[int, ReviewQueue]:
    """For each mission, the ideas waiting on its team (see ``ReviewQueue``), oldest first: a
    proposed idea waits from when it was proposed, one under review from when it was moved there."""
    if not mission_ids:
        return {}
    reviewed_at = func.max(IdeaStageChange.changed_at)
    waiting_since = func.coalesce(reviewed_at, Idea.created_at)
    rows = db.session.execute(
        select(Idea, waiting_since)
        .outerjoin(
            IdeaStageChange,
            and_(
                IdeaStageChange.idea_id == Idea.id,
                IdeaStageChange.to_stage == IdeaStage.UNDER_REVIEW,
            ),
        )
        .where(
            Idea.mission_id.in_(mission_ids),
            Idea.stage.in_([IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW]),
        )
        .group_by(Idea.id)
        .order_by(waiting_since, Idea.id)
    ).all()
    counts = support_counts([idea.id for idea, _ in rows])
    waiting: dict[tuple[int, IdeaStage], list[QueuedIdea]] = {}
    for idea, since in rows:
        waiting.setdefault((idea.mission_id, idea.stage), []).append(
            QueuedIdea(idea, since, counts[idea.id])
        )

    def queue(mission_id: int) -> ReviewQueue:
        new = waiting.get((mission_id, IdeaStage.PROPOSED), [])
        reviewed = waiting.get((mission_id, IdeaStage.UNDER_REVIEW), [])
        return ReviewQueue(tuple(new[:shown]), tuple(reviewed[:shown]), len(new), len(reviewed))

    return {mission_id: queue(mission_id) for mission_id in mission_ids}
