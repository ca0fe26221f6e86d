"""Following a consultation by email (deliberate.services.following).

No page here tells anyone whether an address already follows: asking always leads to "check
your email". Unsubscribing is one click from every email: the link's page has a button, and the
same address takes the mail client's one-click POST of RFC 8058 (``List-Unsubscribe-Post``),
which carries no CSRF token: the secret in the link is what allows it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from deliberate.consultations.participant_cookie import remember_invitation
from deliberate.extensions import csrf, keyed_hash, limiter
from deliberate.following.forms import ConfirmFollowForm, FollowForm, UnsubscribeForm
from deliberate.models import Consultation
from deliberate.services import following, participation
from deliberate.services.accounts import normalise_email
from deliberate.unit_of_work import may_be_refused, once_more_on_conflict

bp = Blueprint("following", __name__)

WRITE_LIMIT = "20 per minute"
# FOLLOW_RATE_LIMITS in the settings may override either (tests make them small).
FOLLOW_LIMITS = {
    # Per network address: generous, since a whole hospital or school may share one.
    "per_address": "30 per hour",
    # Per email address typed, whoever types it: the emails one address can be sent.
    "per_email": "3 per hour",
}
_CHECK_EMAIL = "follow_check_email"  # session key: the address the last link went to


def _limit(name: str):
    return lambda: current_app.config.get("FOLLOW_RATE_LIMITS", {}).get(name, FOLLOW_LIMITS[name])


def _typed_email() -> str:
    """A keyed hash of the address typed (never the address)."""
    return "follow:" + keyed_hash("follow", normalise_email(request.form.get("email", "")))


def _email_was_sent(response) -> bool:
    return response.status_code == 302


def _visible(consultation_id: int) -> Consultation:
    user = current_user if current_user.is_authenticated else None
    consultation = participation.consultation_for(consultation_id, user)
    if consultation is None:
        abort(404)
    return consultation


@bp.route("/consultations/<int:consultation_id>/follow", methods=["GET", "POST"])
@limiter.limit(_limit("per_address"), methods=["POST"])
@limiter.limit(
    _limit("per_email"), methods=["POST"], key_func=_typed_email, deduct_when=_email_was_sent
)
def follow(consultation_id: int):
    consultation = _visible(consultation_id)
    form = FollowForm()
    if request.method == "GET" and current_user.is_authenticated:
        form.email.data = current_user.email  # their own account's address; nothing for others
    if form.validate_on_submit():
        once_more_on_conflict(lambda: following.ask_to_follow(consultation, form.email.data))
        session[_CHECK_EMAIL] = normalise_email(form.email.data)
        return redirect(url_for("following.check_email", consultation_id=consultation.id))
    return render_template("following/follow.html", consultation=consultation, form=form)


@bp.get("/consultations/<int:consultation_id>/follow/check-your-email")
def check_email(consultation_id: int):
    consultation = _visible(consultation_id)
    address = session.get(_CHECK_EMAIL)
    if not address:
        return redirect(url_for("following.follow", consultation_id=consultation.id))
    return render_template(
        "following/check_email.html",
        consultation=consultation,
        address=address,
        days=current_app.config["FOLLOWER_CONFIRM_DAYS"],
    )


def _link_problem(message: str):
    return render_template("following/link_problem.html", message=message), 400


@bp.get("/follow/confirm/<token>")
def confirm(token: str):
    """The link in the email shows a button: confirming is a POST, so a mail scanner that opens
    links does not sign anyone up."""
    with may_be_refused() as refusal:
        follower = following.check_confirmation(token)
    if refusal.error is not None:
        return _link_problem(refusal.message)
    return render_template(
        "following/confirm.html",
        form=ConfirmFollowForm(),
        consultation=follower.consultation,
        address=follower.email,
    )


@bp.post("/follow/confirm/<token>")
@limiter.limit(WRITE_LIMIT)
def confirm_now(token: str):
    form = ConfirmFollowForm()
    if not form.validate_on_submit():
        return confirm(token)
    with may_be_refused() as refusal:
        follower = following.confirm(token)
        session.pop(_CHECK_EMAIL, None)
        return render_template(
            "following/confirmed.html",
            consultation=follower.consultation,
            unsubscribe_link=url_for(
                "following.unsubscribe", token=following.unsubscribe_token(follower)
            ),
        )
    return _link_problem(refusal.message)


@bp.route("/follow/unsubscribe/<token>", methods=["GET", "POST"])
@limiter.limit(WRITE_LIMIT, methods=["POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET: a page with a button. POST: the button (with its CSRF token), or a mail client's
    one-click unsubscribe (``List-Unsubscribe=One-Click``, RFC 8058), which has none."""
    follower = following.follower_by_unsubscribe(token)
    consultation = follower.consultation if follower is not None else None
    form = UnsubscribeForm()
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    if one_click or form.validate_on_submit():
        following.unsubscribe(token)
        return render_template("following/unsubscribed.html", consultation=consultation)
    if request.method == "POST":
        abort(400)  # the button's form without its CSRF token
    if follower is None:
        return render_template("following/unsubscribed.html", consultation=None)
    return render_template("following/unsubscribe.html", consultation=consultation, form=form)


@bp.get("/consultations/<int:consultation_id>/invitation/<marker>")
def invitation(consultation_id: int, marker: str):
    """The link in a next round's invitation: remembers, in the session, that this browser came
    invited, and goes on to the round. Any other marker just goes on."""
    consultation = _visible(consultation_id)
    if following.is_invitation(marker, consultation.id):
        remember_invitation(consultation.id)
    return redirect(url_for("consultations.show", consultation_id=consultation.id))
