"""The published moderation policy: one text for the whole site, edited by administrators.

Until an administrator writes one, the site shows ``default_policy()``, which names every reason
of ``RemovalReason``. Each edit is kept as a new version (``SiteText``) and recorded in the audit
log as ``policy.edited``, so the policy a decision was made under can always be read again. The
text is plain: paragraphs split by blank lines, shown escaped, never as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import RemovalReason, SiteText, SiteTextKey, User
from deliberate.services import audit
from deliberate.services.errors import Refused

POLICY_MAX = 20_000


def default_policy() -> str:
    reasons = "\n\n".join(f"{r.label}: {r.explanation}." for r in RemovalReason)
    return "\n\n".join(
        [
            "This policy says which statements the moderators take out of a consultation, and "
            "why. It covers everything people write here: the statements of a consultation and "
            "the comments people add to it.",
            "The moderators are the mission team running each consultation and the site's own "
            "moderators. In a pre-moderated consultation nobody sees a statement until a "
            "moderator has accepted it. In the others a statement appears at once, and the "
            "moderators take down any that break these rules.",
            "A statement is removed when it is one of these:",
            reasons,
            "When the only problem is a detail, such as a person's name, the moderators may edit "
            "the statement to take the detail out and keep the rest. An edited statement is "
            "labelled “Edited by moderators” and keeps its votes. The words taken out are not "
            "kept.",
            "The author of a removed statement sees the reason, and any note from the moderator, "
            "on their answers page. Votes already cast on it are kept but it is left out of every "
            "analysis, and it is never shown in a report or a download. Each published summary "
            "says how many statements were removed, and for which reasons, without naming the "
            "moderators.",
            "Every statement says who wrote it: “From the mission team” for the statements the "
            "team wrote to start the consultation, and “Written by a participant” for everyone "
            "else's.",
            "If you think a decision was wrong, tell the mission team running the consultation.",
        ]
    )


@dataclass(frozen=True)
class Policy:
    text: str
    updated_at: datetime | None  # None: the default, never edited

    @property
    def paragraphs(self) -> list[list[str]]:
        """Paragraphs (split by blank lines), each as its lines."""
        return [
            [line.strip() for line in block.split("\n") if line.strip()]
            for block in self.text.split("\n\n")
            if block.strip()
        ]


def _newest() -> SiteText | None:
    return db.session.scalar(
        select(SiteText)
        .where(SiteText.key == SiteTextKey.MODERATION_POLICY)
        .order_by(SiteText.id.desc())
        .limit(1)
    )


def current_policy() -> Policy:
    newest = _newest()
    if newest is None:
        return Policy(default_policy(), None)
    return Policy(newest.text, newest.created_at)


def clean_policy_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    # Blank-looking lines count as blank, so paragraphs split where a person sees them split.
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    if not text:
        raise Refused(_("Enter the moderation policy"), "text")
    if len(text) > POLICY_MAX:
        raise Refused(
            _("The policy must be %(max)s characters or fewer", max=f"{POLICY_MAX:,}"), "text"
        )
    return text


def edit_policy(user: User, text: str | None, reason: str | None) -> SiteText | None:
    """Publish a new version of the policy; None (and nothing recorded) when it is unchanged."""
    if not (user.is_authenticated and user.is_admin):
        raise Refused(_("Only administrators can change the moderation policy"))
    text = clean_policy_text(text)
    if text == current_policy().text:
        return None
    version = SiteText(key=SiteTextKey.MODERATION_POLICY, text=text, created_by_id=user.id)
    db.session.add(version)
    db.session.flush()
    audit.record(
        "policy.edited",
        version,
        target_type="site_text",
        actor_id=user.id,
        reason=reason,
        policy=SiteTextKey.MODERATION_POLICY.value,
        characters=len(text),
    )
    return version
