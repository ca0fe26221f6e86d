"""The mission team's pages: set up, open, close, reopen and re-run consultations, and moderate
comments.

Every page needs a signed-in user; each checks on the server that the user is on the team of the
consultation's mission (admins are on every team). Global moderators may use only the moderation
pages. Every write is a POST with a CSRF token and is rate limited per user.

What cannot be undone quietly (opening, closing, reopening, publishing a run, deleting a draft or
one of its seed statements) has a confirmation page: its button is the only way to send the
``confirm=yes`` the POST requires. Such a page for a move the consultation cannot make now sends
the person back to the consultation's page, saying why.
"""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from deliberate.embed.snippet import snippet_for
from deliberate.extensions import acting_person_key, db, limiter
from deliberate.manage.forms import (
    BulkModerationForm,
    ConfirmForm,
    ConsultationForm,
    ModerationForm,
    OpenConsultationForm,
    RedactForm,
    ReopenForm,
    SeedEditForm,
    SeedStatementForm,
)
from deliberate.models import Consultation, ConsultationState, Mission, Statement
from deliberate.reports.forms import CompareForm, RunNowForm
from deliberate.services import (
    analysis_runs,
    bulk_moderation,
    consultation_jobs,
    moderation_log,
    reports,
    statement_neighbours,
    statement_reports,
)
from deliberate.services import consultations as service
from deliberate.services.embeddings import request_embedding
from deliberate.services.statements import DuplicateStatement
from deliberate.unit_of_work import may_be_refused
from deliberate.wording import number

bp = Blueprint("manage", __name__, url_prefix="/manage")

WRITE_LIMIT = "60 per minute"


# One budget per user for all the writes of these pages, generous enough for a busy moderator.
limiter.shared_limit(
    WRITE_LIMIT, scope="manage-writes", key_func=acting_person_key, methods=["POST"]
)(bp)


@bp.before_request
def _require_sign_in():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


# -- loading what a URL names, and checking who may touch it ------------------------------------


def _mission_run_by_user(slug: str) -> Mission:
    mission = db.first_or_404(select(Mission).where(Mission.slug == slug))
    if not service.may_run(current_user, mission.id):
        abort(403)
    return mission


def _consultation_run_by_user(consultation_id: int) -> Consultation:
    consultation = db.get_or_404(Consultation, consultation_id)
    if not service.may_run(current_user, consultation.mission_id):
        abort(403)
    return consultation


def _consultation_to_moderate(consultation_id: int) -> Consultation:
    consultation = db.get_or_404(Consultation, consultation_id)
    if not service.may_moderate(current_user, consultation):
        abort(403)
    return consultation


def _statement_run_by_user(statement_id: int) -> Statement:
    statement = db.get_or_404(Statement, statement_id)
    if not service.may_run(current_user, statement.consultation.mission_id):
        abort(403)
    return statement


def _statement_to_moderate(statement_id: int) -> Statement:
    statement = db.get_or_404(Statement, statement_id)
    if not service.may_moderate(current_user, statement.consultation):
        abort(403)
    return statement


def _public_page_url(consultation: Consultation) -> str | None:
    """The public consultation page; a draft has none."""
    if consultation.state is ConsultationState.DRAFT:
        return None
    return url_for("consultations.show", consultation_id=consultation.id)


# -- pages ----------------------------------------------------------------------------------------


@bp.get("")
def index():
    """The consultations of the missions the person runs, the staff ideas waiting on those teams
    and, for a moderator, the comments waiting everywhere."""
    if not service.may_use_manage_pages(current_user):
        abort(403)
    return render_template(
        "manage/index.html",
        overview=service.team_overview(current_user),
        waiting=service.moderation_overview(current_user),
    )


@bp.route("/missions/<slug>/consultations/new", methods=["GET", "POST"])
def new_consultation(slug: str):
    mission = _mission_run_by_user(slug)
    form = ConsultationForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            consultation = service.create_consultation(
                current_user, mission, service.ConsultationSettings(**form.changes())
            )
            flash(_("Draft consultation created. Add seed statements, then open it."), "success")
            return redirect(url_for("manage.consultation", consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template("manage/new.html", mission=mission, form=form), status


def _render_consultation(
    consultation: Consultation,
    seed_form: SeedStatementForm | None = None,
    problem: str | None = None,
    duplicate: Statement | None = None,
    status: int = 200,
):
    return render_template(
        "manage/consultation.html",
        consultation=consultation,
        counts=service.counts_for([consultation.id])[consultation.id],
        seeds=service.seed_statements(consultation),
        seed_form=seed_form or SeedStatementForm(formdata=None),
        problem=problem,
        duplicate=duplicate,
        editable=service.editable_settings(consultation),
        next_round=service.next_round_of(consultation),
        public_url=_public_page_url(consultation),
        may_moderate=service.may_moderate(current_user, consultation),
        embed=snippet_for(consultation),
    ), status


@bp.get("/consultations/<int:consultation_id>")
def consultation(consultation_id: int):
    return _render_consultation(_consultation_run_by_user(consultation_id))


@bp.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
def edit_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    editable = service.editable_settings(consultation)
    if not editable:
        return _render_consultation(
            consultation,
            problem=_("A closed consultation cannot be changed: start a next round instead"),
            status=409,
        )
    form_class = (
        ConsultationForm if consultation.state is ConsultationState.DRAFT else OpenConsultationForm
    )
    form = form_class() if request.method == "POST" else form_class.for_consultation(consultation)
    if form.validate_on_submit():
        settings = replace(service.ConsultationSettings.of(consultation), **form.changes())
        with may_be_refused(form):
            service.update_consultation(current_user, consultation, settings)
            flash(_("Your changes have been saved."), "success")
            return redirect(url_for("manage.consultation", consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template(
        "manage/edit.html", consultation=consultation, form=form, editable=editable
    ), status


@bp.post("/consultations/<int:consultation_id>/seeds")
def add_seed_statement(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    form = SeedStatementForm()
    duplicate = None
    if form.validate_on_submit():
        with may_be_refused(form) as refusal:
            service.add_seed_statement(
                current_user, consultation, form.text.data, form.language.data
            )
            request_embedding(consultation.id)
            flash(_("Seed statement added."), "success")
            return redirect(
                url_for("manage.consultation", consultation_id=consultation.id, _anchor="seeds")
            )
        if isinstance(refusal.error, DuplicateStatement):
            duplicate = refusal.error.original
    return _render_consultation(consultation, seed_form=form, duplicate=duplicate, status=400)


def _move(consultation_id: int, move, done: str):
    """Carry out one life-cycle move; a move the consultation cannot make is explained on its page
    and changes nothing (so a double-clicked button is harmless)."""
    consultation = _consultation_run_by_user(consultation_id)
    with may_be_refused() as refusal:
        result = move(current_user, consultation)
        flash(done, "success")
        target = result if isinstance(result, Consultation) else consultation
        return redirect(url_for("manage.consultation", consultation_id=target.id))
    return _render_consultation(consultation, problem=refusal.message, status=409)


def _back_to_consultation(consultation: Consultation, problem: str):
    """A confirmation page for a move the consultation cannot make (now): say why on its page."""
    flash(problem, "info")
    return redirect(url_for("manage.consultation", consultation_id=consultation.id))


def _confirmed(
    consultation: Consultation,
    page: str,
    problem: str | None,
    carry_out,
    form_class: type[ConfirmForm] = ConfirmForm,
    **context,
):
    """A confirmation page (GET) and the move it confirms (POST).

    A move the consultation cannot make is refused before anything else, as on its page (409); a
    POST without the page's confirmation, or with a bad reason, shows the page again with the
    problem (400). ``carry_out(form)`` does the move and returns the response to send."""
    if problem is not None:
        if request.method == "GET":
            return _back_to_consultation(consultation, problem)
        return _render_consultation(consultation, problem=problem, status=409)
    form = form_class()
    if form.validate_on_submit():
        with may_be_refused(form):
            return carry_out(form)
    status = 400 if form.errors else 200
    return render_template(
        f"manage/confirm_{page}.html", consultation=consultation, form=form, **context
    ), status


@bp.route("/consultations/<int:consultation_id>/open", methods=["GET", "POST"])
def open_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)

    def carry_out(form):
        service.open_consultation(current_user, consultation)
        flash(_("Consultation opened: people can now take part."), "success")
        return redirect(url_for("manage.consultation", consultation_id=consultation.id))

    return _confirmed(
        consultation,
        "open",
        consultation.why_not_open(),
        carry_out,
        seeds=service.seed_statements(consultation),
    )


@bp.route("/consultations/<int:consultation_id>/close", methods=["GET", "POST"])
def close_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)

    def carry_out(form):
        service.close_consultation(current_user, consultation)
        flash(_("Consultation closed: it no longer takes votes or comments."), "success")
        return redirect(url_for("manage.consultation", consultation_id=consultation.id))

    return _confirmed(
        consultation,
        "close",
        consultation.why_not_close(),
        carry_out,
        counts=service.counts_for([consultation.id])[consultation.id],
    )


@bp.route("/consultations/<int:consultation_id>/reopen", methods=["GET", "POST"])
def reopen_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    closing_date_passed = consultation.closing_date_passed()

    def carry_out(form):
        service.reopen_consultation(current_user, consultation, form.reason.data)
        message = _("Consultation reopened: people can take part again.")
        if closing_date_passed:
            message = _(
                "Consultation reopened: people can take part again. Its closing date had passed, "
                "so it now stays open until you close it."
            )
        flash(message, "success")
        return redirect(url_for("manage.consultation", consultation_id=consultation.id))

    return _confirmed(
        consultation,
        "reopen",
        service.why_not_reopen(consultation),
        carry_out,
        form_class=ReopenForm,
        closing_date_passed=closing_date_passed,
    )


@bp.route("/consultations/<int:consultation_id>/delete", methods=["GET", "POST"])
def delete_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)

    def carry_out(form):
        title = consultation.title
        service.delete_draft(current_user, consultation)
        flash(_("Draft deleted: “%(title)s”.", title=title), "success")
        return redirect(url_for("manage.index"))

    return _confirmed(
        consultation,
        "delete",
        service.why_not_delete(consultation),
        carry_out,
        seeds=service.seed_statements(consultation),
    )


@bp.post("/consultations/<int:consultation_id>/next-round")
def start_next_round(consultation_id: int):
    return _move(
        consultation_id,
        service.start_next_round,
        _(
            "Next round created as a draft, with the accepted statements of the last round as "
            "seeds."
        ),
    )


# -- a draft's seed statements --------------------------------------------------------------------


def _seeds_of(consultation: Consultation):
    return redirect(
        url_for("manage.consultation", consultation_id=consultation.id, _anchor="seeds")
    )


@bp.route("/statements/<int:statement_id>/edit", methods=["GET", "POST"])
def edit_seed_statement(statement_id: int):
    """Change a seed statement's text, while its consultation is a draft."""
    statement = _statement_run_by_user(statement_id)
    consultation = statement.consultation
    problem = service.why_not_change_seed(statement)
    if problem is not None:
        if request.method == "GET":
            return _back_to_consultation(consultation, problem)
        return _render_consultation(consultation, problem=problem, status=409)
    if request.method == "POST":
        form = SeedEditForm()
    else:
        form = SeedEditForm(data={"text": statement.text})
    duplicate = None
    if form.validate_on_submit():
        with may_be_refused(form) as refusal:
            service.edit_seed_statement(current_user, statement, form.text.data)
            request_embedding(consultation.id)
            flash(_("Seed statement saved."), "success")
            return _seeds_of(consultation)
        if isinstance(refusal.error, DuplicateStatement):
            duplicate = refusal.error.original
    status = 400 if form.errors else 200
    return render_template(
        "manage/seed.html",
        consultation=consultation,
        statement=statement,
        form=form,
        duplicate=duplicate,
    ), status


@bp.route("/statements/<int:statement_id>/remove", methods=["GET", "POST"])
def remove_seed_statement(statement_id: int):
    statement = _statement_run_by_user(statement_id)
    consultation = statement.consultation

    def carry_out(form):
        service.remove_seed_statement(current_user, statement)
        flash(_("Seed statement removed."), "success")
        return _seeds_of(consultation)

    return _confirmed(
        consultation,
        "remove_seed",
        service.why_not_change_seed(statement),
        carry_out,
        statement=statement,
    )


# -- moderation -----------------------------------------------------------------------------------


def _render_moderation(
    consultation: Consultation,
    problem: str | None = None,
    status: int = 200,
    bulk_form: BulkModerationForm | None = None,
):
    return render_template(
        "manage/moderation.html",
        consultation=consultation,
        waiting=service.awaiting_moderation(consultation),
        reported=statement_reports.reported_statements(consultation),
        moderated=service.recently_moderated(consultation),
        problem=problem,
        may_run=service.may_run(current_user, consultation.mission_id),
        bulk_form=bulk_form or BulkModerationForm(formdata=None),
    ), status


@bp.get("/consultations/<int:consultation_id>/moderation")
def moderation(consultation_id: int):
    return _render_moderation(_consultation_to_moderate(consultation_id))


def _render_statement(statement: Statement, form: ModerationForm | None = None, status=200):
    return render_template(
        "manage/statement.html",
        statement=statement,
        consultation=statement.consultation,
        may_run=service.may_run(current_user, statement.consultation.mission_id),
        form=form or ModerationForm(formdata=None),
        reports=statement_reports.reports_of(statement),
    ), status


@bp.get("/statements/<int:statement_id>")
def statement(statement_id: int):
    return _render_statement(_statement_to_moderate(statement_id))


@bp.post("/statements/<int:statement_id>/moderate")
def moderate(statement_id: int):
    statement = _statement_to_moderate(statement_id)
    consultation = statement.consultation
    form = ModerationForm()
    if not form.validate_on_submit():
        if set(form.errors) <= {"removal_reason", "note"}:  # asked on the statement's own page
            return _render_statement(statement, form, status=400)
        abort(400)
    accept = form.decision.data == "accept"
    with may_be_refused(form) as refusal:
        service.moderate(
            current_user,
            statement,
            accept,
            form.note.data or None,
            removal_reason=None if accept else form.chosen_reason,
        )
        analysis_runs.request_analysis(consultation.id)
        flash(
            _("Comment accepted: people can now vote on it.") if accept else _("Comment rejected."),
            "success",
        )
        if form.return_to.data == "statement":
            return redirect(url_for("manage.statement", statement_id=statement.id))
        return redirect(url_for("manage.moderation", consultation_id=consultation.id))
    if refusal.error is not None and refusal.error.field:  # no reason given for a rejection
        return _render_statement(statement, form, status=400)
    return _render_moderation(consultation, problem=refusal.message, status=409)


def _render_similar(statement: Statement, bulk_form: BulkModerationForm | None = None, status=200):
    return render_template(
        "manage/similar.html",
        statement=statement,
        consultation=statement.consultation,
        may_run=service.may_run(current_user, statement.consultation.mission_id),
        neighbourhood=statement_neighbours.near_neighbours(statement),
        bulk_form=bulk_form or BulkModerationForm(formdata=None),
    ), status


@bp.get("/statements/<int:statement_id>/similar")
def similar_statements(statement_id: int):
    """The statement's near neighbours in meaning, to accept or reject together."""
    return _render_similar(_statement_to_moderate(statement_id))


@bp.post("/consultations/<int:consultation_id>/moderation/bulk")
def bulk_moderate(consultation_id: int):
    """Accept or reject the ticked statements of the queue or of a statement's neighbours."""
    consultation = _consultation_to_moderate(consultation_id)
    form = BulkModerationForm()
    around = None
    if form.return_to.data == "similar":
        around = _statement_of(consultation, form.around.data)
        if around is None:
            abort(400)

    def again(status: int):
        if around is not None:
            return _render_similar(around, form, status)
        return _render_moderation(consultation, status=status, bulk_form=form)

    if not form.validate_on_submit():
        if set(form.errors) <= {"statement_ids", "note"}:
            return again(400)
        abort(400)
    with may_be_refused(form):
        outcome = bulk_moderation.bulk_moderate(
            current_user,
            consultation,
            form.statement_ids.data,
            form.accept,
            form.reason.data,
            form.note.data,
        )
        flash(_bulk_message(outcome), "success")
        if around is not None:
            return redirect(url_for("manage.similar_statements", statement_id=around.id), 303)
        return redirect(url_for("manage.moderation", consultation_id=consultation.id), 303)
    return again(400)


def _statement_of(consultation: Consultation, raw_id: str | None) -> Statement | None:
    if not (raw_id and raw_id.isdigit() and len(raw_id) <= 9):
        return None
    statement = db.session.get(Statement, int(raw_id))
    return statement if statement and statement.consultation_id == consultation.id else None


def _bulk_message(outcome: bulk_moderation.BulkOutcome) -> str:
    changed, same = len(outcome.changed), len(outcome.unchanged)
    if not changed:
        if outcome.accept:
            return ngettext(
                "Nothing changed: the selected statement was already accepted.",
                "Nothing changed: the selected statements were already accepted.",
                same,
            )
        return ngettext(
            "Nothing changed: the selected statement was already rejected.",
            "Nothing changed: the selected statements were already rejected.",
            same,
        )
    if outcome.accept:
        done = ngettext(
            "%(count)s statement accepted",
            "%(count)s statements accepted",
            changed,
            count=number(changed),
        )
        if same:
            done = ngettext(
                "%(done)s; %(count)s was already accepted",
                "%(done)s; %(count)s were already accepted",
                same,
                done=done,
                count=number(same),
            )
    else:
        done = ngettext(
            "%(count)s statement rejected",
            "%(count)s statements rejected",
            changed,
            count=number(changed),
        )
        if same:
            done = ngettext(
                "%(done)s; %(count)s was already rejected",
                "%(done)s; %(count)s were already rejected",
                same,
                done=done,
                count=number(same),
            )
    return done + "."


@bp.route("/statements/<int:statement_id>/redact", methods=["GET", "POST"])
def redact(statement_id: int):
    """Edit a comment's words to take out what breaks the policy, keeping it and its votes."""
    statement = _statement_to_moderate(statement_id)
    form = RedactForm() if request.method == "POST" else RedactForm(data={"text": statement.text})
    problem = None
    if form.validate_on_submit():
        with may_be_refused(form) as refusal:
            service.redact(current_user, statement, form.text.data, form.chosen_reason)
            request_embedding(statement.consultation_id)
            analysis_runs.request_analysis(statement.consultation_id)
            flash(_("Statement edited: it now shows your words, labelled as edited."), "success")
            return redirect(url_for("manage.statement", statement_id=statement.id))
        if refusal.error is not None and not refusal.error.field:
            problem = refusal.message
    status = 400 if form.errors else (409 if problem else 200)
    return render_template(
        "manage/redact.html",
        statement=statement,
        consultation=statement.consultation,
        may_run=service.may_run(current_user, statement.consultation.mission_id),
        form=form,
        problem=problem,
    ), status


@bp.get("/consultations/<int:consultation_id>/moderation-log.csv")
def moderation_log_csv(consultation_id: int):
    """Every moderation action on the consultation's statements, for the team and moderators:
    removed statements' words included, moderators named by role only."""
    consultation = _consultation_to_moderate(consultation_id)
    name = f"deliberate-consultation-{consultation.id}-moderation-log.csv"
    return Response(
        moderation_log.log_csv(consultation),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


# -- analysis, publishing and comparing rounds ----------------------------------------------------

ANALYSIS_REFRESH_SECONDS = 5
RUN_REQUESTS = "analysis_requests"  # session key: consultation id -> the "run now" asked for


def _run_request(consultation: Consultation) -> reports.RunRequest | None:
    return reports.RunRequest.from_session(session.get(RUN_REQUESTS, {}).get(str(consultation.id)))


def _remember_run_request(consultation: Consultation, request_: reports.RunRequest | None) -> None:
    requests = dict(session.get(RUN_REQUESTS, {}))
    if request_ is None:
        requests.pop(str(consultation.id), None)
    else:
        requests[str(consultation.id)] = request_.to_session()
    session[RUN_REQUESTS] = requests


@bp.get("/consultations/<int:consultation_id>/analysis")
def analysis(consultation_id: int):
    """Taking part as it happens, the moderation backlog, the analysis (stale or not, run now,
    with its progress), publishing a run, the rounds to compare and the downloads."""
    consultation = _consultation_run_by_user(consultation_id)
    board = reports.dashboard(consultation)
    progress = reports.progress_of(consultation, _run_request(consultation))
    failure = board.failure
    if progress.state == "running" and failure and failure.finished_at >= progress.requested_at:
        progress = replace(progress, state="failed")  # the run asked for failed: stop waiting
    if progress.state in ("done", "overdue", "failed"):
        _remember_run_request(consultation, None)
    refreshing = progress.state == "running" and request.args.get("refresh") != "off"
    response = make_response(
        render_template(
            "manage/analysis.html",
            consultation=consultation,
            board=board,
            progress=progress,
            refreshing=refreshing,
            refresh_seconds=ANALYSIS_REFRESH_SECONDS,
        )
    )
    if refreshing:
        response.headers["Refresh"] = str(ANALYSIS_REFRESH_SECONDS)
    return response


@bp.get("/consultations/<int:consultation_id>/jobs")
def background_jobs(consultation_id: int):
    """The consultation's background jobs (analysis, embedding, checks of held comments):
    waiting, running, and failed with what went wrong."""
    consultation = _consultation_run_by_user(consultation_id)
    return render_template(
        "manage/jobs.html",
        consultation=consultation,
        rows=consultation_jobs.jobs_of(consultation.id),
        states=consultation_jobs.STATES,
    )


@bp.post("/consultations/<int:consultation_id>/analysis/run")
def run_analysis_now(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    if not RunNowForm().validate_on_submit():
        abort(400)
    page = url_for("manage.analysis", consultation_id=consultation.id)
    with may_be_refused() as refusal:
        _remember_run_request(consultation, reports.request_run_now(current_user, consultation))
        return redirect(page)
    flash(refusal.message, "info")
    return redirect(page)


@bp.route("/consultations/<int:consultation_id>/runs/<int:run_id>/publish", methods=["GET", "POST"])
def publish_run(consultation_id: int, run_id: int):
    """Make a finished run the public summary, after a confirmation page saying what the public
    will see. The run already shown, or a draft's run, is explained on the analysis page."""
    consultation = _consultation_run_by_user(consultation_id)
    run = reports.finished_run(consultation.id, run_id)
    if run is None:
        abort(404)
    analysis_page = url_for("manage.analysis", consultation_id=consultation.id)
    public = reports.published_run(consultation.id)
    problem = None
    if consultation.state is ConsultationState.DRAFT:
        problem = _("Open the consultation before publishing a summary of it")
    elif public is not None and public.id == run.id:
        problem = _("Run %(id)s is already the public summary: nothing to publish", id=run.id)
    if problem:
        flash(problem, "info")
        return redirect(analysis_page)
    form = ConfirmForm()
    if form.validate_on_submit():
        with may_be_refused() as refusal:
            reports.publish_run(current_user, consultation, run)
            flash(_("Published: the public summary now shows this analysis."), "success")
            return redirect(
                url_for("manage.analysis", consultation_id=consultation.id, _anchor="runs")
            )
        flash(refusal.message, "info")
        return redirect(analysis_page)
    status = 400 if form.errors else 200
    return render_template(
        "manage/confirm_publish.html",
        consultation=consultation,
        run=run,
        public=public,
        form=form,
    ), status


@bp.get("/consultations/<int:consultation_id>/data/polis-export.zip")
def data_download(consultation_id: int):
    """The consultation's data as it stands, for the team before an analysis has finished (the
    analysis page links each run's own downloads once there is one)."""
    consultation = _consultation_run_by_user(consultation_id)
    name = f"deliberate-consultation-{consultation.id}-polis.zip"
    return Response(
        reports.current_data_zip(consultation),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/consultations/<int:consultation_id>/compare")
def compare_rounds(consultation_id: int):
    """This round beside another round of the same question: the published analysis of each (or
    the newest one, where none is published)."""
    consultation = _consultation_run_by_user(consultation_id)
    rounds = [r for r in reports.rounds_of(consultation) if r.id != consultation.id]
    form = CompareForm(request.args).offer(
        [(r.id, _("Round %(number)s", number=r.round_number)) for r in rounds]
    )
    other = None
    if rounds:
        wanted = form.other.data if form.other.data in {r.id for r in rounds} else None
        other = next((r for r in rounds if r.id == wanted), None) or max(
            (r for r in rounds if r.round_number < consultation.round_number),
            key=lambda r: r.round_number,
            default=rounds[0],
        )
        form.other.data = other.id
    comparison, missing = None, []
    if other is not None:
        earlier, later = sorted((other, consultation), key=lambda r: r.round_number)
        runs = {r.id: reports.comparable_run(r, team=True) for r in (earlier, later)}
        missing = [r for r in (earlier, later) if runs[r.id] is None]
        if not missing:
            comparison = reports.compare_rounds(earlier, runs[earlier.id], later, runs[later.id])
    return render_template(
        "manage/compare.html",
        consultation=consultation,
        form=form,
        rounds=rounds,
        comparison=comparison,
        missing=missing,
    )
