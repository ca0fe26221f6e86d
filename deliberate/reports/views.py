"""The public report of a consultation: the published analysis, its permanent links and downloads.

No sign-in needed. Pages read stored analysis runs through ``services.reports`` (never numpy on
this path); a run's figures, summary and charts are computed once per process and reused.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from deliberate.models import AnalysisRun, Consultation
from deliberate.reporting import charts
from deliberate.services import reports, responses

bp = Blueprint("reports", __name__)


def _user():
    return current_user if current_user.is_authenticated else None


def _consultation(consultation_id: int) -> Consultation:
    consultation = reports.visible_consultation(consultation_id, _user())
    if consultation is None:
        abort(404)
    return consultation


def _visible_run(consultation_id: int, run_id: int) -> tuple[Consultation, AnalysisRun]:
    """A run this person may read: published at some point, or any finished run for the team.
    Anything else is "not found", so unpublished work does not show that it exists."""
    consultation = _consultation(consultation_id)
    run = reports.finished_run(consultation.id, run_id)
    if run is None or not reports.may_see_run(_user(), consultation, run):
        abort(404)
    return consultation, run


@bp.app_template_filter("q_value")
def q_value(q: float) -> str:
    """A q-value as a reader can take it in: three decimals, or "below 0.001"."""
    return _("below 0.001") if q < 0.001 else f"{q:.3f}"


@bp.app_template_global("vote_key")
def vote_key(chart_id: str) -> Markup:
    """The key of a vote chart, in the reader's language."""
    return charts.vote_key(chart_id, get_translations())


bp.add_app_template_global(charts.marker_icon, "marker_icon")


def _rendered(template: str, **context) -> Markup:
    """A fragment rendered by Jinja (so escaped), kept as markup to include in a page."""
    return Markup(render_template(template, **context))  # noqa: S704 - Jinja escaped it


def _render_report(consultation: Consultation, run: AnalysisRun):
    page = reports.report_page(consultation, run, _user())
    # The findings are the same for every reader of a run: rendered once, then reused until
    # moderation or the team's responses under them change.
    findings = reports.cached_for_run(
        "findings",
        run,
        lambda: _rendered(
            "reports/_findings.html",
            c=consultation,
            run=run,
            report=page.report,
            answers=responses.answers_for_run(run),
        ),
        also=responses.answers_stamp(consultation.id),
        per_language=True,
    )
    return render_template("reports/report.html", page=page, findings=findings)


@bp.get("/consultations/<int:consultation_id>/report")
def report(consultation_id: int):
    consultation = _consultation(consultation_id)
    run = reports.published_run(consultation.id)
    if run is None:
        return render_template(
            "reports/not_published.html",
            consultation=consultation,
            is_team=reports.is_team(_user(), consultation),
        ), 404
    return _render_report(consultation, run)


@bp.get("/consultations/<int:consultation_id>/report/runs/<int:run_id>")
def run_report(consultation_id: int, run_id: int):
    return _render_report(*_visible_run(consultation_id, run_id))


@bp.get("/consultations/<int:consultation_id>/report/runs/<int:run_id>/statements")
def statements(consultation_id: int, run_id: int):
    """Every statement the run saw with its counts; ``?topic=ID`` keeps one topic's statements."""
    consultation, run = _visible_run(consultation_id, run_id)
    report = reports.report_for(run)
    topic = None
    rows = report.figures.statements
    topic_id = request.args.get("topic", type=int)
    if topic_id is not None:
        topic = report.figures.topics.of(topic_id)
        if topic is None:
            abort(404)
        rows = tuple(r for r in rows if r.topic_id == topic_id)
    table = reports.cached_for_run(
        f"statements-{topic_id}",
        run,
        lambda: _rendered("reports/_statements_table.html", rows=rows, figures=report.figures),
        size=4,
        per_language=True,
    )
    return render_template(
        "reports/statements.html",
        consultation=consultation,
        run=run,
        report=report,
        rows=rows,
        topic=topic,
        table=table,
    )


@bp.get("/consultations/<int:consultation_id>/report/runs/<int:run_id>/polis-export.zip")
def polis_export(consultation_id: int, run_id: int):
    consultation, run = _visible_run(consultation_id, run_id)
    name = f"deliberate-consultation-{consultation.id}-run-{run.id}-polis.zip"
    return Response(
        reports.polis_zip(run),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/consultations/<int:consultation_id>/report/runs/<int:run_id>/results.json")
def results_json(consultation_id: int, run_id: int):
    consultation, run = _visible_run(consultation_id, run_id)
    name = f"deliberate-consultation-{consultation.id}-run-{run.id}.json"
    return Response(
        reports.run_json(run),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
