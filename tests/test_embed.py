"""The embeddable participation page (/embed/consultations/<id>): framing allowed only for the
operator's origins, answers through the same service and rules as the site, cookies fit for a
third-party frame, and a way out to a new tab where a browser keeps no cookie in a frame."""

from __future__ import annotations

import html as html_module
import re

import pytest
from sqlalchemy import select

from deliberate.config import ConfigurationError, embed_origins, settings_from_environment
from deliberate.embed import frame
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
    Vote,
    VoteChoice,
)
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import count, csrf_token_from, html_of, sign_in, text_of
from tests.test_reports import add_votes, analyse
from tests.test_security_headers import policy

ORIGINS = ("https://www.council.example", "http://localhost:8080")


@pytest.fixture
def embed_app(app, database_url, tmp_path):
    """The app with two websites allowed to frame the embed pages (tables emptied by ``app``)."""
    return make_test_app(database_url, tmp_path, EMBED_ORIGINS=ORIGINS)


def open_consultation(missions, *, anonymous: bool = True, statements: int = 2) -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        context="Tell us.",
        allow_anonymous=anonymous,
    )
    db.session.add(consultation)
    db.session.flush()
    for n in range(1, statements + 1):
        write_statement(consultation, f"Statement {n} about clinics.", origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    return consultation


def embed_url(consultation: Consultation) -> str:
    return f"/embed/consultations/{consultation.id}"


def answer_form(html: str) -> dict:
    form = re.search(r'<form[^>]*id="answer".*?</form>', html, re.S)
    assert form, "the embed page offers no statement to answer"
    statement = re.search(r'name="statement_id" value="(\d+)"', form.group(0)).group(1)
    return {"csrf_token": csrf_token_from(form.group(0)), "statement_id": statement}


def set_cookies(response) -> dict[str, str]:
    """Each cookie the response sets, by name, with its attributes as sent."""
    return {value.split("=", 1)[0]: value for value in response.headers.getlist("Set-Cookie")}


def votes_of(consultation: Consultation) -> list[VoteChoice]:
    rows = db.session.scalars(select(Vote.choice).where(Vote.consultation_id == consultation.id))
    return [VoteChoice(choice) for choice in rows]


# -- framing --------------------------------------------------------------------------------------


def test_embed_pages_may_be_framed_by_exactly_the_allowed_origins_and_no_other_page(
    embed_app, missions
):
    consultation = open_consultation(missions)
    client = embed_app.test_client()
    page = client.get(embed_url(consultation))
    assert page.status_code == 200
    csp = policy(page)
    assert csp["frame-ancestors"] == "https://www.council.example http://localhost:8080"
    assert {k: v for k, v in csp.items() if k != "frame-ancestors"} == {
        k: v for k, v in policy(client.get("/")).items() if k != "frame-ancestors"
    }
    assert "X-Frame-Options" not in page.headers
    answered = client.post(
        f"{embed_url(consultation)}/answers", data={**answer_form(html_of(page)), "choice": "pass"}
    )
    assert answered.status_code == 302
    missing = client.get("/embed/consultations/999999")
    for response in (answered, missing):
        assert policy(response)["frame-ancestors"] == csp["frame-ancestors"]
        assert "X-Frame-Options" not in response.headers

    for path in ("/", f"/consultations/{consultation.id}", "/sign-in", "/nope"):
        response = client.get(path)
        assert policy(response)["frame-ancestors"] == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_with_no_origins_set_embedding_is_refused_and_the_page_says_so(app, client, missions):
    assert app.config["EMBED_ORIGINS"] == ()
    consultation = open_consultation(missions)
    page = client.get(embed_url(consultation))
    assert page.status_code == 200
    assert policy(page)["frame-ancestors"] == "'none'"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "have not allowed any other website to show this consultation" in text_of(html_of(page))


# -- taking part ----------------------------------------------------------------------------------


def test_answering_in_the_frame_stores_the_vote_and_says_so_on_the_embed_page(embed_app, missions):
    consultation = open_consultation(missions)
    client = embed_app.test_client()
    page = html_of(client.get(embed_url(consultation)))
    # Its own layout: the consultation and one statement, no header, footer or navigation.
    assert "govuk-header" not in page and "govuk-footer" not in page and "<nav" not in page
    assert (
        '<h1 class="govuk-heading-m" dir="auto">What would most improve getting care?</h1>' in page
    )
    assert '<fieldset class="govuk-fieldset" aria-describedby="answer-hint">' in page
    assert "<script" not in page
    assert "You have answered 0 of 2 statements." in text_of(page)
    for link in ("full-link",):
        assert re.search(
            rf'id="{link}"><a class="govuk-link" href="/consultations/'
            rf'{consultation.id}" target="_blank" rel="noopener">[^<]*\(opens in new tab\)</a>',
            page,
        )
    form = answer_form(page)

    answered = client.post(f"{embed_url(consultation)}/answers", data={**form, "choice": "agree"})
    assert answered.status_code == 302
    assert answered.headers["Location"] == embed_url(consultation)  # back to the frame (PRG)
    assert votes_of(consultation) == [VoteChoice.AGREE]
    participant = db.session.scalars(select(Participant)).one()
    assert participant.user_id is None and participant.anonymous_token_hash
    cookies = set_cookies(answered)
    assert (
        frame.PARTICIPANT_COOKIE in cookies and "Path=/embed" in cookies[frame.PARTICIPANT_COOKIE]
    )
    assert "deliberate_participant" not in cookies  # the site's own cookie is left alone

    after = html_of(client.get(embed_url(consultation)))
    assert re.search(r'role="alert"[^>]*id="status"', after)
    assert "Your answer was saved: Agree." in text_of(after)
    assert "You have answered 1 of 2 statements." in text_of(after)
    assert answer_form(after)["statement_id"] != form["statement_id"]
    assert "Success: What would most improve getting care?" not in after  # title says the page

    # The same browser's next answer is the same participant's.
    client.post(
        f"{embed_url(consultation)}/answers", data={**answer_form(after), "choice": "disagree"}
    )
    assert sorted(votes_of(consultation)) == sorted([VoteChoice.AGREE, VoteChoice.DISAGREE])
    assert count(Participant) == 1
    assert "You have answered every statement" in text_of(
        html_of(client.get(embed_url(consultation)))
    )


def test_a_closed_consultation_refuses_answers_in_plain_words(embed_app, missions):
    consultation = open_consultation(missions)
    client = embed_app.test_client()
    form = answer_form(html_of(client.get(embed_url(consultation))))
    consultation.close()
    db.session.commit()

    page = html_of(client.get(embed_url(consultation)))
    assert "This consultation is closed: it no longer accepts answers or statements." in text_of(
        page
    )
    assert 'id="answer"' not in page
    refused = client.post(f"{embed_url(consultation)}/answers", data={**form, "choice": "agree"})
    assert refused.status_code == 400
    body = html_of(refused)
    assert 'class="govuk-error-summary"' in body
    assert "This consultation is closed" in text_of(body)
    assert votes_of(consultation) == [] and count(Participant) == 0


def test_where_sign_in_is_required_the_frame_sends_people_to_the_site_in_a_new_tab(
    embed_app, missions, create_user
):
    consultation = open_consultation(missions, anonymous=False)
    create_user(email="citizen@example.org")
    client = embed_app.test_client()
    sign_in(client, "citizen@example.org")  # signed in on the site: not inside a frame
    page = html_of(client.get(embed_url(consultation)))
    assert 'id="answer"' not in page
    link = re.search(
        r'<a class="govuk-link" href="([^"]+)" target="_blank" rel="noopener" '
        r'id="sign-in-link">([^<]+)</a>',
        page,
    )
    assert link, page
    assert link.group(1).startswith("/sign-in?next=") and link.group(2) == (
        "Sign in on Deliberate to take part (opens in new tab)"
    )
    statement = db.session.scalars(select(Statement)).first()
    # A form sent anyway (the frame's token, from a consultation open to everyone) is refused.
    token = answer_form(html_of(client.get(embed_url(open_consultation(missions)))))["csrf_token"]
    refused = client.post(
        f"{embed_url(consultation)}/answers",
        data={"csrf_token": token, "statement_id": statement.id, "choice": "agree"},
    )
    assert refused.status_code == 400
    assert "Sign in to take part in this consultation" in text_of(html_of(refused))
    assert votes_of(consultation) == []


def test_a_draft_is_not_found_in_the_frame_layout(embed_app, missions):
    draft = Consultation(mission=missions["nhs"], title="Not yet", context="")
    db.session.add(draft)
    db.session.commit()
    response = embed_app.test_client().get(embed_url(draft))
    assert response.status_code == 404
    body = html_of(response)
    assert "Page not found" in body and "govuk-header" not in body
    assert 'target="_blank" rel="noopener"' in body


def test_a_value_the_page_did_not_offer_is_refused_with_an_error_summary(embed_app, missions):
    consultation = open_consultation(missions)
    client = embed_app.test_client()
    form = answer_form(html_of(client.get(embed_url(consultation))))
    for tampered in ({"choice": "maybe"}, {"choice": "agree", "statement_id": "<b>1</b>"}):
        refused = client.post(f"{embed_url(consultation)}/answers", data={**form, **tampered})
        assert refused.status_code == 400
        assert 'class="govuk-error-summary"' in html_of(refused)
    assert votes_of(consultation) == []


def test_the_published_summary_is_linked_in_a_new_tab(embed_app, missions):
    consultation = open_consultation(missions, statements=3)
    people = [
        (ParticipantRole.CITIZEN, {0: 1, 1: -1, 2: 1}),
        (ParticipantRole.CITIZEN, {0: -1, 1: 1, 2: 0}),
        (ParticipantRole.CITIZEN, {0: 1, 2: 1}),
    ]
    statements = list(db.session.scalars(select(Statement).order_by(Statement.id)))
    add_votes(consultation, statements, people)
    db.session.commit()
    page = html_of(embed_app.test_client().get(embed_url(consultation)))
    assert 'id="summary-link"' not in page
    run = analyse(consultation.id)
    run.published_at = run.finished_at
    db.session.commit()
    page = html_of(embed_app.test_client().get(embed_url(consultation)))
    assert re.search(
        rf'id="summary-link"><a class="govuk-link" href="/consultations/{consultation.id}/report"'
        r' target="_blank" rel="noopener">Read the published summary of what people said '
        r"\(opens in new tab\)</a>",
        page,
    )


# -- cookies in a third-party frame ----------------------------------------------------------------


def test_over_https_the_frame_cookies_are_samesite_none_secure_and_partitioned(embed_app, missions):
    consultation = open_consultation(missions)
    client = embed_app.test_client()
    # Over HTTPS the CSRF check also wants the page's address as referrer, as a browser sends it.
    referrer = f"https://deliberate.test{embed_url(consultation)}"
    https = {"base_url": "https://deliberate.test", "headers": {"Referer": referrer}}
    page = client.get(embed_url(consultation), **https)
    session_cookie = set_cookies(page)[frame.SESSION_COOKIE]
    for attribute in ("Secure", "HttpOnly", "Path=/embed", "SameSite=None", "Partitioned"):
        assert attribute in session_cookie.split("; "), session_cookie
    answered = client.post(
        f"{embed_url(consultation)}/answers",
        data={**answer_form(html_of(page)), "choice": "agree"},
        **https,
    )
    assert answered.status_code == 302
    participant_cookie = set_cookies(answered)[frame.PARTICIPANT_COOKIE]
    for attribute in ("Secure", "HttpOnly", "Path=/embed", "SameSite=None", "Partitioned"):
        assert attribute in participant_cookie.split("; "), participant_cookie
    assert votes_of(consultation) == [VoteChoice.AGREE]

    # The site's own pages keep their Lax session cookie, unpartitioned.
    site = set_cookies(client.get("/sign-in", **https))["session"]
    assert "SameSite=Lax" in site and "Partitioned" not in site and "Path=/;" in site + ";"


def test_over_plain_http_only_loopback_hosts_get_cross_site_cookies(
    app, database_url, tmp_path, missions
):
    consultation = open_consultation(missions)
    local = make_test_app(database_url, tmp_path, SERVER_NAME=None)
    for host, cross_site in (
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("example.org", False),
    ):
        page = local.test_client().get(embed_url(consultation), base_url=f"http://{host}")
        cookie = set_cookies(page)[frame.SESSION_COOKIE].split("; ")
        if cross_site:
            assert {"Secure", "SameSite=None", "Partitioned"} <= set(cookie), (host, cookie)
        else:  # SameSite=None needs Secure, and Secure needs HTTPS: the frame needs the same site
            assert "SameSite=Lax" in cookie and "Secure" not in cookie, (host, cookie)


def test_an_answer_without_the_frame_cookie_offers_a_new_tab_not_an_error(embed_app, missions):
    consultation = open_consultation(missions)
    page = html_of(embed_app.test_client().get(embed_url(consultation)))
    form = {**answer_form(page), "choice": "agree"}

    # A browser that kept no cookie for the frame sends the form without it.
    blocked = embed_app.test_client().post(f"{embed_url(consultation)}/answers", data=form)
    assert blocked.status_code == 400
    body = html_of(blocked)
    assert '<h1 class="govuk-heading-m">Your browser blocks this in an embedded frame</h1>' in body
    assert re.search(
        rf'<a class="govuk-link" href="/consultations/{consultation.id}" target="_blank" '
        r'rel="noopener">Open the consultation in a new tab to take part \(opens in new tab\)</a>',
        body,
    )
    assert "form expired" not in text_of(body).lower()
    assert policy(blocked)["frame-ancestors"] == " ".join(ORIGINS)

    # A cookie came back, but with another form's token (cookies cleared, a stale page).
    stale = embed_app.test_client()
    stale.get(embed_url(consultation))
    refused = stale.post(f"{embed_url(consultation)}/answers", data=form)
    assert refused.status_code == 400
    assert "Your answer was not saved" in text_of(html_of(refused))
    assert f'href="/consultations/{consultation.id}" target="_blank"' in html_of(refused)
    assert votes_of(consultation) == [] and count(Participant) == 0


def test_the_site_rate_limits_on_new_participants_apply_in_the_frame(
    database_url, tmp_path, app, missions
):
    limited = make_test_app(
        database_url,
        tmp_path,
        EMBED_ORIGINS=ORIGINS,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        NEW_PARTICIPANTS_PER_MINUTE=1,
    )
    consultation = open_consultation(missions)
    statuses = []
    for _ in range(2):  # two new browsers from one address
        client = limited.test_client()
        form = answer_form(html_of(client.get(embed_url(consultation))))
        response = client.post(
            f"{embed_url(consultation)}/answers", data={**form, "choice": "pass"}
        )
        statuses.append(response.status_code)
    assert statuses == [302, 429]
    assert "Too many people have started taking part" in text_of(html_of(response))
    assert "govuk-header" not in html_of(response) and response.headers["Retry-After"]
    assert count(Participant) == 1


def test_the_sites_answer_rate_limit_applies_in_the_frame(database_url, tmp_path, app, missions):
    limited = make_test_app(database_url, tmp_path, EMBED_ORIGINS=ORIGINS, RATELIMIT_ENABLED=True)
    consultation = open_consultation(missions)
    client = limited.test_client()
    form = {**answer_form(html_of(client.get(embed_url(consultation)))), "choice": "agree"}
    statuses = [
        client.post(f"{embed_url(consultation)}/answers", data=form).status_code for _ in range(61)
    ]
    assert statuses == [302] * 60 + [429]  # VOTE_LIMIT, as on the consultation's own page
    refused = client.post(f"{embed_url(consultation)}/answers", data=form)
    assert "You have done that too many times" in text_of(html_of(refused))
    assert "govuk-header" not in html_of(refused)


# -- the team's snippet ---------------------------------------------------------------------------


def test_the_team_gets_a_snippet_to_paste_with_the_allowed_origins(
    embed_app, missions, create_user
):
    consultation = open_consultation(missions)
    consultation.title = 'Care "near" home & <away>?'
    db.session.commit()
    create_user(email="team@example.org", team=(missions["nhs"],))
    client = embed_app.test_client()
    sign_in(client, "team@example.org")
    page = html_of(client.get(f"/manage/consultations/{consultation.id}"))
    textarea = re.search(r'<textarea[^>]*id="embed-code"[^>]*>(.*?)</textarea>', page, re.S)
    assert textarea, page
    code = html_module.unescape(textarea.group(1)).strip()
    assert code == (
        f'<iframe src="http://deliberate.test/embed/consultations/{consultation.id}" '
        'title="Take part: Care &#34;near&#34; home &amp; &lt;away&gt;?" width="100%" '
        'height="420" loading="lazy"></iframe>'
    )
    listed = text_of(page)
    for origin in ORIGINS:
        assert origin in listed
    assert "DELIBERATE_EMBED_ORIGINS" in listed


# -- the setting ----------------------------------------------------------------------------------


def test_embed_origins_are_read_checked_and_normalised(tmp_path):
    def read(value: str) -> tuple[str, ...]:
        env = {"SECRET_KEY": "x", "DELIBERATE_EMBED_ORIGINS": value}
        return settings_from_environment(tmp_path, env)["EMBED_ORIGINS"]

    assert read("") == () and read("'none'") == () and read(" none ") == ()
    assert settings_from_environment(tmp_path, {"SECRET_KEY": "x"})["EMBED_ORIGINS"] == ()
    assert read(
        "https://WWW.Council.example/, http://localhost:8080,https://www.council.example"
    ) == (
        "https://www.council.example",
        "http://localhost:8080",
    )
    assert read("https://[::1]:8443") == ("https://[::1]:8443",)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("*", "wildcard"),
        ("https://*.example.gov.uk", "wildcard"),
        ("https://www.example.gov.uk/consultations", "path"),
        ("https://www.example.gov.uk/?q=1", "path"),
        ("https://www.example.gov.uk#top", "path"),
        ("www.example.gov.uk", "not an origin"),
        ("ftp://example.gov.uk", "not an origin"),
        ("'self'", "not an origin"),
        ("https://user:secret@example.gov.uk", "not an origin"),
        ("https://example.gov.uk:99999", "not an origin"),
        ("https://[not-ipv6]", "not an origin"),
        ("https://bücher.example", "xn--"),
        ("https://a.example, 'none'", "'none' stands alone"),
    ],
)
def test_embed_origins_that_are_not_plain_origins_stop_the_app(value, says):
    with pytest.raises(ConfigurationError, match=re.escape(says)):
        embed_origins(value)
