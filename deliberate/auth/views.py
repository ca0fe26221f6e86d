"""Registering, signing in and out, and verifying as frontline staff."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from deliberate.auth.forms import RegisterForm, SignInForm, StaffVerificationForm
from deliberate.extensions import db, limiter
from deliberate.forms_support import show_refusal
from deliberate.mail import send_email
from deliberate.services import accounts
from deliberate.services.errors import Refused

bp = Blueprint("auth", __name__)

WRITE_LIMIT = "20 per minute"


def _safe_next(default: str) -> str:
    """Follow ``next`` only to a path on this site, never to another host."""
    target = request.args.get("next", "")
    parts = urlsplit(target)
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
        try:
            user = accounts.register_user(
                form.email.data, form.display_name.data, form.password.data
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
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
        try:
            token = accounts.start_staff_verification(
                current_user,
                form.work_email.data,
                config["STAFF_EMAIL_DOMAINS"],
                timedelta(hours=config["STAFF_VERIFICATION_HOURS"]),
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            link = url_for("auth.verify_staff", token=token, _external=True)
            send_email(
                form.work_email.data,
                "Confirm your work email address for Deliberate",
                f"Hello {current_user.display_name},\n\n"
                f"Open this link to confirm that you work in a public service:\n\n{link}\n\n"
                f"It works once and expires in {config['STAFF_VERIFICATION_HOURS']} hours. "
                "If you did not ask for it, ignore this email.\n",
            )
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
    try:
        accounts.confirm_staff_verification(
            current_user, token, current_app.config["STAFF_EMAIL_DOMAINS"]
        )
    except Refused as refusal:
        db.session.rollback()
        return render_template("auth/verification_failed.html", message=refusal.message), 400
    db.session.commit()
    flash("Your work email address is confirmed: you now take part as verified staff.", "success")
    return redirect(url_for("auth.account"))
