"""The demo's consultation in English and Welsh (issue 16): seed statements written in each
language, each with the team's translation into the other; synthetic votes, analysed and
published; its pages and its report read in English and in Welsh.

The first test builds the bilingual consultation alone (fast, votes-only analysis); the second
reads it in the whole demo, as `make run` loads it (slow: marked ``demo``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberate import demo
from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Statement,
    StatementTranslation,
    Vote,
)
from tests.helpers import cli, html_of, load_demo

WELSH = {"Accept-Language": "cy"}


def _bilingual() -> Consultation:
    return db.session.scalar(
        select(Consultation).where(Consultation.source_key == demo.BILINGUAL_KEY)
    )


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Consultation, Statement, StatementTranslation, Vote, AnalysisRun)
    )


def _reads_in_both_languages(client, consultation: Consultation) -> None:
    statements = db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id)
    ).all()
    assert consultation.language == "en" and consultation.languages == ["en", "cy"]
    assert {s.language for s in statements} == {"en", "cy"}
    assert len(statements) == len(demo.BILINGUAL_STATEMENTS) == 8
    welsh_title = f'lang="cy">{demo.BILINGUAL_TITLE_CY}</h1>'
    assert welsh_title in html_of(client.get(f"/consultations/{consultation.id}", headers=WELSH))
    english = html_of(client.get(f"/consultations/{consultation.id}"))
    assert f'lang="en">{demo.BILINGUAL_TITLE}</h1>' in english and welsh_title not in english
    by_text = {s.text: s for s in statements}
    for text, language, translation, _ in demo.BILINGUAL_STATEMENTS:
        statement = by_text[text]
        assert statement.language == language
        english_text, welsh_text = (text, translation) if language == "en" else (translation, text)
        url = f"/consultations/{consultation.id}/statements/{statement.id}"
        in_welsh = html_of(client.get(url, headers=WELSH))
        in_english = html_of(client.get(url))
        assert f'lang="cy">{escaped(welsh_text)}' in in_welsh
        assert f'lang="en">{escaped(english_text)}' in in_english
        # the translation is marked, with the original a click away; the original is not
        translated_page = in_welsh if language == "en" else in_english
        original_page = in_english if language == "en" else in_welsh
        assert f'data-translated="{statement.id}"' in translated_page
        assert f'data-translated="{statement.id}"' not in original_page
        assert f'lang="{language}">{escaped(text)}' in translated_page  # the original

    welsh_report = html_of(client.get(f"/consultations/{consultation.id}/report", headers=WELSH))
    english_report = html_of(client.get(f"/consultations/{consultation.id}/report"))
    assert 'lang="cy"' in welsh_report and "Crynodeb" in welsh_report
    assert "grŵp barn" in welsh_report or "grwpiau barn" in welsh_report
    assert "Summary" in english_report and "Crynodeb" not in english_report
    for report in (welsh_report, english_report):
        assert (
            escaped(demo.BILINGUAL_STATEMENTS[0][0]) in report
            or escaped(demo.BILINGUAL_STATEMENTS[4][0]) in report
        )


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;")


def test_the_bilingual_consultation_is_built_translated_voted_and_published(app, client, missions):
    from deliberate.services.analysis import run_analysis

    team = demo.load_demo_people()["team@example.org"]
    assert list(demo.load_demo_bilingual(team))
    db.session.commit()
    consultation = _bilingual()
    assert consultation.mission.slug == "opportunity"
    assert consultation.state is ConsultationState.OPEN
    translations = db.session.scalars(select(StatementTranslation)).all()
    assert len(translations) == 8 and {t.by_user_id for t in translations} == {team.id}
    assert db.session.scalar(select(func.count(Vote.id))) > 8 * demo.BILINGUAL_PEOPLE // 2
    run_analysis(consultation.id, topics=False)
    assert list(demo.publish_demo_summaries(team))  # it found opinion groups
    db.session.commit()
    before = _counts()
    assert not list(demo.load_demo_bilingual(team))  # loading again changes nothing
    db.session.commit()
    assert _counts() == before
    _reads_in_both_languages(client, consultation)


@pytest.mark.demo
@pytest.mark.model
def test_the_demo_has_a_consultation_in_english_and_welsh_with_its_report_in_both(app, client):
    load_demo(app)
    before = _counts()
    cli(app, "load-demo")  # a second load changes nothing
    assert _counts() == before
    consultation = _bilingual()
    assert consultation is not None and consultation.mission.slug == "opportunity"
    _reads_in_both_languages(client, consultation)
