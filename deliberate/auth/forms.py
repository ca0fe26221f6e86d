from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from deliberate.models.user import EMAIL_MAX, NAME_MAX
from deliberate.services.accounts import PASSWORD_MAX, password_problem


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


EMAIL_VALIDATORS = [
    InputRequired(message="Enter your email address"),
    Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
    Email(
        message="Enter an email address in the correct format, like name@example.com",
        check_deliverability=False,
    ),
]


class RegisterForm(FlaskForm):
    display_name = StringField(
        "Your name",
        widget=GovTextInput(),
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
        "Email address", widget=GovTextInput(), validators=EMAIL_VALIDATORS, filters=[_strip]
    )
    password = PasswordField(
        "Create a password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter a password"),
            Length(
                max=PASSWORD_MAX, message=f"Password must be {PASSWORD_MAX} characters or fewer"
            ),
        ],
        description="At least 10 characters. Three random words work well.",
    )
    confirm_password = PasswordField(
        "Confirm password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Confirm your password"),
            EqualTo("password", message="Passwords must match"),
        ],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())

    def validate_password(self, field: PasswordField) -> None:
        """Say everything wrong at once: the strength rule also runs when other fields fail."""
        problem = password_problem(field.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address", widget=GovTextInput(), validators=EMAIL_VALIDATORS, filters=[_strip]
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


class StaffVerificationForm(FlaskForm):
    work_email = EmailField(
        "Work email address",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            InputRequired(message="Enter your work email address"),
            Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
            Email(
                message="Enter a work email address in the correct format, like name@nhs.net",
                check_deliverability=False,
            ),
        ],
    )
    submit = SubmitField("Send verification link", widget=GovSubmitInput())
