"""Open data: every published consultation, with its licence, one zip each and a DCAT catalogue.

No sign-in needed; only published analyses are listed and served (a draft consultation, or one
whose team has published nothing, is "not found" here as on the report page).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from deliberate.services import reports

bp = Blueprint("open_data", __name__)


@bp.get("/open-data")
def index():
    return render_template("open_data/index.html", datasets=reports.published_datasets())


@bp.get("/open-data/catalogue.json")
def catalogue():
    """DCAT in JSON-LD: what harvesters such as data.gov.uk and CKAN read."""
    body = reports.open_data.dumps(reports.open_data.catalogue(reports.published_datasets()))
    return Response(body, mimetype="application/ld+json")


@bp.get("/open-data/schema/run-v1.json")
def run_schema():
    body = reports.open_data.dumps(reports.open_data.run_schema())
    return Response(body, mimetype="application/schema+json")


@bp.get("/consultations/<int:consultation_id>/open-data.zip")
def consultation_zip(consultation_id: int):
    """The published analysis' zip: the Polis-format CSVs with our groups, topics.csv, the run's
    JSON and its schema, the moderation summary and the README."""
    consultation = reports.visible_consultation(consultation_id, None)
    run = reports.published_run(consultation_id) if consultation is not None else None
    if run is None:
        abort(404)
    name = f"deliberate-consultation-{consultation_id}-open-data.zip"
    return Response(
        reports.polis_zip(run),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
