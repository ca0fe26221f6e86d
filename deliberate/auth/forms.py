from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from deliberate.forms_support import strip_text
from deliberate.models.user import EMAIL_MAX, NAME_MAX
from deliberate.services.accounts import PASSWORD_MAX, PASSWORD_MIN, name_problem, password_problem


def email_validators(
    missing: str, example: str = "an email address", like: str = "name@example.com"
):
    """What every email box checks: there, not too long, shaped like an address."""
    return [
        InputRequired(message=missing),
        Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
        Email(
            message=f"Enter {example} in the correct format, like {like}",
            check_deliverability=False,
        ),
    ]


EMAIL_VALIDATORS = email_validators("Enter your email address")

PASSWORD_HINT = f"At least {PASSWORD_MIN} characters. Three random words work well."


def _new_password_fields(label: str) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter a password"),
            Length(
                max=PASSWORD_MAX, message=f"Password must be {PASSWORD_MAX} characters or fewer"
            ),
        ],
        description=PASSWORD_HINT,
    )
    confirm = PasswordField(
        "Confirm password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Confirm your password"),
            EqualTo("password", message="Passwords must match"),
        ],
    )
    return password, confirm


class RegisterForm(FlaskForm):
    display_name = StringField(
        "Your name",
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            InputRequired(message="Enter your name"),
            Length(max=NAME_MAX, message=f"Name must be {NAME_MAX} characters or fewer"),
        ],
        description=(
            "Shown with an idea only if you choose to when you propose it. "
            "Your votes are never shown with your name."
        ),
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=EMAIL_VALIDATORS,
        filters=[strip_text],
        description="We will send you a link to confirm it.",
    )
    password, confirm_password = _new_password_fields("Create a password")
    submit = SubmitField("Create account", widget=GovSubmitInput())

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
        "Email address", widget=GovTextInput(), validators=EMAIL_VALIDATORS, filters=[strip_text]
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(
                max=PASSWORD_MAX, message=f"Password must be {PASSWORD_MAX} characters or fewer"
            ),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=EMAIL_VALIDATORS,
        filters=[strip_text],
        description="The address you use to sign in. We will send a link to reset your password.",
    )
    submit = SubmitField("Send a reset link", widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    password, confirm_password = _new_password_fields("New password")
    submit = SubmitField("Set new password", widget=GovSubmitInput())

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._account_email = email

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self._account_email)
        if problem:
            raise ValidationError(problem)


class ConfirmEmailForm(FlaskForm):
    submit = SubmitField("Confirm my email address", widget=GovSubmitInput())


class StaffVerificationForm(FlaskForm):
    work_email = EmailField(
        "Work email address",
        widget=GovTextInput(),
        filters=[strip_text],
        validators=email_validators(
            "Enter your work email address", "a work email address", "name@nhs.net"
        ),
    )
    submit = SubmitField("Send verification link", widget=GovSubmitInput())
