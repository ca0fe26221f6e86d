"""Content in several languages (issue 16): a consultation's main and other languages, each
statement's language, the team's translations of statements, title and description, what
participants see in their interface language, votes staying on the statement, and topics labelled
in each language with a message when the embedding model does not cover one."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from deliberate.analysis.embeddings import languages_covered
from deliberate.analysis.topics import fit_topics
from deliberate.extensions import db
from deliberate.findings.topics import read_topics
from deliberate.models import (
    AuditEvent,
    Consultation,
    ConsultationState,
    Statement,
    StatementOrigin,
    StatementTranslation,
    Vote,
)
from deliberate.services import languages
from deliberate.services.errors import Refused
from deliberate.services.statements import write_statement
from deliberate.services.topics import language_coverage
from tests.helpers import html_of, sign_in, submit_form

WELSH = {"Accept-Language": "cy"}


@pytest.fixture
def bilingual(app, missions, create_user):
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    consultation = Consultation(
        mission_id=missions["nhs"].id, title="Waiting times", context="How long do you wait?"
    )
    db.session.add(consultation)
    db.session.flush()
    languages.set_languages(team, consultation, "en", ["cy"])
    seed = write_statement(
        consultation, "GP appointments are too hard to get.", origin=StatementOrigin.SEED
    )
    welsh = write_statement(
        consultation, "Mae angen mwy o feddygon teulu.", origin=StatementOrigin.SEED, language="cy"
    )
    consultation.open()
    db.session.commit()
    return consultation, team, seed, welsh


def test_languages_default_to_english_and_can_be_set(bilingual):
    consultation, team, seed, welsh = bilingual
    assert consultation.languages == ["en", "cy"] and consultation.is_multilingual
    assert seed.language == "en" and welsh.language == "cy"
    with pytest.raises(Refused):  # the main language is fixed once open
        languages.set_languages(team, consultation, "cy", [])
    with pytest.raises(Refused):
        languages.set_languages(team, consultation, "en", ["xx"])
    plain = Consultation(mission_id=consultation.mission_id, title="One language")
    assert plain.languages == ["en"] and not plain.is_multilingual


def test_a_translation_is_kept_apart_and_audited(bilingual, create_user):
    _consultation, team, seed, welsh = bilingual
    languages.translate_statement(team, seed, "cy", "Mae'n rhy anodd cael apwyntiad meddyg teulu.")
    languages.translate_statement(
        team, seed, "cy", "Mae apwyntiadau meddyg teulu yn rhy anodd eu cael."
    )
    db.session.commit()
    rows = db.session.scalars(select(StatementTranslation)).all()
    assert [(r.statement_id, r.language) for r in rows] == [(seed.id, "cy")]
    assert rows[0].text.startswith("Mae apwyntiadau") and rows[0].by_user_id == team.id
    assert seed.text == "GP appointments are too hard to get." and seed.language == "en"
    with pytest.raises(Refused):  # not into its own language
        languages.translate_statement(team, welsh, "cy", "Rhywbeth")
    with pytest.raises(Refused):  # only the team
        languages.translate_statement(create_user(), seed, "cy", "Rhywbeth")
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "statement.translated" in actions and "consultation.languages" in actions


def test_participants_read_the_translation_marked_with_the_original_one_click_away(
    bilingual, client
):
    consultation, team, seed, welsh = bilingual
    languages.translate_statement(team, seed, "cy", "Mae'n rhy anodd cael apwyntiad.")
    languages.translate_statement(team, welsh, "en", "We need more GPs.")
    languages.translate_consultation(team, consultation, "cy", "Amseroedd aros", "Pa mor hir?")
    db.session.commit()
    url = f"/consultations/{consultation.id}/statements/{seed.id}"
    welsh_page = html_of(client.get(url, headers=WELSH))
    assert 'lang="cy">Mae&#39;n rhy anodd cael apwyntiad.' in welsh_page
    assert f'data-translated="{seed.id}"' in welsh_page
    assert "gyfieithu o" in welsh_page and "Saesneg: darllen y gwreiddiol" in welsh_page
    assert 'lang="en">GP appointments are too hard to get.' in welsh_page  # the original
    english_page = html_of(client.get(url))
    assert 'lang="en">GP appointments are too hard to get.' in english_page
    assert "data-translated" not in english_page
    show = html_of(client.get(f"/consultations/{consultation.id}", headers=WELSH))
    assert 'lang="cy">Amseroedd aros</h1>' in show and 'id="original-title"' in show
    # a Welsh statement with no translation shown to an English reader says its language
    untranslated = write_statement(
        consultation, "Dylai fferyllfeydd wneud mwy.", origin=StatementOrigin.SEED, language="cy"
    )
    db.session.commit()
    page = html_of(client.get(f"/consultations/{consultation.id}/statements/{untranslated.id}"))
    assert 'lang="cy">Dylai fferyllfeydd wneud mwy.' in page
    assert f'data-written-in="{untranslated.id}"' in page and "Written in Welsh" in page


def test_a_vote_read_in_welsh_counts_for_the_statement(bilingual, client):
    consultation, team, seed, _welsh = bilingual
    languages.translate_statement(team, seed, "cy", "Mae'n rhy anodd cael apwyntiad.")
    db.session.commit()
    page = f"/consultations/{consultation.id}/statements/{seed.id}"
    client.get(page, headers=WELSH)
    submit_form(
        client,
        page,
        {"statement_id": seed.id, "choice": "agree", "return_to": "consultation"},
        action=f"/consultations/{consultation.id}/votes",
        headers=WELSH,
    )
    votes = db.session.scalars(select(Vote)).all()
    assert [(v.statement_id, v.choice) for v in votes] == [(seed.id, 1)]


def test_a_comment_gets_the_language_of_the_interface_it_was_written_in(bilingual, client):
    consultation, *_ = bilingual
    url = f"/consultations/{consultation.id}"
    submit_form(
        client,
        url,
        {"text": "Dylai'r feddygfa ateb y ffôn yn gynt."},
        action=url + "/comments",
        headers=WELSH,
    )
    written = db.session.scalar(select(Statement).where(Statement.text.like("Dylai'r%")))
    assert written is not None and written.language == "cy"


def test_one_language_keeps_its_language_whatever_the_interface(app, missions, create_user):
    team = create_user(team=(missions["nhs"],))
    consultation = Consultation(mission_id=missions["nhs"].id, title="English only")
    db.session.add(consultation)
    db.session.flush()
    assert languages.language_of_new_statement(consultation, "cy") == "en"
    languages.set_languages(team, consultation, "en", ["cy"])
    assert languages.language_of_new_statement(consultation, "cy") == "cy"
    assert languages.language_of_new_statement(consultation, "fr") == "en"


def test_team_pages_translate_with_csrf_and_team_only(bilingual, app, client, create_user):
    consultation, _team, seed, _welsh = bilingual
    create_user(email="citizen@example.org")
    citizen = app.test_client()
    sign_in(citizen, "citizen@example.org")
    assert citizen.get(f"/manage/statements/{seed.id}/translate").status_code == 403
    sign_in(client, "team@example.org")
    hub = html_of(client.get(f"/manage/consultations/{consultation.id}/languages"))
    assert f"/manage/statements/{seed.id}/translate?language=cy" in hub
    url = f"/manage/statements/{seed.id}/translate?language=cy"
    response = submit_form(client, url, {"language": "cy", "text": "Mae'n anodd."})
    assert response.status_code == 302
    assert client.post(url, data={"language": "cy", "text": "x"}).status_code == 400  # no CSRF
    url = f"/manage/consultations/{consultation.id}/translate?language=cy"
    response = submit_form(
        client, url, {"language": "cy", "title": "Amseroedd aros", "context": ""}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [t.title for t in db.session.get(Consultation, consultation.id).translations] == [
        "Amseroedd aros"
    ]


def test_topics_are_labelled_in_each_language():
    rng = np.random.default_rng(1)
    a, b = np.eye(8)[0], np.eye(8)[1]
    texts = (
        [f"hospital waiting lists are far too long {i}" for i in range(6)]
        + [f"mae rhestrau aros ysbytai yn llawer rhy hir {i}" for i in range(6)]
        + [f"buses in rural villages stopped running {i}" for i in range(6)]
        + [f"mae bysiau pentrefi gwledig wedi stopio {i}" for i in range(6)]
    )
    vectors = np.vstack(
        [a + rng.normal(0, 0.01, 8) for _ in range(12)]
        + [b + rng.normal(0, 0.01, 8) for _ in range(12)]
    )
    codes = ["en"] * 6 + ["cy"] * 6 + ["en"] * 6 + ["cy"] * 6
    model = fit_topics(texts, vectors, language="en", text_languages=codes)
    named = [t for t in model.topics if t.id >= 0]
    assert len(named) == 2
    for topic in named:
        assert set(topic.labels) == {"en", "cy"}
    waiting = next(t for t in named if "hospital" in t.labels["en"] or "waiting" in t.labels["en"])
    assert any(w in waiting.labels["cy"] for w in ("rhestrau", "aros", "ysbytai"))
    assert "mae" not in waiting.labels["cy"].split(", ")  # Welsh stop words left out
    # the typed reader reads them, and runs without them read fine
    stored = {**model.to_dict(), "statement_ids": list(range(24)), "fit": None}
    findings = read_topics(stored)
    assert findings is not None and findings.topics[0].labels and findings.languages is None
    old = {
        **stored,
        "topics": [{k: v for k, v in t.items() if k != "labels"} for t in stored["topics"]],
    }
    assert read_topics(old).topics[0].labels == {}
    assert read_topics(old).topics[0].label_in("cy") == read_topics(old).topics[0].label


def test_the_model_languages_are_known_and_a_missing_one_is_reported(bilingual):
    consultation, _team, seed, welsh = bilingual
    assert languages_covered(None) == frozenset({"en"})
    assert "cy" not in languages_covered("/models/paraphrase-multilingual-MiniLM-L12-v2")
    assert "cy" in languages_covered("sentence-transformers/LaBSE")
    assert languages_covered("/models/something-else") is None
    coverage = language_coverage(consultation.id, [seed.id, welsh.id], "all-MiniLM-L6-v2 (gt)")
    assert coverage["present"] == {"cy": 1, "en": 1} and coverage["not_covered"] == ["cy"]
    assert "Welsh" in coverage["message"] and "DELIBERATE_EMBEDDING_MODEL" in coverage["message"]
    fine = language_coverage(consultation.id, [seed.id, welsh.id], "LaBSE")
    assert fine["message"] is None and fine["not_covered"] == []
    assert consultation.state is ConsultationState.OPEN


def test_comments_csv_carries_language_and_translations_round_trip(tmp_path):
    from deliberate.polis_format.model import PolisComment
    from deliberate.polis_format.reader import _read_comments
    from deliberate.polis_format.writer import write_comments_csv

    comments = [
        PolisComment(
            1,
            None,
            "More GPs, please",
            1,
            1_700_000_000_000,
            False,
            True,
            "en",
            (("cy", "Mwy o feddygon teulu, os gwelwch yn dda"),),
        ),
        PolisComment(2, 3, "=Mae angen bysiau", 1, 1_700_000_001_000, False, False, "cy", ()),
    ]
    path = tmp_path / "comments.csv"
    write_comments_csv(path, comments, {})
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-3:] == ["language", "translations", "comment-body"]
    assert _read_comments(path) == tuple(comments)


def test_a_moderators_edit_drops_the_translations_that_may_hold_the_words_taken_out(bilingual):
    from deliberate.services.statements import redact_statement

    _consultation, team, seed, _welsh = bilingual
    languages.translate_statement(
        team, seed, "cy", "Mae Dr Jones ym meddygfa'r Stryd Fawr yn hwyr."
    )
    db.session.commit()
    redact_statement(seed, "GP appointments are too hard to get [name removed].")
    db.session.commit()
    left = db.session.scalars(
        select(StatementTranslation).where(StatementTranslation.statement_id == seed.id)
    ).all()
    assert left == []
    assert db.session.get(type(seed), seed.id).text.endswith("[name removed].")
