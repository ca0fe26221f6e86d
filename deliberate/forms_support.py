"""What the forms share: putting a service's refusal next to the field it concerns, for the GOV.UK
error summary, reading a text area's line breaks as a person typed them, and trimming the spaces
around what was typed."""

from __future__ import annotations

from flask_wtf import FlaskForm

from deliberate.services.errors import Refused


def show_refusal(form: FlaskForm, refusal: Refused) -> None:
    field = getattr(form, refusal.field, None) if refusal.field else None
    if field is not None:
        field.errors = [*field.errors, refusal.message]
    else:
        form.form_errors.append(refusal.message)


def normalise_newlines(value: str | None) -> str | None:
    """Browsers send a line break as CRLF; count and store it as one character, as the GOV.UK
    character count and the services do."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def strip_text(value: str | None) -> str | None:
    """The text without the spaces around it (a filter for any text box)."""
    return value.strip() if isinstance(value, str) else value
