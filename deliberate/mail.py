"""Email: rendered from templates/email/ and sent by a background job, never inside a request.

``queue_email`` asks for one; it is sent once the request (or job, or command) commits. Delivery
goes to an outbox folder (and the log) in development, over SMTP when configured.

An email is written in one interface language (``deliberate.i18n.LANGUAGES``): the code travels
to the job as a plain value and the job renders under ``flask_babel.force_locale``. By default it
is the language of the request that asks (the person reading the page is the one emailed);
outside a request, English.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

from deliberate.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language
from deliberate.models import utcnow

PlainValue = str | int | float


# Headers a caller may add: the one-click unsubscribe of RFC 8058 (List-Unsubscribe with an
# https link, and List-Unsubscribe-Post: List-Unsubscribe=One-Click).
EXTRA_HEADERS = frozenset({"List-Unsubscribe", "List-Unsubscribe-Post"})


def email_language(language: str | None = None) -> str:
    """The language to write an email in: the one given, else the request's, else English."""
    if language in LANGUAGES:
        return language
    return current_language() if has_request_context() else DEFAULT_LANGUAGE


def link(endpoint: str, **values: PlainValue) -> str:
    """An absolute link for an email. Within a request it is built from the request; elsewhere (a
    command such as `flask deliberate load-demo`, a background job) from ``PUBLIC_URL``
    (``DELIBERATE_PUBLIC_URL``), the address people reach the site at."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def queue_email(
    to: str,
    subject: str | LazyString,
    template: str,
    *,
    language: str | None = None,
    headers: dict[str, str] | None = None,
    **context: PlainValue,
) -> None:
    """Send ``template`` rendered with ``context`` to ``to``, from a background job. Only plain
    values travel to the job (a queue on Redis stores them), never rows from the database;
    ``headers`` adds the few headers of ``EXTRA_HEADERS``. ``subject`` may be a lazy string
    (``lazy_gettext``): it is translated here into ``language`` (see ``email_language``)."""
    from deliberate import jobs
    from deliberate.jobs.tasks import send_email

    unsent = [name for name, value in context.items() if not isinstance(value, PlainValue)]
    if unsent:
        raise TypeError(f"Email context must be plain values, not {', '.join(unsent)}")
    language = email_language(language)
    with force_locale(language):
        subject = str(subject)
    if headers:
        _check_headers(headers)
    jobs.enqueue(
        send_email, to, subject, template, context, dict(headers) if headers else None, language
    )


def _check_headers(headers: dict[str, str]) -> None:
    unknown = sorted(set(headers) - EXTRA_HEADERS)
    if unknown:
        raise ValueError(f"Emails may not set these headers: {', '.join(unknown)}")
    if any(not isinstance(v, str) or "\n" in v or "\r" in v for v in headers.values()):
        raise ValueError("An email header must be one line of text")


def deliver(to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        if name in EXTRA_HEADERS:
            message[name] = value
    message.set_content(body)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{to.replace('@', '_at_')}.eml"
    (outbox / name).write_bytes(bytes(message))
    # Not the file's name: it holds the address, and logs hold no personal data.
    current_app.logger.info("Email (%s) written to the outbox folder %s", subject, outbox)
