from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import EmailField, SubmitField

from deliberate.auth.forms import email_validators
from deliberate.forms_support import strip_text


class FollowForm(FlaskForm):
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=email_validators("Enter your email address"),
        filters=[strip_text],
        description="We will send a link to confirm it. Nothing else is sent until you do.",
    )
    submit = SubmitField("Send me a link to confirm", widget=GovSubmitInput())


class ConfirmFollowForm(FlaskForm):
    submit = SubmitField("Confirm: email me about this consultation", widget=GovSubmitInput())


class UnsubscribeForm(FlaskForm):
    submit = SubmitField("Unsubscribe", widget=GovSubmitInput())
