"""Forms of the admin pages. Every change asks why; the searches are plain GET forms."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from deliberate.forms_support import strip_text
from deliberate.models import Mission
from deliberate.services.admin import SEARCH_MAX
from deliberate.services.audit import REASON_MAX
from deliberate.services.moderation_policy import POLICY_MAX


class ChangeForm(FlaskForm):
    """A change to a person's account, with the reason kept in the audit log."""

    reason = TextAreaField(
        _l("Why are you making this change?"),
        widget=GovCharacterCount(),
        filters=[strip_text],
        validators=[
            InputRequired(message=_l("Enter the reason for this change")),
            Length(
                max=REASON_MAX,
                message=_l("Reason must be %(max)s characters or fewer", max=REASON_MAX),
            ),
        ],
        description=_l(
            "Kept in the audit log with your name. Do not include anyone's personal "
            "details beyond what the decision needs."
        ),
    )
    submit = SubmitField(_l("Confirm"), widget=GovSubmitInput())

    def labelled(self, button: str) -> ChangeForm:
        self.submit.label.text = button
        return self


class PolicyForm(ChangeForm):
    """The site's moderation policy, as plain text, with why it changes."""

    text = TextAreaField(
        _l("Moderation policy"),
        widget=GovCharacterCount(),
        validators=[
            InputRequired(message=_l("Enter the moderation policy")),
            Length(
                max=POLICY_MAX,
                message=_l("The policy must be %(max)s characters or fewer", max=f"{POLICY_MAX:,}"),
            ),
        ],
        description=_l(
            "Plain text: leave a blank line between paragraphs. It is shown as written, "
            "without formatting or links. Keep every reason moderators choose from (abusive, "
            "personal information, off-topic, duplicate, spam, unlawful, other) explained."
        ),
    )


class AddToTeamForm(ChangeForm):
    mission = SelectField(
        _l("Mission"),
        widget=GovSelect(),
        validators=[InputRequired(message=_l("Select the mission whose team to join"))],
    )

    def offer(self, missions: list[Mission]) -> AddToTeamForm:
        self.mission.choices = [("", _("Choose a mission"))] + [(m.slug, m.name) for m in missions]
        return self


class SearchPeopleForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(
        _l("Search by email address or name"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            Length(max=SEARCH_MAX, message=_l("Enter %(max)s characters or fewer", max=SEARCH_MAX))
        ],
    )
    submit = SubmitField(_l("Search"), widget=GovSubmitInput())


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), widget=GovSelect())
    submit = SubmitField(_l("Show"), widget=GovSubmitInput())

    def offer(self, actions: list[str]) -> AuditFilterForm:
        self.action.choices = [("", _("Every action"))] + [(a, a) for a in actions]
        return self
