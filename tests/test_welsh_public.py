"""The public pages in Welsh: a browser that asks for Welsh (``Accept-Language: cy``) reads the home
page, a mission, a consultation, its answers and the error pages in Welsh, and none of the
English they replace. English stays the default (the other test files check its wording)."""

# ruff: noqa: RUF001  (Welsh is written with the typographic apostrophe, U+2019)
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import Consultation, Statement, StatementOrigin
from deliberate.services.statements import write_statement
from tests.helpers import html_of, submit_form, text_of

SEEDS = [
    "Dylai bysiau redeg yn hwyrach yn y nos.",
    "Buses should run later at night.",
]


@pytest.fixture
def welsh(client):
    """A browser whose language is Welsh."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "cy-GB,cy;q=0.9,en;q=0.5"
    return client


@pytest.fixture
def consultation(missions) -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title="Sut dylai trafnidiaeth leol newid?",
        context="Rydym am glywed gan bawb sy’n teithio yma.",
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


def read(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status
    return text_of(html_of(response))


def test_the_home_page_is_in_welsh(welsh, missions):
    page = read(welsh, "/")
    assert "Helpwch i lunio’r cenadaethau" in page
    assert "Neidio i'r prif gynnwys" in page
    assert "Datganiad hygyrchedd" in page and "Preifatrwydd" in page and "Cwcis" in page
    for english in ("Help shape the missions", "Skip to main content", "Accessibility statement"):
        assert english not in page
    assert "English" in page  # the switcher offers the way back, named in its own language


def test_english_stays_the_default(client, missions):
    page = read(client, "/")
    assert "Help shape the missions" in page
    assert "Helpwch i lunio’r cenadaethau" not in page


def test_a_mission_page_is_in_welsh(welsh, consultation):
    page = read(welsh, "/missions/nhs")
    assert "Sut mae’r nod yn cael ei fesur" in page
    assert "Llinell amser" in page
    assert "Syniadau gan staff rheng flaen" in page
    assert "Ar agor" in page  # the consultation's state
    for english in ("How the goal is measured", "Timeline", "Ideas from frontline staff"):
        assert english not in page
    assert consultation.title in page  # user content is never translated


def test_the_answer_form_is_in_welsh(welsh, consultation):
    html = html_of(welsh.get(f"/consultations/{consultation.id}"))
    assert ">Cytuno</button>" in html
    assert ">Anghytuno</button>" in html
    assert ">Pasio / ansicr</button>" in html
    for english in (">Agree</button>", ">Disagree</button>", ">Pass / unsure</button>"):
        assert english not in html
    page = text_of(html)
    assert "Ychwanegu eich datganiad eich hun" in page
    assert "Rydych wedi ateb 0 o 2 o ddatganiadau." in page  # a Welsh plural form
    assert "Add your own statement" not in page and "You have answered" not in page
    # the statements are the participants' own words, in whatever language they wrote them
    assert any(seed in page for seed in SEEDS)


def test_answering_and_the_answers_page_are_in_welsh(welsh, consultation):
    url = f"/consultations/{consultation.id}"
    response = submit_form(
        welsh,
        url,
        {"statement_id": _first_statement_id(consultation), "choice": "agree"},
        action=f"{url}/votes",
        follow_redirects=True,
    )
    page = text_of(html_of(response))
    assert "Cadwyd eich ateb: Cytuno." in page
    assert "Mae 1 person wedi cymryd rhan hyd yma." in page  # the singular form
    assert "Your answer was saved" not in page

    answers = read(welsh, f"{url}/answers")
    assert "Eich atebion" in answers
    assert "Eich ateb: Cytuno" in answers
    assert "I newid ateb, dewiswch un gwahanol o dan y datganiad." in answers
    for english in ("Your answers", "Your answer:", "To change an answer"):
        assert english not in answers


def test_a_refused_statement_is_explained_in_welsh(welsh, consultation):
    url = f"/consultations/{consultation.id}"
    response = submit_form(welsh, url, {"text": "   "}, action=f"{url}/comments")
    assert response.status_code == 400
    page = text_of(html_of(response))
    assert "Rhowch eich datganiad" in page
    assert "Enter your statement" not in page


def test_error_pages_are_in_welsh(welsh, missions):
    page = read(welsh, "/missions/no-such-mission", status=404)
    assert "Gwall 404" in page
    assert "Heb ddod o hyd i’r dudalen" in page
    assert "Page not found" not in page and "Error 404" not in page


def test_the_public_information_pages_are_in_welsh(welsh, missions):
    assert "chwyddo hyd at 400% heb i’r testun ddisgyn" in read(welsh, "/accessibility")
    privacy = read(welsh, "/privacy")
    assert "Pwy sy’n gyfrifol am eich gwybodaeth" in privacy
    assert "Who is responsible for your information" not in privacy
    cookies = read(welsh, "/cookies")
    assert "Cwcis hanfodol" in cookies and "Essential cookies" not in cookies


def test_the_embedded_page_is_in_welsh(welsh, consultation):
    html = html_of(welsh.get(f"/embed/consultations/{consultation.id}"))
    assert '<html lang="cy"' in html
    assert ">Cytuno</button>" in html and ">Agree</button>" not in html
    assert "(yn agor mewn tab newydd)" in text_of(html)


def _first_statement_id(consultation: Consultation) -> int:
    return db.session.scalar(
        select(func.min(Statement.id)).where(Statement.consultation_id == consultation.id)
    )
