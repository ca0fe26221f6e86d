"""Forms of the report pages and of the mission team's analysis page.

Running an analysis carries nothing but its CSRF token: which consultation is in the URL, and
whether the user may act is the service's rule. (Publishing a run is confirmed on a page of its
own, with the mission team's ``ConfirmForm``.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice


class RunNowForm(FlaskForm):
    """Run the analysis now instead of waiting for the debounced background run."""


class CompareForm(FlaskForm):
    """Which other round to compare with (a GET form: it changes nothing)."""

    class Meta:
        csrf = False

    other = SelectField(_l("Compare with"), coerce=int)

    def offer(self, rounds: list[tuple[int, str]]) -> CompareForm:
        self.other.choices = [SelectChoice(value, label) for value, label in rounds]
        return self
