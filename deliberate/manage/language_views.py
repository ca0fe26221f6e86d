"""The team's language pages: which languages a consultation takes part in, and translations of
its title, description and statements (deliberate.services.languages).

Team of the consultation's mission only (admins included), checked on the server; every write is
a POST with a CSRF token, under the manage pages' per-user rate limit, and recorded in the audit
log. A translation never changes the statement or its votes.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from deliberate.manage.language_forms import (
    ConsultationTranslationForm,
    LanguagesForm,
    StatementTranslationForm,
)
from deliberate.manage.views import _consultation_run_by_user, _statement_run_by_user, bp
from deliberate.models.translation import CONTENT_LANGUAGES
from deliberate.services import languages
from deliberate.unit_of_work import may_be_refused


def _choices(codes: list[str]):
    return [(code, CONTENT_LANGUAGES[code]) for code in codes if code in CONTENT_LANGUAGES]


@bp.route("/consultations/<int:consultation_id>/languages", methods=["GET", "POST"])
def languages_page(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    if request.method == "POST":
        form = LanguagesForm()
    else:
        form = LanguagesForm(
            data={"language": consultation.language, "other_languages": consultation.languages[1:]}
        )
    if form.validate_on_submit():
        with may_be_refused(form):
            languages.set_languages(
                current_user, consultation, form.language.data, form.other_languages.data or []
            )
            flash(_("Languages saved."), "success")
            return redirect(url_for("manage.languages_page", consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template(
        "manage/languages.html",
        consultation=consultation,
        form=form,
        statements=languages.statements_to_translate(consultation),
        names=CONTENT_LANGUAGES,
    ), status


@bp.route("/consultations/<int:consultation_id>/translate", methods=["GET", "POST"])
def translate_consultation(consultation_id: int):
    consultation = _consultation_run_by_user(consultation_id)
    targets = languages.target_languages(consultation, consultation.language)
    wanted = request.args.get("language") or (targets[0] if targets else None)
    existing = next((t for t in consultation.translations if t.language == wanted), None)
    if request.method == "POST":
        form = ConsultationTranslationForm()
    else:
        form = ConsultationTranslationForm(
            data={
                "language": wanted,
                "title": existing.title if existing else "",
                "context": existing.context if existing else "",
            }
        )
    form.language.choices = _choices(targets)
    if form.validate_on_submit():
        with may_be_refused(form):
            languages.translate_consultation(
                current_user, consultation, form.language.data, form.title.data, form.context.data
            )
            flash(_("Translation saved."), "success")
            return redirect(url_for("manage.languages_page", consultation_id=consultation.id))
    status = 400 if form.errors else 200
    return render_template(
        "manage/translate_consultation.html",
        consultation=consultation,
        form=form,
        targets=targets,
        names=CONTENT_LANGUAGES,
    ), status


@bp.route("/statements/<int:statement_id>/translate", methods=["GET", "POST"])
def translate_statement(statement_id: int):
    statement = _statement_run_by_user(statement_id)
    consultation = statement.consultation
    targets = languages.target_languages(consultation, statement.language)
    wanted = request.args.get("language") or (targets[0] if targets else None)
    existing = next((t for t in statement.translations if t.language == wanted), None)
    if request.method == "POST":
        form = StatementTranslationForm()
    else:
        form = StatementTranslationForm(
            data={"language": wanted, "text": existing.text if existing else ""}
        )
    form.language.choices = _choices(targets)
    if form.validate_on_submit():
        with may_be_refused(form):
            languages.translate_statement(
                current_user, statement, form.language.data, form.text.data
            )
            flash(_("Translation saved."), "success")
            return redirect(
                url_for(
                    "manage.languages_page",
                    consultation_id=consultation.id,
                    _anchor=f"statement-{statement.id}",
                )
            )
    status = 400 if form.errors else 200
    return render_template(
        "manage/translate_statement.html",
        consultation=consultation,
        statement=statement,
        form=form,
        targets=targets,
        names=CONTENT_LANGUAGES,
    ), status
