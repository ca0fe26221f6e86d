"""The published report in Welsh: the rule-written summary in Welsh sentences with their figures
and Welsh plural forms (six of them), the English report unchanged, and each language served its
own cached page (the report and its rendered findings are cached per run and language)."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations

from deliberate.config import PROJECT_ROOT
from deliberate.extensions import db
from deliberate.models import ParticipantRole
from deliberate.reporting.summary import people
from deliberate.services import reports
from tests.helpers import html_of, sign_in, text_of
from tests.test_reports import (
    AGREE,
    DISAGREE,
    add_votes,
    analyse,
    open_consultation,
    publish,
    summary_items,
)

WELSH = {"Accept-Language": "cy"}
# Words of the English summary that no Welsh sentence of it may keep.
ENGLISH_WORDS = re.compile(
    r"\b(took part|people|person|votes?|statements?|agreed|disagreed|split|groups?|chose|"
    r"sample|population|small consultation|uncertain|citizens|staff)\b"
)


def _own_words(item: str) -> str:
    """A summary sentence as text, without the participants' statements it quotes."""
    return re.sub(r"“[^”]*”", "", text_of(item))


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


@pytest.fixture(scope="module")
def welsh() -> Translations:
    return Translations.load(str(PROJECT_ROOT / "deliberate" / "translations"), ["cy"])


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "0 o bobl"),
        (1, "1 person"),
        (2, "2 berson"),
        (3, "3 pherson"),
        (6, "6 pherson"),
        (11, "11 o bobl"),
        (1150, "1,150 o bobl"),
    ],
)
def test_a_count_of_people_takes_each_of_the_six_welsh_forms(welsh, n, said):
    assert people(n, welsh) == said
    assert people(n) == (f"{n:,} person" if n == 1 else f"{n:,} people")


def test_the_published_report_reads_in_welsh_and_stays_the_same_in_english(
    app, client, brexit_analysed, missions, team
):
    run = brexit_analysed
    cid = run.consultation_id
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, cid, run.id).status_code == 302

    english = html_of(client.get(f"/consultations/{cid}/report"))
    assert "204 people took part" in text_of(english)
    welsh = html_of(client.get(f"/consultations/{cid}/report", headers=WELSH))
    assert '<html lang="cy"' in welsh
    items = summary_items(welsh)
    english_items = summary_items(english)
    assert len(items) == len(english_items) >= 2
    said = " ".join(text_of(i) for i in items)
    # The top summary in Welsh, with its figures: who took part, and the agreed statement.
    assert "Cymerodd 204 o bobl ran" in said
    assert "gan fwrw 5,303 o bleidleisiau ar" in said
    assert "Dewison nhw gymryd rhan ac nid ydynt yn sampl o'r boblogaeth." in said
    assert re.search(r"\d+ o \d[\d,]* o bobl \(\d+%\)", said)
    for item in items:
        assert not ENGLISH_WORDS.search(_own_words(item)), _own_words(item)
    for item in english_items:
        assert text_of(item) not in said
    # Welsh words in the findings below the summary, and in the chart's description.
    text = text_of(welsh)
    assert "Grŵp A: 101 o bobl, wedi'u lluniadu fel cylchoedd" in text
    assert "Group A: 101 people" not in text
    assert "Beth mae pobl yn cytuno arno" in text and "Pa mor sicr ydym ni?" in text
    assert "&lt;a" not in welsh  # the links in the key figures stay links

    # English again: the same page as before the Welsh reader came (nothing cached in Welsh).
    again = html_of(client.get(f"/consultations/{cid}/report"))
    assert summary_items(again) == english_items
    assert "Group A: 101 people, drawn as circles" in text_of(again)
    assert "Cymerodd" not in again and "Grŵp A" not in again
    # And Welsh again, now from the cache: its own page, not the English one.
    assert summary_items(html_of(client.get(f"/consultations/{cid}/report", headers=WELSH))) == (
        items
    )


def test_the_cache_keeps_each_language_apart(app, client, brexit_analysed, missions, team):
    run = brexit_analysed
    sign_in(client, team.email)
    first_welsh = html_of(
        client.get(f"/consultations/{run.consultation_id}/report/runs/{run.id}", headers=WELSH)
    )
    english = html_of(client.get(f"/consultations/{run.consultation_id}/report/runs/{run.id}"))
    assert "Cymerodd 204 o bobl ran" in first_welsh and "204 people took part" not in first_welsh
    assert "204 people took part" in english and "Cymerodd" not in english
    with app.test_request_context(headers=WELSH):
        assert reports.report_for(run).top[-1].text.startswith("Cymerodd 204 o bobl ran")
    with app.test_request_context():
        assert reports.report_for(run).top[-1].text.startswith("204 people took part")
    # Outside a request (a job, the command line), the report is in English.
    assert reports.report_for(run).top[-1].text.startswith("204 people took part")


@pytest.mark.parametrize(
    ("n", "took_part", "small"),
    [
        (2, "Cymerodd 2 berson ran", "Mae hwn yn ymgynghoriad bach (2 berson)"),
        (3, "Cymerodd 3 pherson ran", "Mae hwn yn ymgynghoriad bach (3 pherson)"),
        (6, "Cymerodd 6 pherson ran", "Mae hwn yn ymgynghoriad bach (6 pherson)"),
    ],
)
def test_a_small_report_counts_its_people_in_the_right_welsh_form(
    app, client, missions, team, n, took_part, small
):
    consultation, statements = open_consultation(
        missions, "Amseroedd aros", [f"Statement number {i} about waiting." for i in range(4)]
    )
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {i: AGREE if (i + p) % 2 else DISAGREE for i in range(4)})
            for p in range(n)
        ],
    )
    db.session.commit()
    run = analyse(consultation.id)
    reports.publish_run(team, consultation, run)
    db.session.commit()

    welsh = html_of(client.get(f"/consultations/{consultation.id}/report", headers=WELSH))
    said = " ".join(text_of(i) for i in summary_items(welsh))
    assert took_part in said
    assert small in said
    for item in summary_items(welsh):
        assert not ENGLISH_WORDS.search(_own_words(item)), _own_words(item)
    english = text_of(html_of(client.get(f"/consultations/{consultation.id}/report")))
    assert f"{n} people took part" in english
    assert f"This is a small consultation ({n} people)" in english


def _stored_sentences(run) -> list[str]:
    """Every sentence of the English messages the analysis stored with the run."""
    from deliberate.findings import read_findings

    found = read_findings(run.results)
    texts = [found.votes.message, *found.votes.rejected_k.values()]
    if found.votes.groups_test is not None:
        texts.append(found.votes.groups_test.message)
    if found.topics is not None:
        texts.append(found.topics.message)
    return [s for t in texts for s in re.split(r"(?<=[.:;])\s+", t) if len(s) > 12]


def _welsh_report_keeps_no_stored_english(client, run) -> str:
    page = text_of(html_of(client.get(f"/consultations/{run.consultation_id}/report")))
    welsh = text_of(
        html_of(client.get(f"/consultations/{run.consultation_id}/report", headers=WELSH))
    )
    sentences = _stored_sentences(run)
    assert sentences and any(s in page for s in sentences)  # the English report shows them
    for sentence in sentences:
        assert sentence not in welsh, sentence
    return welsh


def test_the_welsh_report_writes_the_analysis_sentences_in_welsh(
    app, client, brexit_analysed, missions, team
):
    run = brexit_analysed
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, run.consultation_id, run.id).status_code == 302
    welsh = _welsh_report_keeps_no_stored_english(client, run)
    assert "Mae\u2019r grwpiau barn y tu hwnt i siawns: gwahaniad" in welsh
    assert re.search(r"gwahanodd \d+ o \d+ cymysgiad o\u2019r atebion cystal; p = 0\.\d{3}", welsh)


def test_the_welsh_report_of_two_camps_keeps_no_stored_english(app, client, missions, team):
    from tests.test_where_you_stand import publish_analysis, two_camps

    consultation, _ = two_camps(missions)
    run = publish_analysis(consultation, team)
    welsh = _welsh_report_keeps_no_stored_english(client, run)
    assert "grŵp barn ymhlith" in welsh


def test_stored_reasons_and_language_warnings_are_rebuilt_in_welsh(welsh):
    from types import SimpleNamespace

    from deliberate.findings.topics import TopicLanguages
    from deliberate.reporting import messages

    why = "k=3 separates better in 97% of bootstraps"
    assert messages.rejected_reason(why) == why
    assert messages.rejected_reason(why, welsh) == (
        "mae k=3 yn gwahanu\u2019n well mewn 97% o\u2019r samplau bootstrap"
    )
    assert messages.rejected_reason("an older reason", welsh) == "an older reason"
    stored = (
        "Some statements are in Welsh, which the embedding model mini does not cover: their "
        "topics may be grouped by language rather than by what they say. Set "
        "DELIBERATE_EMBEDDING_MODEL to a model that covers every language of the consultation "
        "(see the README)."
    )
    topics = SimpleNamespace(
        languages=TopicLanguages({"en": 3, "cy": 2}, ("en",), ("cy",), stored), model_name="mini"
    )
    assert messages.language_message(topics) == stored  # type: ignore[arg-type]
    said = messages.language_message(topics, welsh)  # type: ignore[arg-type]
    assert said is not None and "(Cymraeg)" in said and "model mewnblannu mini" in said
    other = SimpleNamespace(languages=topics.languages, model_name="another")
    assert messages.language_message(other, welsh) == stored  # type: ignore[arg-type]
