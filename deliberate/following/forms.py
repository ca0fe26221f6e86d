from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import EmailField, SubmitField

from deliberate.auth.forms import email_validators
from deliberate.forms_support import strip_text


class FollowForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        widget=GovTextInput(),
        validators=email_validators(_l("Enter your email address")),
        filters=[strip_text],
        description=_l("We will send a link to confirm it. Nothing else is sent until you do."),
    )
    submit = SubmitField(_l("Send me a link to confirm"), widget=GovSubmitInput())


class ConfirmFollowForm(FlaskForm):
    submit = SubmitField(_l("Confirm: email me about this consultation"), widget=GovSubmitInput())


class UnsubscribeForm(FlaskForm):
    submit = SubmitField(_l("Unsubscribe"), widget=GovSubmitInput())
