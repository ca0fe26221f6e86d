from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from deliberate.embed import frame
from deliberate.i18n import COOKIE as LANGUAGE_COOKIE
from deliberate.services import moderation_policy, readiness, retention

bp = Blueprint("pages", __name__)

# Every request of the site may ask for the daily purge of what is no longer kept (at most once an
# hour per process; see deliberate.services.retention). Here because this blueprint carries the
# privacy page that promises it.
bp.before_app_request(retention.ask_now_and_then)


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.get("/cookies")
def cookies():
    return render_template(
        "pages/cookies.html",
        embed_session_cookie=frame.SESSION_COOKIE,
        embed_participant_cookie=frame.PARTICIPANT_COOKIE,
        language_cookie=LANGUAGE_COOKIE,
    )


@bp.get("/moderation-policy", endpoint="moderation_policy")
def moderation_policy_page():
    return render_template(
        "pages/moderation_policy.html", policy=moderation_policy.current_policy()
    )


@bp.get("/healthz")
def healthz():
    """For load balancers and uptime checks: answers without touching the database."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/readyz")
def readyz():
    """For load balancers: 200 when the database answers (``"status": "degraded"`` when Redis
    does not), else 503; with the state of each part and the number of queued and failed
    background jobs. Never cached."""
    state = readiness.check()
    response = jsonify(state.as_dict())
    response.status_code = 200 if state.ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response
