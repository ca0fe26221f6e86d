"""Accounts: registering and confirming an address, signing in, resetting a password, and earning
verified-staff status through a work address.

Nothing here tells a stranger whether an address has an account: registering, asking for a
password reset and verifying a work address answer the same whatever the address, and the email
sent to the address says what happened."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from itertools import pairwise

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from zxcvbn import zxcvbn

from deliberate.extensions import db, token_hash
from deliberate.i18n import DEFAULT_LANGUAGE, current_language
from deliberate.mail import queue_email
from deliberate.models import AccountToken, StaffVerification, TokenPurpose, User, utcnow
from deliberate.models.user import NAME_MAX
from deliberate.services import audit
from deliberate.services.errors import Refused

PASSWORD_MIN = 12
PASSWORD_MAX = 200
# zxcvbn's estimate, from 0 (guessed at once) to 4; 3 resists an offline attack for years.
PASSWORD_MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # what zxcvbn accepts; a longer password is judged by its start

# Besides letters (of any script) and the marks that combine with them.
NAME_PUNCTUATION = frozenset(" '\u2019-\u2010.")
NAME_JOINERS = frozenset("\u200c\u200d")  # zero-width (non-)joiners, which some scripts need


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_domain(email: str) -> str:
    return normalise_email(email).rsplit("@", 1)[-1]


# -- names and passwords ---------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why a display name is refused, or None. Names are plain names: letters of any script,
    spaces, apostrophes, hyphens and full stops; never a web or email address, since a name is
    shown to other people."""
    name = name.strip()
    if not name:
        return _("Enter your name")
    if len(name) > NAME_MAX:
        return _("Name must be %(max)s characters or fewer", max=NAME_MAX)
    lowered = name.casefold()
    looks_like_address = (
        "@" in name
        or "://" in name
        or "www." in lowered
        # "nhs-login.com": a full stop straight before a letter is a domain, not an initial.
        or any(a == "." and unicodedata.category(b)[0] == "L" for a, b in pairwise(name))
    )
    if looks_like_address:
        return _("Enter your name only, not a web or email address")
    for character in name:
        if unicodedata.category(character)[0] not in "LM" and character not in (
            NAME_PUNCTUATION | NAME_JOINERS
        ):
            return _("Name must only include letters, spaces, apostrophes, hyphens and full stops")
    if not any(unicodedata.category(c)[0] == "L" for c in name):
        return _("Enter your name using letters")
    return None


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is too weak, in words a person can act on, or None when it will do.
    zxcvbn's own warning is English only, so it is added to English messages only."""
    if len(password) > PASSWORD_MAX:
        return _("Password must be %(max)s characters or fewer", max=PASSWORD_MAX)
    judged = zxcvbn(password[:ZXCVBN_MAX_LENGTH]) if password else None
    if judged and _is_a_known_password(password, judged):
        return _(
            "This password is too common: it is one of the passwords people use most and that "
            "have leaked. Choose another, for example three random words"
        )
    if len(password) < PASSWORD_MIN:
        return _("Password must be at least %(min)s characters long", min=PASSWORD_MIN)
    local_part = normalise_email(email).split("@", 1)[0]
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        return _("Password must not contain your email address")
    if judged and judged["score"] < PASSWORD_MIN_SCORE:
        warning = judged["feedback"].get("warning") or ""
        if warning and current_language() == DEFAULT_LANGUAGE:
            return _(
                "This password is too easy to guess (%(warning)s). Use three or more random words",
                warning=warning.rstrip("."),
            )
        return _("This password is too easy to guess. Use three or more random words")
    return None


def _is_a_known_password(password: str, judged: dict) -> bool:
    """The whole password is in zxcvbn's list of common and breached passwords (as it is, with
    letters swapped for look-alike digits, or reversed)."""
    return any(
        match["pattern"] == "dictionary"
        and match.get("dictionary_name") == "passwords"
        and match["token"] == password
        for match in judged["sequence"]
    )


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


@cache
def _dummy_hash(method: str) -> str:
    user = User()
    user.set_password(secrets.token_urlsafe(16), method)
    return user.password_hash


# -- one-time links --------------------------------------------------------------------------------


def _new_account_token(
    user: User,
    purpose: TokenPurpose,
    valid_for: timedelta,
    new_email: str | None = None,
    now: datetime | None = None,
) -> str:
    """A new one-time link for ``user``: any earlier unused link of the same kind stops working.
    Returns the secret token (to be emailed); only its hash is stored."""
    now = now or utcnow()
    db.session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            new_email=new_email,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    db.session.flush()
    return token


def _open_account_token(
    token: str, purpose: TokenPurpose, now: datetime | None = None
) -> AccountToken:
    """The stored link ``token`` stands for, while it may still be used."""
    now = now or utcnow()
    found = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == token_hash(token), AccountToken.purpose == purpose
        )
    )
    if found is None:
        raise Refused(
            _(
                "This link is not valid. It may have been copied wrongly, "
                "or replaced by a newer one."
            )
        )
    if found.used_at is not None:
        raise Refused(_("This link has already been used."))
    if found.expires_at <= now:
        raise Refused(_("This link has expired."))
    return found


# -- registering and confirming an address ---------------------------------------------------------


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register_user(email: str, display_name: str, password: str, *, confirmed: bool = True) -> User:
    """An account made by an operator (the command line, the demo, tests): usable at once.

    People registering on the site go through ``start_registration`` instead."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise Refused(_("An account with this email address already exists"), "email")
    problem = password_problem(password, email)
    if problem:
        raise Refused(problem, "password")
    user = User(email=email, display_name=display_name.strip())
    user.set_password(password, _hash_method())
    if confirmed:
        user.email_confirmed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    return user


@dataclass
class Registration:
    """What registering led to. Exactly one of ``new_user`` (with ``token``, the secret of its
    confirmation link) and ``existing_user`` is set; the person who registered is told the same
    either way."""

    new_user: User | None = None
    token: str | None = None
    existing_user: User | None = None


def start_registration(
    email: str, display_name: str, password: str, valid_for: timedelta
) -> Registration:
    """Register someone on the site. A new address gets an account that cannot be signed in to
    until its address is confirmed; an address that already has an account gets nothing new."""
    email = normalise_email(email)
    problem = name_problem(display_name)
    if problem:
        raise Refused(problem, "display_name")
    problem = password_problem(password, email)
    if problem:
        raise Refused(problem, "password")
    # Hash whether or not the account exists, so the time taken does not tell.
    candidate = User(email=email, display_name=display_name.strip())
    candidate.set_password(password, _hash_method())
    existing = find_user_by_email(email)
    if existing is not None:
        return Registration(existing_user=existing)
    db.session.add(candidate)
    db.session.flush()
    audit.record("account.registered", candidate, actor_id=candidate.id)
    token = _new_account_token(candidate, TokenPurpose.CONFIRM_EMAIL, valid_for, new_email=email)
    return Registration(new_user=candidate, token=token)


def new_confirmation_link(user: User, valid_for: timedelta) -> str:
    """Another confirmation link for an unconfirmed account (the earlier ones stop working)."""
    return _new_account_token(user, TokenPurpose.CONFIRM_EMAIL, valid_for, new_email=user.email)


def staff_domain_of(email: str, allowed_domains: tuple[str, ...]) -> str | None:
    """The domain of ``email`` when confirming it would also verify its owner as staff."""
    return email_domain(email) if domain_is_allowed(email, allowed_domains) else None


def email_confirmation(
    address: str, link: str, valid_for: timedelta, allowed_domains: tuple[str, ...]
) -> None:
    queue_email(
        address,
        _l("Confirm your email address for Deliberate"),
        "email/confirm_email.txt",
        link=link,
        hours=round(valid_for.total_seconds() / 3600),
        staff_domain=staff_domain_of(address, allowed_domains) or "",
    )


def email_account_exists(address: str, sign_in_link: str, reset_link: str) -> None:
    """Tell the owner of an address that someone tried to register with it."""
    queue_email(
        address,
        _l("Someone tried to create a Deliberate account with your email address"),
        "email/account_exists.txt",
        sign_in_link=sign_in_link,
        reset_link=reset_link,
    )


def check_confirmation(token: str) -> AccountToken:
    """The confirmation link ``token`` stands for, while it may still be used."""
    return _open_account_token(token, TokenPurpose.CONFIRM_EMAIL)


@dataclass
class Confirmation:
    user: User
    staff_verified: bool  # confirming a work address on a staff domain verified the person
    staff_address_taken: bool = False  # ... except that it already verifies another account


def confirm_email(
    token: str, allowed_domains: tuple[str, ...], now: datetime | None = None
) -> Confirmation:
    now = now or utcnow()
    link = _open_account_token(token, TokenPurpose.CONFIRM_EMAIL, now)
    user = link.user
    if link.new_email != user.email:
        raise Refused(_("This link was for another email address."))
    link.used_at = now
    return _mark_email_confirmed(user, allowed_domains, now)


def _mark_email_confirmed(
    user: User, allowed_domains: tuple[str, ...], now: datetime
) -> Confirmation:
    """The person has shown they read ``user.email``: the account is confirmed and, when the
    address is on a staff domain, its owner is verified staff."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now
        audit.record("account.email_confirmed", user, actor_id=user.id)
    outcome = Confirmation(user=user, staff_verified=False)
    domain = staff_domain_of(user.email, allowed_domains)
    if domain and not user.is_staff:
        if _staff_address_taken(user.email, user):
            outcome.staff_address_taken = True
        else:
            user.staff_email, user.staff_verified_at = user.email, now
            audit.record("account.staff_verified", user, actor_id=user.id, domain=domain)
            outcome.staff_verified = True
    db.session.flush()
    return outcome


# -- signing in and out ----------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The account whose password this is (confirmed or not: the caller tells them apart)."""
    user = find_user_by_email(email)
    if user is None:
        # Spend the same time as a real check so response times do not reveal who has an account.
        User(password_hash=_dummy_hash(_hash_method())).check_password(password)
        return None
    return user if user.check_password(password) else None


def sign_out_everywhere(user: User) -> None:
    """End every session of this account, on every device (the cookies stop working)."""
    user.end_sessions()
    db.session.flush()


def record_sign_out(user: User) -> None:
    sign_out_everywhere(user)
    audit.record("account.signed_out", user, actor_id=user.id)


# -- password reset --------------------------------------------------------------------------------


def request_password_reset(email: str, valid_for: timedelta) -> tuple[User, str] | None:
    """A reset link for the account of ``email``, when there is one (the person asking is told
    the same either way). Earlier unused reset links of that account stop working."""
    user = find_user_by_email(email)
    if user is None:
        return None
    token = _new_account_token(user, TokenPurpose.PASSWORD_RESET, valid_for)
    audit.record("account.password_reset_requested", user, actor_id=None)
    return user, token


def email_password_reset(address: str, link: str, valid_for: timedelta) -> None:
    queue_email(
        address,
        _l("Reset your Deliberate password"),
        "email/password_reset.txt",
        link=link,
        minutes=round(valid_for.total_seconds() / 60),
    )


def check_password_reset(token: str) -> AccountToken:
    return _open_account_token(token, TokenPurpose.PASSWORD_RESET)


def reset_password(
    token: str, new_password: str, allowed_domains: tuple[str, ...], now: datetime | None = None
) -> User:
    """Set a new password through a reset link: the link is used up, every session of the account
    ends, and (the person having read the email) an unconfirmed address counts as confirmed."""
    now = now or utcnow()
    link = _open_account_token(token, TokenPurpose.PASSWORD_RESET, now)
    user = link.user
    problem = password_problem(new_password, user.email)
    if problem:
        raise Refused(problem, "password")
    user.set_password(new_password, _hash_method())
    link.used_at = now
    sign_out_everywhere(user)
    if not user.email_confirmed:
        # Registered but never confirmed: reading this email confirms the address (and, on a
        # staff domain, verifies the person, as the confirmation link would have).
        _mark_email_confirmed(user, allowed_domains, now)
    audit.record("account.password_reset", user, actor_id=user.id)
    return user


# -- verified staff --------------------------------------------------------------------------------


def domain_is_allowed(email: str, allowed_domains: tuple[str, ...]) -> bool:
    domain = email_domain(email)
    return any(domain == d or domain.endswith("." + d) for d in allowed_domains)


def _staff_address_taken(work_email: str, user: User) -> bool:
    taken = db.session.scalar(
        select(User.id).where(User.staff_email == normalise_email(work_email), User.id != user.id)
    )
    return taken is not None


def start_staff_verification(
    user: User,
    work_email: str,
    allowed_domains: tuple[str, ...],
    valid_for: timedelta,
    now: datetime | None = None,
) -> str | None:
    """Record a one-time link for ``work_email`` and return its secret token (to be emailed), or
    None when that address already verifies another account: then nothing is recorded, and the
    email to the address says so (the person asking is told the same either way)."""
    work_email = normalise_email(work_email)
    if not domain_is_allowed(work_email, allowed_domains):
        listed = ", ".join(allowed_domains)
        raise Refused(
            _("Enter a work email address on one of these domains: %(domains)s", domains=listed),
            "work_email",
        )
    if _staff_address_taken(work_email, user):
        return None
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffVerification(
            user=user,
            email=work_email,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    db.session.flush()
    return token


def email_staff_verification(work_email: str, link: str, valid_for: timedelta) -> None:
    """Send the one-time link to the work address, once the verification is saved."""
    queue_email(
        work_email,
        _l("Confirm your work email address for Deliberate"),
        "email/staff_verification.txt",
        link=link,
        hours=round(valid_for.total_seconds() / 3600),
    )


def email_staff_address_taken(work_email: str) -> None:
    """Tell the owner of a work address that it already verifies another account."""
    queue_email(
        work_email,
        _l("Your work email address already verifies a Deliberate account"),
        "email/staff_address_taken.txt",
    )


def confirm_staff_verification(
    user: User, token: str, allowed_domains: tuple[str, ...], now: datetime | None = None
) -> StaffVerification:
    now = now or utcnow()
    verification = db.session.scalar(
        select(StaffVerification).where(StaffVerification.token_hash == token_hash(token))
    )
    if verification is None or verification.user_id != user.id:
        raise Refused(_("This verification link is not valid. Ask for a new one."))
    if verification.used_at is not None:
        raise Refused(_("This verification link has already been used. Ask for a new one."))
    if verification.expires_at <= now:
        raise Refused(_("This verification link has expired. Ask for a new one."))
    if not domain_is_allowed(verification.email, allowed_domains):
        raise Refused(
            _("The domain of this work email address is no longer accepted for staff verification.")
        )
    if _staff_address_taken(verification.email, user):
        # Only someone who reads the work address gets here, so saying so reveals nothing.
        raise Refused(_("This work email address already verifies another account."))
    verification.used_at = now
    user.staff_email = verification.email
    user.staff_verified_at = now
    audit.record(
        "account.staff_verified", user, actor_id=user.id, domain=email_domain(verification.email)
    )
    db.session.flush()
    return verification
