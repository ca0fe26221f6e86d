"""Putting a service's refusal next to the field it concerns, for the GOV.UK error summary."""

from __future__ import annotations

from flask_wtf import FlaskForm

from deliberate.services.errors import Refused


def show_refusal(form: FlaskForm, refusal: Refused) -> None:
    field = getattr(form, refusal.field, None) if refusal.field else None
    if field is not None:
        field.errors = [*field.errors, refusal.message]
    else:
        form.form_errors.append(refusal.message)
