"""Accounts: registering, signing in, and earning verified-staff status through a work address."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.mail import queue_email
from deliberate.models import StaffVerification, User, utcnow
from deliberate.services.errors import Refused

PASSWORD_MIN = 10
PASSWORD_MAX = 200
# The most used passwords that pass a length rule; a longer list would live in a file.
COMMON_PASSWORDS = {
    "password123",
    "password1234",
    "1234567890",
    "qwertyuiop",
    "iloveyou12",
    "passw0rd123",
    "letmein1234",
    "welcome123",
    "abcdefghij",
    "0987654321",
    "qwerty1234",
    "1q2w3e4r5t",
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, email: str = "") -> str | None:
    """Why a password is too weak, in words a person can act on, or None when it will do."""
    if len(password) < PASSWORD_MIN:
        return f"Password must be at least {PASSWORD_MIN} characters long"
    if len(password) > PASSWORD_MAX:
        return f"Password must be {PASSWORD_MAX} characters or fewer"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "Password is too easy to guess: use three or more random words"
    local_part = normalise_email(email).split("@", 1)[0]
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        return "Password must not contain your email address"
    return None


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register_user(email: str, display_name: str, password: str) -> User:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise Refused("An account with this email address already exists: sign in instead", "email")
    problem = password_problem(password, email)
    if problem:
        raise Refused(problem, "password")
    user = User(email=email, display_name=display_name.strip())
    user.set_password(password, _hash_method())
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        # Spend the same time as a real check so response times do not reveal who has an account.
        User(password_hash=_dummy_hash(_hash_method())).check_password(password)
        return None
    return user if user.check_password(password) else None


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


@cache
def _dummy_hash(method: str) -> str:
    user = User()
    user.set_password(secrets.token_urlsafe(16), method)
    return user.password_hash


def sign_out_everywhere(user: User) -> None:
    """End every session of this account, on every device (the cookies stop working)."""
    user.end_sessions()
    db.session.flush()


def domain_is_allowed(email: str, allowed_domains: tuple[str, ...]) -> bool:
    domain = normalise_email(email).rsplit("@", 1)[-1]
    return any(domain == d or domain.endswith("." + d) for d in allowed_domains)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_staff_verification(
    user: User,
    work_email: str,
    allowed_domains: tuple[str, ...],
    valid_for: timedelta,
    now: datetime | None = None,
) -> str:
    """Record a one-time link for ``work_email`` and return its secret token (to be emailed)."""
    work_email = normalise_email(work_email)
    if not domain_is_allowed(work_email, allowed_domains):
        listed = ", ".join(allowed_domains)
        raise Refused(f"Enter a work email address on one of these domains: {listed}", "work_email")
    taken = db.session.scalar(
        select(User.id).where(User.staff_email == work_email, User.id != user.id)
    )
    if taken is not None:
        raise Refused("This work email address already verifies another account", "work_email")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        StaffVerification(
            user=user,
            email=work_email,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    db.session.flush()
    return token


def email_staff_verification(user: User, work_email: str, link: str, valid_for: timedelta) -> None:
    """Send the one-time link to the work address, once the verification is saved."""
    queue_email(
        work_email,
        "Confirm your work email address for Deliberate",
        "email/staff_verification.txt",
        name=user.display_name,
        link=link,
        hours=round(valid_for.total_seconds() / 3600),
    )


def confirm_staff_verification(
    user: User, token: str, allowed_domains: tuple[str, ...], now: datetime | None = None
) -> StaffVerification:
    now = now or utcnow()
    verification = db.session.scalar(
        select(StaffVerification).where(StaffVerification.token_hash == _token_hash(token))
    )
    if verification is None or verification.user_id != user.id:
        raise Refused("This verification link is not valid. Ask for a new one.")
    if verification.used_at is not None:
        raise Refused("This verification link has already been used. Ask for a new one.")
    if verification.expires_at <= now:
        raise Refused("This verification link has expired. Ask for a new one.")
    if not domain_is_allowed(verification.email, allowed_domains):
        raise Refused(
            "The domain of this work email address is no longer accepted for staff verification."
        )
    verification.used_at = now
    user.staff_email = verification.email
    user.staff_verified_at = now
    db.session.flush()
    return verification
