"""Forms of the account's own pages: a new password, a new email address, deleting the account,
and personal API tokens."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, ValidationError

from deliberate.auth.forms import email_validators, password_length
from deliberate.forms_support import strip_text
from deliberate.services.accounts import PASSWORD_MAX, password_problem


def _current_password(label: str | LazyString | None = None) -> PasswordField:
    return PasswordField(
        label or _l("Your current password"),
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=_l("Enter your current password")),
            Length(max=PASSWORD_MAX, message=_l("Your current password is not correct")),
        ],
    )


class ChangePasswordForm(FlaskForm):
    current_password = _current_password()
    new_password = PasswordField(
        _l("New password"),
        widget=GovPasswordInput(),
        validators=[InputRequired(message=_l("Enter a new password")), password_length()],
        description=_l("Three random words work well."),
    )
    confirm_new_password = PasswordField(
        _l("Confirm new password"),
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=_l("Confirm your new password")),
            EqualTo("new_password", message=_l("Passwords must match")),
        ],
    )
    submit = SubmitField(_l("Change password"), widget=GovSubmitInput())

    def validate_new_password(self, field: PasswordField) -> None:
        """The strength rule runs beside the other checks, so every problem shows at once."""
        problem = password_problem(field.data or "", current_user.email)
        if problem:
            raise ValidationError(problem)


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(
        _l("New email address"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=email_validators(_l("Enter your new email address")),
    )
    password = _current_password()
    submit = SubmitField(_l("Send confirmation link"), widget=GovSubmitInput())


class DeleteAccountForm(FlaskForm):
    password = _current_password(_l("Enter your password to confirm"))
    submit = SubmitField(_l("Delete my account"), widget=GovSubmitInput())


class ApiTokenForm(FlaskForm):
    """Name a new personal API token (the service tidies and checks the name)."""

    name = StringField(
        _l("Name of the token"),
        widget=GovTextInput(),
        description=_l("So you can tell your tokens apart, for example the name of your program."),
    )
    submit = SubmitField(_l("Create a token"), widget=GovSubmitInput())


class RevokeApiTokenForm(FlaskForm):
    """The revoke page's button sends ``confirm=yes``: a post that did not come through the page
    revokes nothing."""

    confirm = HiddenField(
        validators=[
            AnyOf(["yes"], message=_l("Confirm on this page first: nothing has been changed"))
        ]
    )
