"""The admin pages: people and their roles, mission teams and staff status, and the audit log.

Admins only: anyone else signed in gets 403, and a visitor who is not signed in is sent to sign
in. Each change has a page of its own that says what will happen and asks why (the reason goes to
the audit log); the change itself is a POST with a CSRF token, rate limited per admin.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from sqlalchemy import select

from deliberate.admin.forms import (
    AddToTeamForm,
    AuditFilterForm,
    ChangeForm,
    PolicyForm,
    SearchPeopleForm,
)
from deliberate.extensions import acting_person_key, db, limiter
from deliberate.forms_support import show_refusal
from deliberate.models import AuditEvent, Mission, User
from deliberate.security import DATABASE_INT_MAX
from deliberate.services import admin, moderation_policy
from deliberate.services import audit as audit_log
from deliberate.services.admin import Role
from deliberate.unit_of_work import may_be_refused

bp = Blueprint("admin", __name__, url_prefix="/admin")

WRITE_LIMIT = "30 per minute"


limiter.shared_limit(
    WRITE_LIMIT, scope="admin-writes", key_func=acting_person_key, methods=["POST"]
)(bp)


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.after_request
def _never_cached(response: Response) -> Response:
    """What admins see holds personal data: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _page_number() -> int:
    number = request.args.get("page", 1, type=int)
    return number if 0 < number <= DATABASE_INT_MAX else 1


def _person_or_404(user_id: int) -> User:
    return db.get_or_404(User, user_id)  # the int converter already refuses larger ids


def _person_url(person: User) -> str:
    return url_for("admin.person", user_id=person.id)


# -- people ---------------------------------------------------------------------------------------


@bp.get("")
def people():
    form = SearchPeopleForm(request.args)
    search = form.q.data if form.validate() else ""
    return render_template(
        "admin/people.html",
        form=form,
        search=search,
        page=admin.find_people(search, _page_number()),
        role_names=admin.role_names,
    )


@bp.get("/people/<int:user_id>")
def person(user_id: int):
    person = _person_or_404(user_id)
    history = admin.history_of(person)
    return render_template(
        "admin/person.html",
        person=person,
        pending=admin.pending_staff_verification(person),
        may_join=bool(admin.missions_to_join(person)),
        history=history,
        names=admin.display_names(e.actor_id for e in history),
        role_names=admin.role_names,
    )


# -- changes, each on a page of its own that asks why -------------------------------------------


def _change_page(
    person: User,
    form: ChangeForm,
    change: Callable[[], bool | None],
    *,
    title: str,
    explanation: list[str],
    done: str,
    unchanged: str = "",
):
    """Show the change and ask why; on a valid POST make it, then go back to the person."""
    problem = None
    if form.validate_on_submit():
        with may_be_refused() as refusal:
            if change() is False:
                flash(unchanged, "info")
            else:
                flash(done, "success")
            return redirect(_person_url(person))
        if refusal.error is not None and refusal.error.field:
            show_refusal(form, refusal.error)
        else:
            problem = refusal.message
    status = 400 if form.errors else (409 if problem else 200)
    return render_template(
        "admin/change.html",
        person=person,
        form=form,
        title=title,
        explanation=explanation,
        problem=problem,
    ), status


_ROLE_EXPLANATIONS = {
    (Role.ADMIN, "grant"): [
        _l(
            "Administrators can see everyone's account, change anyone's roles and mission teams, "
            "and read the audit log. They are on every mission's team."
        ),
    ],
    (Role.ADMIN, "revoke"): [_l("They will no longer be able to use the admin pages.")],
    (Role.MODERATOR, "grant"): [
        _l(
            "Moderators can accept and reject comments in every consultation, whatever the mission."
        ),
    ],
    (Role.MODERATOR, "revoke"): [
        _l(
            "They will no longer be able to moderate comments, except as a member of a mission "
            "team."
        ),
    ],
}


def _role_wording(role: Role, granting: bool, name: str) -> tuple[str, str, str, str]:
    """Title, button, done and unchanged messages of a change of role, whole sentences each."""
    if role is Role.ADMIN and granting:
        return (
            _("Make %(name)s an administrator", name=name),
            _("Make administrator"),
            _("%(name)s is now an administrator.", name=name),
            _("%(name)s was already an administrator: nothing changed.", name=name),
        )
    if role is Role.ADMIN:
        return (
            _("Remove the administrator role from %(name)s", name=name),
            _("Remove administrator role"),
            _("%(name)s is no longer an administrator.", name=name),
            _("%(name)s was not an administrator: nothing changed.", name=name),
        )
    if granting:
        return (
            _("Make %(name)s a moderator", name=name),
            _("Make moderator"),
            _("%(name)s is now a moderator.", name=name),
            _("%(name)s was already a moderator: nothing changed.", name=name),
        )
    return (
        _("Remove the moderator role from %(name)s", name=name),
        _("Remove moderator role"),
        _("%(name)s is no longer a moderator.", name=name),
        _("%(name)s was not a moderator: nothing changed.", name=name),
    )


@bp.route(
    "/people/<int:user_id>/roles/<any(admin, moderator):role>/<any(grant, revoke):change>",
    methods=["GET", "POST"],
)
def change_role(user_id: int, role: str, change: str):
    person = _person_or_404(user_id)
    chosen = Role(role)
    granting = change == "grant"
    title, button, done, unchanged = _role_wording(chosen, granting, person.display_name)
    move = admin.grant_role if granting else admin.revoke_role
    form = ChangeForm().labelled(button)
    return _change_page(
        person,
        form,
        lambda: move(current_user, person, chosen, form.reason.data),
        title=title,
        explanation=[str(p) for p in _ROLE_EXPLANATIONS[(chosen, change)]],
        done=done,
        unchanged=unchanged,
    )


@bp.route("/people/<int:user_id>/teams/add", methods=["GET", "POST"])
def add_to_team(user_id: int):
    person = _person_or_404(user_id)
    form = AddToTeamForm().labelled(_("Add to team")).offer(admin.missions_to_join(person))
    if form.is_submitted() and form.mission.data:
        form.offer(admin.missions())  # joined meanwhile: say so rather than "not a valid choice"

    def add() -> bool:
        mission = db.session.scalar(select(Mission).where(Mission.slug == form.mission.data))
        return admin.add_to_team(current_user, person, mission, form.reason.data)

    return _change_page(
        person,
        form,
        add,
        title=_("Add %(name)s to a mission team", name=person.display_name),
        explanation=[
            _(
                "Members of a mission's team set up, open, close and moderate its consultations, "
                "publish their analyses and decide on its ideas."
            ),
        ],
        done=_("%(name)s is now on the mission's team.", name=person.display_name),
        unchanged=_(
            "%(name)s was already on that team: nothing changed.", name=person.display_name
        ),
    )


@bp.route("/people/<int:user_id>/teams/<slug>/remove", methods=["GET", "POST"])
def remove_from_team(user_id: int, slug: str):
    person = _person_or_404(user_id)
    mission = db.first_or_404(select(Mission).where(Mission.slug == slug))
    form = ChangeForm().labelled(_("Remove from team"))
    return _change_page(
        person,
        form,
        lambda: admin.remove_from_team(current_user, person, mission, form.reason.data),
        title=_(
            "Remove %(name)s from the team of “%(mission)s”",
            name=person.display_name,
            mission=mission.name,
        ),
        explanation=[_("They will no longer be able to run this mission's consultations.")],
        done=_(
            "%(name)s is no longer on the team of “%(mission)s”.",
            name=person.display_name,
            mission=mission.name,
        ),
        unchanged=_("%(name)s was not on that team: nothing changed.", name=person.display_name),
    )


@bp.route("/people/<int:user_id>/staff/undo", methods=["GET", "POST"])
def undo_staff_verification(user_id: int):
    person = _person_or_404(user_id)
    form = ChangeForm().labelled(_("Undo staff verification"))
    return _change_page(
        person,
        form,
        lambda: admin.undo_staff_verification(current_user, person, form.reason.data),
        title=_("Undo the staff verification of %(name)s", name=person.display_name),
        explanation=[
            _(
                "From now on they take part as a citizen: their verified work email address is "
                "forgotten, and any verification link still waiting to be used stops working."
            ),
            _(
                "Votes, comments and support they gave as staff keep the role they had then. "
                "They can verify a work email address again."
            ),
        ],
        done=_("%(name)s now takes part as a citizen.", name=person.display_name),
        unchanged=_("%(name)s was not verified staff: nothing changed.", name=person.display_name),
    )


@bp.route("/people/<int:user_id>/sign-out", methods=["GET", "POST"])
def sign_out_everywhere(user_id: int):
    person = _person_or_404(user_id)
    form = ChangeForm().labelled(_("Sign out everywhere"))

    def sign_out() -> None:
        admin.sign_out_everywhere(current_user, person, form.reason.data)
        if person.id == current_user.id:
            login_user(person)  # the admin stays signed in here, and only here

    return _change_page(
        person,
        form,
        sign_out,
        title=_("Sign %(name)s out everywhere", name=person.display_name),
        explanation=[
            _(
                "Every session of this account ends, on every device: they have to sign in "
                "again. Their password does not change."
            ),
        ],
        done=_("%(name)s has been signed out everywhere.", name=person.display_name),
    )


# -- the moderation policy -----------------------------------------------------------------------


@bp.route("/moderation-policy", methods=["GET", "POST"])
def edit_moderation_policy():
    """The site's published moderation policy; each change is a new version, with its reason."""
    policy = moderation_policy.current_policy()
    form = PolicyForm().labelled(_("Publish the policy"))
    if request.method == "GET":
        form.text.data = policy.text
    if form.validate_on_submit():
        with may_be_refused(form):
            changed = moderation_policy.edit_policy(current_user, form.text.data, form.reason.data)
            if changed is None:
                flash(_("The policy is unchanged: nothing was published."), "info")
            else:
                flash(_("The new moderation policy is published."), "success")
            return redirect(url_for("admin.edit_moderation_policy"))
    return render_template(
        "admin/moderation_policy.html", form=form, policy=policy
    ), 400 if form.errors else 200


# -- the audit log --------------------------------------------------------------------------------


def _chosen_action(actions: list[str]) -> str:
    action = request.args.get("action", "")
    return action if action in actions else ""


@bp.get("/audit")
def audit():
    actions = admin.audit_actions()
    action = _chosen_action(actions)
    form = AuditFilterForm(request.args).offer(actions)
    form.action.data = action
    page = admin.audit_page(_page_number(), action or None)
    people = admin.display_names(
        [e.actor_id for e in page.items]
        + [int(e.target_id) for e in page.items if e.target_type == "user" and _is_id(e)]
    )
    return render_template("admin/audit.html", form=form, action=action, page=page, names=people)


def _is_id(event: AuditEvent) -> bool:
    return (event.target_id or "").isdigit() and len(event.target_id or "") < 10


@bp.get("/audit.csv")
def audit_csv():
    action = _chosen_action(admin.audit_actions())
    events = audit_log.events(action=action or None)
    name = f"deliberate-audit-log{'-' + action if action else ''}.csv"
    return Response(
        audit_log.events_csv(events),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
