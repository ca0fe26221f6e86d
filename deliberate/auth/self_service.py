"""Account self-service on the ``auth`` blueprint: a new password, a new email address, a copy of
one's data, and deleting the account."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from deliberate.auth.account_forms import ChangeEmailForm, ChangePasswordForm, DeleteAccountForm
from deliberate.auth.views import bp
from deliberate.extensions import limiter
from deliberate.services import account_data
from deliberate.unit_of_work import may_be_refused

# Each of these checks a password: few tries, so a borrowed session cannot guess it.
FEW_TRIES = "5 per minute"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(FEW_TRIES, methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with may_be_refused(form):
            account_data.change_password(user, form.current_password.data, form.new_password.data)
            login_user(user)  # this browser stays signed in; every other session has ended
            account_data.email_password_changed(user, url_for("auth.sign_in", _external=True))
            flash(
                _(
                    "Your password has been changed. Any other device signed in to your account "
                    "has been signed out."
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("account/change_password.html", form=form)


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limiter.limit(FEW_TRIES, methods=["POST"])
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            change = account_data.request_email_change(
                current_user, form.new_email.data, form.password.data
            )
            link = (
                url_for("auth.confirm_email_change", token=change.token, _external=True)
                if change.token
                else None
            )
            account_data.email_about_email_change(
                change, link, url_for("auth.account", _external=True)
            )
            # The same words whether or not the address has an account: the email tells.
            flash(
                _(
                    "We have sent a link to %(address)s. Open it to confirm your new email "
                    "address. Until then your email address stays as it is.",
                    address=change.new_email,
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("account/change_email.html", form=form)


@bp.get("/account/email/confirm/<token>")
@login_required
def confirm_email_change(token: str):
    with may_be_refused() as refusal:
        account_data.confirm_email_change(current_user, token)
        flash(_("Your email address has been changed."), "success")
        return redirect(url_for("auth.account"))
    return render_template("account/email_change_failed.html", message=refusal.message), 400


@bp.get("/account/my-data.json")
@login_required
@limiter.limit("10 per minute")
def my_data():
    body = json.dumps(account_data.my_data(current_user), indent=2, ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="deliberate-my-data.json"'
    return _no_store(response)


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(FEW_TRIES, methods=["POST"])
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            account_data.delete_account(current_user._get_current_object(), form.password.data)
            logout_user()
            flash(_("Your account has been deleted. You have been signed out."), "success")
            return redirect(url_for("missions.home"))
    return render_template("account/delete.html", form=form)
