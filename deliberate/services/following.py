"""Following a consultation by email: anyone, signed in or not, may leave an address to be told
when a summary is published, when the mission team responds and when the next round opens.

- Double opt-in: asking stores the address with a confirmation link (only its hash) and emails
  that link; nothing else is ever sent to an address that did not open it.
- Nobody learns whether an address already follows: asking again answers the same, and the
  email to the address says what happened (a new link, or "you already follow this").
- A consultation is followed with the rounds after it (its "thread"): a follower of round 1 is
  invited to round 2, and hears about round 2's summary too.
- Every email carries its own one-click unsubscribe link, in the text and in the
  ``List-Unsubscribe`` headers of RFC 8058. Unsubscribing deletes the address.
- The address is linked to nothing but the consultation (``deliberate.models.Follower``). The
  invitation to a next round carries a marker that is the same for every follower, so a
  participant who came back through it is only marked as invited back (``Participant
  .invited_back``), never linked to the follower or the address.
- Kept: unconfirmed, ``FOLLOWER_CONFIRM_DAYS`` after the link was sent; confirmed,
  ``FOLLOWER_KEEP_DAYS`` after the last round of the thread closed (``purge``, run by the
  retention purge).

Emails are queued with ``deliberate.mail.queue_email``, so they leave after the commit, from a
background job. Their links are built by ``mail.link``: from the request, else from PUBLIC_URL.
Every email to a follower is in ``Follower.language``: the interface language of the request
that asked to follow (asking again before confirming takes the new request's language), never
the language of the team member whose action sends the news. The "you already follow" email
answers a request, so it is in that request's language; the stored language is not changed by
it (anyone may type an address, and a confirmed follower's choice stays theirs).
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from deliberate import mail
from deliberate.extensions import db, keyed_hash, token_hash
from deliberate.mail import PlainValue, email_language, queue_email
from deliberate.models import Consultation, ConsultationState, Follower, utcnow
from deliberate.services.accounts import normalise_email
from deliberate.services.consultations import rounds_of
from deliberate.services.errors import Refused

_INVITATION_SALT = "deliberate.round-invitation"
ONE_CLICK = "List-Unsubscribe=One-Click"  # the body a mail client posts (RFC 8058)


class FollowEvent(enum.StrEnum):
    """What followers are told about."""

    SUMMARY_PUBLISHED = "summary_published"
    NEXT_ROUND_OPENED = "next_round_opened"
    TEAM_RESPONSE = "team_response"


def _subject(event: FollowEvent, title: str) -> LazyString:
    """The subject of the email about ``event``, translated when the email's language is known."""
    if event is FollowEvent.SUMMARY_PUBLISHED:
        return _l("A summary has been published: %(title)s", title=title)
    if event is FollowEvent.NEXT_ROUND_OPENED:
        return _l("A new round has opened: %(title)s", title=title)
    return _l("The mission team has responded: %(title)s", title=title)


def _days(setting: str) -> timedelta:
    return timedelta(days=int(current_app.config[setting]))


def thread_ids(consultation: Consultation) -> list[int]:
    """The rounds a follower of ``consultation`` hears about: every round of its question."""
    return [c.id for c in rounds_of(consultation)]


# -- links ----------------------------------------------------------------------------------------


def unsubscribe_token(follower: Follower) -> str:
    """The secret of the follower's unsubscribe link: a keyed hash of its salt under the app's
    secret key, so every email can carry it while only its hash is stored."""
    return keyed_hash("follower-unsubscribe", follower.unsubscribe_salt)


def _unsubscribe_link(follower: Follower) -> str:
    return mail.link("following.unsubscribe", token=unsubscribe_token(follower))


def _one_click_headers(link: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": ONE_CLICK}


def invitation_marker(consultation_id: int) -> str:
    """What the invitation to a round carries: signed, and the same for every follower."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_INVITATION_SALT).dumps(
        consultation_id
    )


def is_invitation(marker: str, consultation_id: int) -> bool:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_INVITATION_SALT)
    try:
        return serializer.loads(marker) == consultation_id
    except BadSignature:
        return False


def invitation_link(consultation: Consultation) -> str:
    return mail.link(
        "following.invitation",
        consultation_id=consultation.id,
        marker=invitation_marker(consultation.id),
    )


def _send(
    follower: Follower,
    subject: LazyString,
    template: str,
    language: str | None = None,
    **context: PlainValue,
) -> None:
    """Email ``follower`` in its language, unless ``language`` says otherwise."""
    link = _unsubscribe_link(follower)
    queue_email(
        follower.email,
        subject,
        template,
        language=language or follower.language,
        headers=_one_click_headers(link),
        unsubscribe_link=link,
        **context,
    )


# -- asking to follow, confirming, unsubscribing -------------------------------------------------


def _following_in_thread(email: str, ids: Sequence[int]) -> list[Follower]:
    """The rows of ``email`` in these rounds, confirmed first."""
    rows = db.session.scalars(
        select(Follower)
        .where(Follower.email == email, Follower.consultation_id.in_(ids))
        .order_by(Follower.id)
    ).all()
    return sorted(rows, key=lambda f: f.confirmed_at is None)


def ask_to_follow(consultation: Consultation, email: str, now: datetime | None = None) -> None:
    """Email ``email`` a link to confirm it follows the consultation, or, when it already does,
    an email saying so (with its unsubscribe link). The caller answers the same either way."""
    now = now or utcnow()
    email = normalise_email(email)
    rows = _following_in_thread(email, thread_ids(consultation))
    context = {"title": consultation.title, "round": consultation.round_number}
    if rows and rows[0].is_confirmed:
        _send(
            rows[0],
            _l("You already follow: %(title)s", title=consultation.title),
            "email/follow_already.txt",
            email_language(),  # answers this request: see the module's docstring
            consultation_link=mail.link("consultations.show", consultation_id=consultation.id),
            **context,
        )
        return
    follower = rows[0] if rows else None
    if follower is None:
        salt = secrets.token_urlsafe(32)
        follower = Follower(
            consultation_id=consultation.id,
            email=email,
            unsubscribe_salt=salt,
            unsubscribe_hash=token_hash(keyed_hash("follower-unsubscribe", salt)),
            created_at=now,
        )
        db.session.add(follower)
    follower.language = email_language()  # the request's: every email to it is written in it
    token = secrets.token_urlsafe(32)
    follower.confirm_token_hash = token_hash(token)  # an earlier link stops working
    follower.confirm_sent_at = now
    db.session.flush()
    _send(
        follower,
        _l("Confirm you want emails about: %(title)s", title=consultation.title),
        "email/follow_confirm.txt",
        confirm_link=mail.link("following.confirm", token=token),
        days=int(current_app.config["FOLLOWER_CONFIRM_DAYS"]),
        **context,
    )


_NOT_VALID = _l(
    "This link is not valid. It may have been used already, replaced by a newer one, or copied "
    "wrongly."
)


def check_confirmation(token: str, now: datetime | None = None) -> Follower:
    """The follow request a confirmation link stands for, while it may be used."""
    now = now or utcnow()
    follower = db.session.scalar(
        select(Follower).where(Follower.confirm_token_hash == token_hash(token))
    )
    if follower is None:
        raise Refused(str(_NOT_VALID))
    if follower.confirm_sent_at + _days("FOLLOWER_CONFIRM_DAYS") <= now:
        raise Refused(_("This link has expired. Ask again from the consultation's page."))
    return follower


def confirm(token: str, now: datetime | None = None) -> Follower:
    now = now or utcnow()
    follower = check_confirmation(token, now)
    follower.confirmed_at = now
    follower.confirm_token_hash = None
    db.session.flush()
    return follower


def follower_by_unsubscribe(token: str) -> Follower | None:
    return db.session.scalar(select(Follower).where(Follower.unsubscribe_hash == token_hash(token)))


def unsubscribe(token: str) -> bool:
    """Delete the address the link was sent to from every round of its thread; False when the
    link matches nobody (already unsubscribed, or mistyped)."""
    follower = follower_by_unsubscribe(token)
    if follower is None:
        return False
    consultation = db.session.get(Consultation, follower.consultation_id)
    ids = thread_ids(consultation) if consultation is not None else [follower.consultation_id]
    db.session.execute(
        delete(Follower).where(Follower.email == follower.email, Follower.consultation_id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    db.session.expunge(follower)
    return True


# -- telling followers ----------------------------------------------------------------------------


def confirmed_followers(consultation: Consultation) -> list[Follower]:
    """One row per confirmed address following any round of the consultation's question."""
    rows = db.session.scalars(
        select(Follower)
        .where(
            Follower.consultation_id.in_(thread_ids(consultation)),
            Follower.confirmed_at.is_not(None),
        )
        .order_by(Follower.id)
    ).all()
    seen: dict[str, Follower] = {}
    for row in rows:
        seen.setdefault(row.email, row)
    return list(seen.values())


def notify_followers(consultation_id: int, event: FollowEvent, **context: PlainValue) -> int:
    """Email every confirmed follower of the consultation's question about ``event``, each with
    its own unsubscribe link; returns how many emails were queued (sent after the commit).

    ``context`` goes to the template ``email/follow_<event>.txt`` as plain values. The team's
    response (``FollowEvent.TEAM_RESPONSE``) needs ``link``, where the response can be read."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return 0
    followers = confirmed_followers(consultation)
    if not followers:
        return 0
    base: dict[str, Any] = {
        "title": consultation.title,
        "round": consultation.round_number,
        "consultation_link": mail.link("consultations.show", consultation_id=consultation.id),
    }
    for follower in followers:
        _send(
            follower,
            _subject(event, consultation.title),
            f"email/follow_{event.value}.txt",
            **{**base, **context},
        )
    return len(followers)


def summary_published(consultation: Consultation) -> int:
    return notify_followers(
        consultation.id,
        FollowEvent.SUMMARY_PUBLISHED,
        link=mail.link("reports.report", consultation_id=consultation.id),
    )


def next_round_opened(consultation: Consultation) -> int:
    """A round after the first has opened: invite those following the earlier rounds."""
    if consultation.previous_round_id is None:
        return 0
    return notify_followers(
        consultation.id, FollowEvent.NEXT_ROUND_OPENED, link=invitation_link(consultation)
    )


def response_recorded(consultation_id: int, link: str, **context: PlainValue) -> int:
    """The mission team responded to the consultation: ``link`` is where to read it."""
    return notify_followers(consultation_id, FollowEvent.TEAM_RESPONSE, link=link, **context)


# -- retention ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowersPurged:
    unconfirmed: int
    after_last_round: int


def purge(now: datetime) -> FollowersPurged:
    """Delete follow requests never confirmed within ``FOLLOWER_CONFIRM_DAYS``, and every
    follower of a question whose last round closed more than ``FOLLOWER_KEEP_DAYS`` ago (the
    last round that opened: a next round left in draft may never open)."""
    unconfirmed = db.session.execute(
        delete(Follower).where(
            Follower.confirmed_at.is_(None),
            Follower.confirm_sent_at < now - _days("FOLLOWER_CONFIRM_DAYS"),
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    closed_before = now - _days("FOLLOWER_KEEP_DAYS")
    followed = db.session.scalars(select(Follower.consultation_id).distinct()).all()
    done: set[int] = set()
    after_last_round = 0
    for consultation_id in followed:
        if consultation_id in done:
            continue
        chain = rounds_of(db.session.get(Consultation, consultation_id))
        done.update(c.id for c in chain)
        # A next round still in draft does not hold the addresses: it may never open.
        opened = [c for c in chain if c.state is not ConsultationState.DRAFT]
        last = opened[-1] if opened else None
        if last is not None and last.closed_at is not None and last.closed_at < closed_before:
            after_last_round += db.session.execute(
                delete(Follower).where(Follower.consultation_id.in_([c.id for c in chain])),
                execution_options={"synchronize_session": False},
            ).rowcount
    return FollowersPurged(int(unconfirmed or 0), after_last_round)
