"""Registering and confirming an address, signing in and out, resetting a password, and verifying
as frontline staff.

No page here tells a stranger whether an address has an account: registering and asking for a
password reset always lead to "check your email", and the email says what happened. Sign-in is
throttled per account (the address typed) and, generously, per network address, so people behind
one shared address are not locked out by someone else's wrong guesses."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from deliberate.auth.account_forms import ApiTokenForm
from deliberate.auth.forms import (
    ConfirmEmailForm,
    ForgotPasswordForm,
    RegisterForm,
    ResetPasswordForm,
    SignInForm,
    StaffVerificationForm,
)
from deliberate.consultations.participant_cookie import join_answers_to
from deliberate.extensions import keyed_hash, limiter
from deliberate.forms_support import show_refusal
from deliberate.services import accounts, api_tokens
from deliberate.services.errors import Refused
from deliberate.unit_of_work import may_be_refused

bp = Blueprint("auth", __name__)

WRITE_LIMIT = "20 per minute"
STAFF_LINK_LIMIT = "5 per 15 minutes"  # per account
# Limits on signing in, registering and password resets; AUTH_RATE_LIMITS in the settings may
# override any of them (tests make them small).
AUTH_LIMITS = {
    # Per account: the email address typed, whoever types it and from wherever.
    "sign_in_per_account": "5 per 15 minutes",  # refused attempts
    "register_per_account": "3 per hour",  # emails sent to one address
    "reset_per_account": "3 per hour",  # reset links sent for one address
    # Per network address: generous, since a whole hospital or school may share one.
    "sign_in_per_address": "100 per 15 minutes",  # refused attempts
    "register_per_address": "100 per 15 minutes",
    "reset_per_address": "100 per 15 minutes",
}


def _auth_limit(name: str):
    return lambda: current_app.config.get("AUTH_RATE_LIMITS", {}).get(name, AUTH_LIMITS[name])


_CHECK_EMAIL = "check_email_address"  # session key: the address the last email went to


def _typed_account() -> str:
    """The rate-limit key of the account a form names: a keyed hash of the address typed (an
    address with no account is counted the same way, so a 429 tells nothing)."""
    return "account:" + keyed_hash(
        "account", accounts.normalise_email(request.form.get("email", ""))
    )


def _signed_in_person() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "user:none"


def _form_was_refused(response: Response) -> bool:
    """Counts towards a limit: the form came back with an error (not a 429, not a CSRF 400)."""
    return response.status_code == 200


def _email_was_sent(response: Response) -> bool:
    return response.status_code == 302


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


def _staff_domains() -> tuple[str, ...]:
    return current_app.config["STAFF_EMAIL_DOMAINS"]


def _confirmation_valid_for() -> timedelta:
    return timedelta(hours=current_app.config["EMAIL_CONFIRMATION_HOURS"])


def _reset_valid_for() -> timedelta:
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def _send_confirmation(address: str, token: str) -> None:
    link = url_for("auth.confirm_email", token=token, _external=True)
    accounts.email_confirmation(address, link, _confirmation_valid_for(), _staff_domains())


# -- registering and confirming ------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_auth_limit("register_per_address"), methods=["POST"])
@limiter.limit(
    _auth_limit("register_per_account"),
    methods=["POST"],
    key_func=_typed_account,
    deduct_when=_email_was_sent,
)
def register():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            registration = accounts.start_registration(
                form.email.data,
                form.display_name.data,
                form.password.data,
                _confirmation_valid_for(),
            )
            if registration.new_user is not None and registration.token is not None:
                _send_confirmation(registration.new_user.email, registration.token)
            elif registration.existing_user is not None:
                accounts.email_account_exists(
                    registration.existing_user.email,
                    url_for("auth.sign_in", _external=True),
                    url_for("auth.forgot_password", _external=True),
                )
            session[_CHECK_EMAIL] = accounts.normalise_email(form.email.data)
            return redirect(url_for("auth.check_email"))
    return render_template("auth/register.html", form=form)


@bp.get("/register/check-your-email")
def check_email():
    address = session.get(_CHECK_EMAIL)
    if not address:
        return redirect(url_for("auth.register"))
    return render_template(
        "auth/check_email.html",
        address=address,
        staff_domain=accounts.staff_domain_of(address, _staff_domains()),
        hours=current_app.config["EMAIL_CONFIRMATION_HOURS"],
    )


def _confirmation_problem(message: str):
    return render_template(
        "auth/link_problem.html",
        title=_("Your email address could not be confirmed"),
        message=message,
        kind="confirmation",
    ), 400


@bp.get("/confirm-email/<token>")
def confirm_email(token: str):
    """The link in the email shows a button: confirming is a POST, so a mail scanner that opens
    links does not confirm an address on a person's behalf."""
    with may_be_refused() as refusal:
        link = accounts.check_confirmation(token)
    if refusal.error is not None:
        return _confirmation_problem(refusal.message)
    return render_template(
        "auth/confirm_email.html",
        form=ConfirmEmailForm(),
        address=link.new_email,
        staff_domain=accounts.staff_domain_of(link.new_email or "", _staff_domains()),
    )


@bp.post("/confirm-email/<token>")
@limiter.limit(WRITE_LIMIT)
def confirm_email_now(token: str):
    form = ConfirmEmailForm()
    if not form.validate_on_submit():
        return confirm_email(token)
    with may_be_refused() as refusal:
        outcome = accounts.confirm_email(token, _staff_domains())
        login_user(outcome.user)
        join_answers_to(outcome.user)
        session.pop(_CHECK_EMAIL, None)
        flash(_("Your email address is confirmed and your account is ready."), "success")
        if outcome.staff_verified:
            flash(
                _(
                    "You are also verified as frontline staff through %(address)s.",
                    address=outcome.user.email,
                ),
                "success",
            )
        elif outcome.staff_address_taken:
            flash(
                _(
                    "This work address already verifies another account, so this account is not "
                    "verified as staff."
                ),
                "info",
            )
        return redirect(url_for("auth.account"))
    return _confirmation_problem(refusal.message)


# -- signing in and out --------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_auth_limit("sign_in_per_address"), methods=["POST"], deduct_when=_form_was_refused)
@limiter.limit(
    _auth_limit("sign_in_per_account"),
    methods=["POST"],
    key_func=_typed_account,
    deduct_when=_form_was_refused,
)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("auth.account"))
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            show_refusal(form, Refused(_("Email address or password is not correct"), "password"))
        elif not user.email_confirmed:
            # Only someone who knows the password learns that the account exists.
            _send_confirmation(
                user.email, accounts.new_confirmation_link(user, _confirmation_valid_for())
            )
            show_refusal(
                form,
                Refused(
                    _(
                        "Confirm your email address first: we have sent a new link to it. "
                        "Open the link, then you can sign in."
                    ),
                    "email",
                ),
            )
        else:
            login_user(user)
            join_answers_to(user)
            return redirect(_safe_next(url_for("missions.home")))
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        accounts.record_sign_out(current_user)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("missions.home"))


# -- forgotten passwords -------------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_auth_limit("reset_per_address"), methods=["POST"])
@limiter.limit(
    _auth_limit("reset_per_account"),
    methods=["POST"],
    key_func=_typed_account,
    deduct_when=_email_was_sent,
)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        valid_for = _reset_valid_for()
        found = accounts.request_password_reset(form.email.data, valid_for)
        if found is not None:
            user, token = found
            link = url_for("auth.reset_password", token=token, _external=True)
            accounts.email_password_reset(user.email, link, valid_for)
        session[_CHECK_EMAIL] = accounts.normalise_email(form.email.data)
        return redirect(url_for("auth.reset_link_sent"))
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/forgot-password/check-your-email")
def reset_link_sent():
    address = session.get(_CHECK_EMAIL)
    if not address:
        return redirect(url_for("auth.forgot_password"))
    return render_template(
        "auth/reset_link_sent.html",
        address=address,
        minutes=current_app.config["PASSWORD_RESET_MINUTES"],
    )


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(WRITE_LIMIT, methods=["POST"])
def reset_password(token: str):
    with may_be_refused() as refusal:
        link = accounts.check_password_reset(token)
    if refusal.error is not None:
        return render_template(
            "auth/link_problem.html",
            title=_("Your password could not be reset"),
            message=refusal.message,
            kind="reset",
        ), 400
    form = ResetPasswordForm(email=link.user.email)
    if form.validate_on_submit():
        with may_be_refused(form):
            user = accounts.reset_password(token, form.password.data, _staff_domains())
            login_user(user)
            join_answers_to(user)
            flash(
                _(
                    "Your password has been changed and you are signed in. "
                    "Every other session of your account has ended."
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/reset_password.html", form=form)


# -- your account and verified staff -------------------------------------------------------------


# The session key of the token just made, until its page shows it once.
NEW_API_TOKEN = "new_api_token"  # noqa: S105 (a key, not a secret)


def render_account(
    form: StaffVerificationForm | None = None,
    token_form: ApiTokenForm | None = None,
    status: int = 200,
):
    """The account page, with the form that was sent (and its errors) if one was."""
    new_token = session.pop(NEW_API_TOKEN, None)
    return render_template(
        "auth/account.html",
        form=form or StaffVerificationForm(formdata=None),
        token_form=token_form or ApiTokenForm(formdata=None),
        staff_domains=_staff_domains(),
        api_tokens=api_tokens.active_tokens(current_user),
        new_token=new_token,
    ), status


@bp.get("/account")
@login_required
def account():
    return render_account()


@bp.post("/account/staff")
@login_required
@limiter.limit(STAFF_LINK_LIMIT, key_func=_signed_in_person)
def request_staff_verification():
    form = StaffVerificationForm()
    config = current_app.config
    if form.validate_on_submit():
        valid_for = timedelta(hours=config["STAFF_VERIFICATION_HOURS"])
        work_email = accounts.normalise_email(form.work_email.data)
        with may_be_refused(form):
            token = accounts.start_staff_verification(
                current_user, work_email, _staff_domains(), valid_for
            )
            if token is None:
                # It already verifies another account: the email says so, this page does not.
                accounts.email_staff_address_taken(work_email)
            else:
                link = url_for("auth.verify_staff", token=token, _external=True)
                accounts.email_staff_verification(work_email, link, valid_for)
            flash(
                _(
                    "We have sent a link to %(address)s. Open it to finish verifying.",
                    address=work_email,
                ),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_account(form=form, status=400)


@bp.get("/account/verify-staff/<token>")
@login_required
def verify_staff(token: str):
    with may_be_refused() as refusal:
        accounts.confirm_staff_verification(current_user, token, _staff_domains())
        flash(
            _("Your work email address is confirmed: you now take part as verified staff."),
            "success",
        )
        return redirect(url_for("auth.account"))
    return render_template("auth/verification_failed.html", message=refusal.message), 400
