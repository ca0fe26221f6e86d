"""Personal API tokens on the ``auth`` blueprint: made on the account page (shown once, on the
page the form leads back to), listed there, and revoked from a page that asks first."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from deliberate.auth.account_forms import ApiTokenForm, RevokeApiTokenForm
from deliberate.auth.views import NEW_API_TOKEN, bp, render_account
from deliberate.extensions import acting_person_key, limiter
from deliberate.services import api_tokens
from deliberate.unit_of_work import may_be_refused

TOKEN_LIMIT = "10 per minute"  # noqa: S105 (a rate, not a secret)


def _token_list() -> str:
    return url_for("auth.account", _anchor="api-tokens")


@bp.post("/account/api-tokens")
@login_required
@limiter.limit(TOKEN_LIMIT, key_func=acting_person_key)
def create_api_token():
    form = ApiTokenForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            new = api_tokens.create_token(current_user, form.name.data)
            # Kept in the (signed, HTTP-only) session for the one page that shows it, which
            # takes it out again: the token is never stored anywhere else.
            session[NEW_API_TOKEN] = {"name": new.token.name, "secret": new.secret}
            return redirect(_token_list(), 303)
    return render_account(token_form=form, status=400)


@bp.route("/account/api-tokens/<int:api_token_id>/revoke", methods=["GET", "POST"])
@login_required
@limiter.limit(TOKEN_LIMIT, methods=["POST"], key_func=acting_person_key)
def revoke_api_token(api_token_id: int):
    token = api_tokens.own_token(current_user, api_token_id)
    if token is None:  # someone else's, or revoked already: nothing to say about it
        abort(404)
    form = RevokeApiTokenForm()
    if form.validate_on_submit():
        api_tokens.revoke_token(current_user, token)
        flash(
            _(
                "Your API token “%(name)s” has been revoked: programs that use it can no longer "
                "take part as you.",
                name=token.name,
            ),
            "success",
        )
        return redirect(_token_list(), 303)
    status = 400 if form.errors else 200
    return render_template("account/revoke_api_token.html", form=form, token=token), status
