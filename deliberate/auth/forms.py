from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from deliberate.forms_support import strip_text
from deliberate.models.user import EMAIL_MAX, NAME_MAX
from deliberate.services.accounts import PASSWORD_MAX, PASSWORD_MIN, name_problem, password_problem


def email_validators(missing: str, wrong_format: str | None = None):
    """What every email box checks: there, not too long, shaped like an address."""
    return [
        InputRequired(message=missing),
        Length(
            max=EMAIL_MAX,
            message=_l("Email address must be %(max)s characters or fewer", max=EMAIL_MAX),
        ),
        Email(
            message=wrong_format
            or _l("Enter an email address in the correct format, like name@example.com"),
            check_deliverability=False,
        ),
    ]


EMAIL_VALIDATORS = email_validators(_l("Enter your email address"))


def password_length() -> Length:
    return Length(
        max=PASSWORD_MAX,
        message=_l("Password must be %(max)s characters or fewer", max=PASSWORD_MAX),
    )


PASSWORD_HINT = _l("At least %(min)s characters. Three random words work well.", min=PASSWORD_MIN)


def _new_password_fields(label: str | LazyString) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=_l("Enter a password")),
            password_length(),
        ],
        description=PASSWORD_HINT,
    )
    confirm = PasswordField(
        _l("Confirm password"),
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=_l("Confirm your password")),
            EqualTo("password", message=_l("Passwords must match")),
        ],
    )
    return password, confirm


class RegisterForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            InputRequired(message=_l("Enter your name")),
            Length(
                max=NAME_MAX, message=_l("Name must be %(max)s characters or fewer", max=NAME_MAX)
            ),
        ],
        description=_l(
            "Shown with an idea only if you choose to when you propose it. "
            "Your votes are never shown with your name."
        ),
    )
    email = EmailField(
        _l("Email address"),
        widget=GovTextInput(),
        validators=EMAIL_VALIDATORS,
        filters=[strip_text],
        description=_l("We will send you a link to confirm it."),
    )
    password, confirm_password = _new_password_fields(_l("Create a password"))
    submit = SubmitField(_l("Create account"), widget=GovSubmitInput())

    def validate_display_name(self, field: StringField) -> None:
        problem = name_problem(field.data or "")
        if problem and not field.errors:
            raise ValidationError(problem)

    def validate_password(self, field: PasswordField) -> None:
        """Say everything wrong at once: the strength rule also runs when other fields fail."""
        problem = password_problem(field.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        widget=GovTextInput(),
        validators=EMAIL_VALIDATORS,
        filters=[strip_text],
    )
    password = PasswordField(
        _l("Password"),
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message=_l("Enter your password")),
            password_length(),
        ],
    )
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        widget=GovTextInput(),
        validators=EMAIL_VALIDATORS,
        filters=[strip_text],
        description=_l(
            "The address you use to sign in. We will send a link to reset your password."
        ),
    )
    submit = SubmitField(_l("Send a reset link"), widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password, confirm_password = _new_password_fields(_l("New password"))
    submit = SubmitField(_l("Set new password"), widget=GovSubmitInput())

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._account_email = email

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self._account_email)
        if problem:
            raise ValidationError(problem)


class ConfirmEmailForm(FlaskForm):
    submit = SubmitField(_l("Confirm my email address"), widget=GovSubmitInput())


class StaffVerificationForm(FlaskForm):
    work_email = EmailField(
        _l("Work email address"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=email_validators(
            _l("Enter your work email address"),
            _l("Enter a work email address in the correct format, like name@nhs.net"),
        ),
    )
    submit = SubmitField(_l("Send verification link"), widget=GovSubmitInput())
