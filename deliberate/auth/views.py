"""Registering, signing in and out, and verifying as frontline staff."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from deliberate.auth.forms import RegisterForm, SignInForm, StaffVerificationForm
from deliberate.extensions import limiter
from deliberate.forms_support import show_refusal
from deliberate.services import accounts
from deliberate.services.errors import Refused
from deliberate.unit_of_work import may_be_refused

bp = Blueprint("auth", __name__)

WRITE_LIMIT = "20 per minute"


def _safe_next(default: str) -> str:
    """Follow ``next`` only to a path on this site, never to another host. A control character
    (a newline cannot go into a header) or a backslash (browsers read ``/\\host`` as ``//host``)
    means the default."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if not target.isprintable() or "\\" in target:
        return default
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(WRITE_LIMIT, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            user = accounts.register_user(
                form.email.data, form.display_name.data, form.password.data
            )
            login_user(user)
            flash("Your account has been created.", "success")
            return redirect(_safe_next(url_for("auth.account")))
    return render_template("auth/register.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            show_refusal(form, Refused("Email address or password is not correct", "password"))
        else:
            login_user(user)
            return redirect(_safe_next(url_for("missions.home")))
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        accounts.sign_out_everywhere(current_user)
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("missions.home"))


@bp.get("/account")
@login_required
def account():
    return render_template(
        "auth/account.html",
        form=StaffVerificationForm(),
        staff_domains=current_app.config["STAFF_EMAIL_DOMAINS"],
    )


@bp.post("/account/staff")
@login_required
@limiter.limit("5 per minute")
def request_staff_verification():
    form = StaffVerificationForm()
    config = current_app.config
    if form.validate_on_submit():
        valid_for = timedelta(hours=config["STAFF_VERIFICATION_HOURS"])
        with may_be_refused(form):
            token = accounts.start_staff_verification(
                current_user, form.work_email.data, config["STAFF_EMAIL_DOMAINS"], valid_for
            )
            link = url_for("auth.verify_staff", token=token, _external=True)
            accounts.email_staff_verification(current_user, form.work_email.data, link, valid_for)
            flash(
                f"We have sent a link to {form.work_email.data}. Open it to finish verifying.",
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=form, staff_domains=config["STAFF_EMAIL_DOMAINS"]
    ), 400


@bp.get("/account/verify-staff/<token>")
@login_required
def verify_staff(token: str):
    with may_be_refused() as refusal:
        accounts.confirm_staff_verification(
            current_user, token, current_app.config["STAFF_EMAIL_DOMAINS"]
        )
        flash(
            "Your work email address is confirmed: you now take part as verified staff.", "success"
        )
        return redirect(url_for("auth.account"))
    return render_template("auth/verification_failed.html", message=refusal.message), 400
