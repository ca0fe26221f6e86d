"""The JSON API (/api/v1): public reads on a real Polis conversation (brexit-consensus, CC BY 4.0,
The Computational Democracy Project), with statement ids that match the statements endpoint and
the open-data download; pages in a stable order; one error shape; CORS for reads only; ETags on
published runs; personal API tokens made, shown once and revoked on the account page; and every
write path's refusals (closed consultation, unknown statement, over-long text, revoked token, no
token, a session cookie without a token)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import jsonschema
import numpy as np
import pytest
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.models import (
    ApiToken,
    AuditEvent,
    CheckStatus,
    Consultation,
    Idea,
    IdeaStage,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    SimilarityCheck,
    Statement,
    StatementOrigin,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.security import DATABASE_INT_MAX
from deliberate.services import api_tokens, embeddings, languages, reports
from deliberate.services.statements import moderate_statement, write_statement
from tests.conftest import make_test_app
from tests.helpers import count, csrf_token_from, html_of, sign_in, submit_form, text_of
from tests.test_bad_requests import HUGE, int_routes
from tests.test_reports import analyse, imported

API = "/api/v1"


# -- the world -------------------------------------------------------------------------------------


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=(missions["growth"], missions["nhs"]))


@pytest.fixture
def brexit(team, missions) -> tuple[int, int]:
    """The real conversation imported, analysed (votes only) and published: (consultation, run)."""
    cid = imported(missions)
    run = analyse(cid)
    reports.publish_run(team, db.session.get(Consultation, cid), run)
    db.session.commit()
    return cid, run.id


def open_consultation(missions, texts=("Clinics should open on Saturdays.",), **settings):
    consultation = Consultation(
        mission=missions["nhs"], title="What would most improve getting care?", **settings
    )
    db.session.add(consultation)
    db.session.flush()
    for text in texts:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    return consultation


def token_for(user, name: str = "My script") -> str:
    secret = api_tokens.create_token(user, name).secret
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def error_of(response, status: int, code: str) -> dict:
    """The one error shape, with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"status", "code", "message"} <= set(error) <= {"status", "code", "message", "details"}
    assert (error["status"], error["code"]) == (status, code), error
    assert error["message"]
    return error


def every_page(client, url: str, limit: int) -> list[dict]:
    """Follow ``next`` from the first page to the last; each page's Link header says the same."""
    items, following = [], f"{url}?limit={limit}"
    while following:
        response = client.get(following)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= limit
        items += body["items"]
        following = body["next"]
        if following:
            assert response.headers["Link"] == f'<{following}>; rel="next"'
        else:
            assert "Link" not in response.headers
    return items


# -- reading a real published conversation ---------------------------------------------------------


def test_a_real_published_conversation_reads_without_sign_in_with_ids_that_match(client, brexit):
    cid, run_id = brexit
    missions = client.get(f"{API}/missions").get_json()["items"]
    assert [m["slug"] for m in missions][:2] == ["growth", "clean-energy"] and len(missions) == 5
    assert client.get(f"{API}/missions/growth").get_json()["name"] == "Kickstart economic growth"

    [listed] = client.get(f"{API}/consultations?mission=growth").get_json()["items"]
    consultation = client.get(f"{API}/consultations/{cid}").get_json()
    assert listed == consultation
    assert consultation["title"] == "Can there be consensus on Brexit?"
    assert consultation["published_run_id"] == run_id
    assert consultation["licence"]["name"] == "CC BY 4.0"
    assert "The Computational Democracy Project" in consultation["licence"]["attribution"]
    assert consultation["source_url"].startswith("https://compdemocracy.org/")
    assert consultation["page_url"] == f"http://deliberate.test/consultations/{cid}"

    # Every live statement, a page at a time, in id order, each once; ids are the site's own.
    statements = every_page(client, f"{API}/consultations/{cid}/statements", limit=7)
    ids = [s["id"] for s in statements]
    live = db.session.scalars(
        select(Statement.id)
        .where(Statement.consultation_id == cid, Statement.moderation == ModerationStatus.ACCEPTED)
        .order_by(Statement.id)
    ).all()
    assert ids == live and len(ids) > 7
    one = client.get(f"{API}/consultations/{cid}/statements/{ids[0]}").get_json()
    assert one == statements[0] and one["text"] == "I voted to Leave."

    [summary] = client.get(f"{API}/consultations/{cid}/runs").get_json()["items"]
    assert summary["id"] == run_id and summary["current"] is True
    response = client.get(f"{API}/consultations/{cid}/runs/{run_id}")
    assert response.status_code == 200
    run = response.get_json()
    assert (run["run"]["n_participants"], run["run"]["n_votes"]) == (204, 5303)
    assert [(g["name"], g["size"]) for g in run["groups"]] == [("Group A", 101), ("Group B", 88)]
    assert run["roles"]["n_citizens"] == 204 and run["roles"]["n_staff"] == 0
    assert run["consensus"]["agree"]["quoted"] and run["divisive"]
    # The run speaks of the statements endpoint's statements ...
    by_id = {s["id"]: s for s in statements}
    quoted = [c["statement_id"] for c in run["consensus"]["agree"]["quoted"]]
    quoted += [r["statement_id"] for g in run["groups"] for r in g["representative"]]
    assert set(quoted) <= set(by_id)
    for row in run["statements"]:
        if row["id"] in by_id:
            assert row["text"] == by_id[row["id"]]["text"]
            assert row["export_id"] == by_id[row["id"]]["export_id"]

    # ... and is the open-data run.json with the site's ids: same statements, texts and counts.
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/consultations/{cid}/open-data.zip").data))
    download = json.loads(archive.read("run.json"))
    assert {s["export_id"]: s["text"] for s in run["statements"]} == {
        s["id"]: s["text"] for s in download["statements"]
    }
    counts = ("agrees", "disagrees", "passes", "seen", "groups", "moderated", "analysed")
    by_export = {s["id"]: s for s in download["statements"]}
    for row in run["statements"]:
        assert {k: row[k] for k in counts} == {k: by_export[row["export_id"]][k] for k in counts}
    assert run["run"] == download["run"]
    own = {s["export_id"]: s["id"] for s in run["statements"]}
    assert [own[c["statement_id"]] for c in download["consensus"]["agree"]["quoted"]] == [
        c["statement_id"] for c in run["consensus"]["agree"]["quoted"]
    ]


def test_each_statement_carries_its_language_and_the_teams_translations(client, brexit, team):
    cid, run_id = brexit
    consultation = db.session.get(Consultation, cid)
    languages.set_languages(team, consultation, "en", ["cy"])
    first, second = db.session.scalars(
        select(Statement)
        .where(Statement.consultation_id == cid, Statement.moderation == ModerationStatus.ACCEPTED)
        .order_by(Statement.id)
        .limit(2)
    ).all()
    languages.translate_statement(team, first, "cy", "Pleidleisiais i Adael.")
    db.session.commit()

    one = client.get(f"{API}/consultations/{cid}/statements/{first.id}").get_json()
    assert (one["text"], one["language"]) == ("I voted to Leave.", "en")
    assert one["translations"] == {"cy": "Pleidleisiais i Adael."}
    listed = client.get(f"{API}/consultations/{cid}/statements?limit=2").get_json()["items"]
    assert listed[0] == one
    assert (listed[1]["language"], listed[1]["translations"]) == ("en", {})

    # The published run says the same, in the API and in the open-data run.json (still valid).
    rows = {
        s["id"]: s
        for s in client.get(f"{API}/consultations/{cid}/runs/{run_id}").get_json()["statements"]
    }
    assert rows[first.id]["language"] == "en"
    assert rows[first.id]["translations"] == {"cy": "Pleidleisiais i Adael."}
    assert rows[second.id]["translations"] == {}
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/consultations/{cid}/open-data.zip").data))
    download = {s["id"]: s for s in json.loads(archive.read("run.json"))["statements"]}
    exported = download[rows[first.id]["export_id"]]
    assert exported["language"] == "en"
    assert exported["translations"] == {"cy": "Pleidleisiais i Adael."}
    jsonschema.validate(
        json.loads(archive.read("run.json")), json.loads(archive.read("run-v1.schema.json"))
    )


def test_a_published_run_has_an_etag_and_answers_304_while_it_is_unchanged(client, brexit, team):
    cid, run_id = brexit
    url = f"{API}/consultations/{cid}/runs/{run_id}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag == f'"{hashlib.sha256(first.data).hexdigest()[:32]}"'
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    # A moderator taking down one of its statements changes what it says, and so its ETag.
    statement = db.session.get(Statement, first.get_json()["statements"][0]["id"])
    moderate_statement(statement, accept=False)
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["statements"][0]["text"] == reports.REMOVED_TEXT
    # The statements endpoint no longer offers it.
    assert client.get(f"{API}/consultations/{cid}/statements/{statement.id}").status_code == 404


def test_runs_the_team_has_not_published_are_not_there(client, missions, team):
    consultation = open_consultation(missions)
    run = analyse(consultation.id)
    assert client.get(f"{API}/consultations/{consultation.id}/runs").get_json()["items"] == []
    error_of(client.get(f"{API}/consultations/{consultation.id}/runs/{run.id}"), 404, "not_found")
    assert (
        client.get(f"{API}/consultations/{consultation.id}").get_json()["published_run_id"] is None
    )


# -- only what the public may see ------------------------------------------------------------------


def test_only_live_statements_of_public_consultations_are_ever_listed(client, missions):
    consultation = open_consultation(
        missions,
        ("Live one.", "Taken down.", "Hidden after reports."),
        moderation_mode=ModerationMode.PRE,
    )
    live, removed, hidden = db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()
    moderate_statement(removed, accept=False)
    hidden.hidden_by_reports_at = utcnow()
    author = Participant(consultation_id=consultation.id, role=ParticipantRole.CITIZEN)
    db.session.add(author)
    db.session.flush()
    pending = write_statement(
        consultation, "Waiting for a moderator.", origin=StatementOrigin.PARTICIPANT, author=author
    )
    draft = Consultation(mission=missions["nhs"], title="A draft nobody sees")
    db.session.add(draft)
    db.session.commit()

    items = client.get(f"{API}/consultations/{consultation.id}/statements").get_json()["items"]
    assert [s["id"] for s in items] == [live.id]
    for statement in (removed, hidden, pending):
        response = client.get(f"{API}/consultations/{consultation.id}/statements/{statement.id}")
        error_of(response, 404, "not_found")
    listed = client.get(f"{API}/consultations").get_json()["items"]
    assert [c["id"] for c in listed] == [consultation.id]
    error_of(client.get(f"{API}/consultations/{draft.id}"), 404, "not_found")
    error_of(client.get(f"{API}/consultations/{draft.id}/statements"), 404, "not_found")


def test_pages_keep_their_order_when_statements_arrive_between_them(client, missions):
    consultation = open_consultation(missions, [f"Statement number {n}." for n in range(5)])
    url = f"{API}/consultations/{consultation.id}/statements"
    first = client.get(f"{url}?limit=2").get_json()
    write_statement(consultation, "Arrived while reading.", origin=StatementOrigin.SEED)
    db.session.commit()
    seen = [s["text"] for s in first["items"]]
    following = first["next"]
    while following:
        page = client.get(following).get_json()
        seen += [s["text"] for s in page["items"]]
        following = page["next"]
    assert seen == [f"Statement number {n}." for n in range(5)] + ["Arrived while reading."]
    # The next address keeps the filters it was given.
    page = client.get(f"{API}/consultations?state=open&limit=1").get_json()
    assert page["next"] is None  # one consultation: nothing more
    error_of(client.get(f"{url}?limit=101"), 422, "invalid_request")
    error_of(client.get(f"{url}?after=-1"), 422, "invalid_request")
    error_of(client.get(f"{API}/consultations?state=draft"), 422, "invalid_request")
    nowhere = error_of(client.get(f"{API}/consultations?mission=nowhere"), 422, "invalid_request")
    assert "mission" in nowhere["details"]["query"]


def test_ideas_and_their_stages(client, missions, create_user):
    author = create_user(email="nurse@example.org", name="Sam Nurse", staff_email="sam@nhs.net")
    ideas = []
    for title, shown in (("Protected breaks", False), ("Saturday clinics", True)):
        idea = Idea(
            mission=missions["nhs"],
            author=author,
            author_staff_domain="nhs.net",
            title=title,
            problem="A problem.",
            proposal="A proposal.",
            show_author_name=shown,
        )
        db.session.add(idea)
        ideas.append(idea)
    ideas[1].move_to(IdeaStage.UNDER_REVIEW, "Worth a look.", by=None)
    ideas[1].move_to(IdeaStage.BEING_TRIALLED, "Trialled on two wards.", by=None)
    db.session.commit()

    listed = every_page(client, f"{API}/ideas", limit=1)
    assert [i["title"] for i in listed] == ["Protected breaks", "Saturday clinics"]
    assert listed[0]["author"] == "a verified member of staff in the NHS"
    assert listed[0]["author_name"] is None and listed[1]["author_name"] == "Sam Nurse"
    assert listed[0]["support"] == {"staff": 0, "citizens": 0, "total": 0}
    trialled = client.get(f"{API}/ideas?stage=being_trialled&mission=nhs").get_json()["items"]
    assert [i["id"] for i in trialled] == [ideas[1].id]
    assert client.get(f"{API}/ideas?mission=growth").get_json()["items"] == []
    details = client.get(f"{API}/ideas/{ideas[1].id}").get_json()
    assert [(s["from_stage"], s["to_stage"], s["reason"]) for s in details["stages"]] == [
        ("proposed", "under_review", "Worth a look."),
        ("under_review", "being_trialled", "Trialled on two wards."),
    ]
    assert "sam@nhs.net" not in json.dumps(listed) + json.dumps(details)


# -- one error shape, limits, CORS -----------------------------------------------------------------


def test_every_error_under_the_api_has_one_shape(app, client, missions):
    error_of(client.get(f"{API}/nothing-here"), 404, "not_found")
    error_of(client.get(f"{API}/missions/nowhere"), 404, "not_found")
    not_allowed = error_of(client.delete(f"{API}/missions"), 405, "method_not_allowed")
    assert not_allowed["message"]
    assert client.delete(f"{API}/missions").headers["Allow"]
    error_of(client.get(f"{API}/missions/nh%00s"), 400, "bad_request")
    # Ids beyond the database's integer are "not found" on every API route with one, whatever
    # the method (tests/test_bad_requests.py does the same for the site's pages).
    routes = int_routes(app, api=True)
    assert len(routes) >= 10
    for too_large in (HUGE, str(DATABASE_INT_MAX + 1)):
        for method, path in routes:
            url = re.sub(r"<int:[^>]+>", too_large, path)
            error_of(client.open(url, method=method), 404, "not_found")
    # The site's own pages keep their HTML error page.
    assert "text/html" in client.get("/nothing-here").content_type


def test_reads_are_rate_limited_with_retry_after(database_url, _migrated, tmp_path, missions):
    app = make_test_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, API_READ_LIMIT="2 per minute"
    )
    client = app.test_client()
    assert [client.get(f"{API}/missions").status_code for _ in range(2)] == [200, 200]
    response = client.get(f"{API}/missions")
    error_of(response, 429, "too_many_requests")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # Another address has its own allowance.
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert elsewhere.get(f"{API}/missions").status_code == 200


def test_any_site_may_read_but_no_site_may_write(client, missions, create_user):
    consultation = open_consultation(missions)
    origin = {"Origin": "https://council.example"}
    read = client.get(f"{API}/consultations/{consultation.id}/statements", headers=origin)
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in read.headers
    assert "ETag" in read.headers["Access-Control-Expose-Headers"]
    preflight = client.options(
        f"{API}/consultations/{consultation.id}/statements",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]
    secret = token_for(create_user(email="p@example.org"))
    statement_id = client.get(f"{API}/consultations/{consultation.id}/statements").get_json()[
        "items"
    ][0]["id"]
    write = client.post(
        f"{API}/consultations/{consultation.id}/votes",
        json={"statement_id": statement_id, "choice": "agree"},
        headers={**origin, **bearer(secret)},
    )
    assert write.status_code == 200
    assert "Access-Control-Allow-Origin" not in write.headers
    assert write.headers["Cache-Control"] == "no-store"


def test_the_openapi_document_holds_the_api_only_and_the_docs_page_draws_it(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["info"]["title"] == "Deliberate API"
    assert document["paths"] and all(path.startswith(f"{API}/") for path in document["paths"])
    assert document["components"]["securitySchemes"]["personal_api_token"]["scheme"] == "bearer"
    votes = document["paths"][f"{API}/consultations/{{consultation_id}}/votes"]["post"]
    assert votes["security"] == [{"personal_api_token": []}]
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")

    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = html_of(page)
    assert "<script>" not in html and " style=" not in html
    words = text_of(html)
    for path, item in document["paths"].items():
        for method in item.keys() - {"parameters"}:
            assert f"{method.upper()} {path}" in words, (method, path)
    assert "Needs a personal API token" in words
    assert 'href="#schema-Submission"' in html and 'id="schema-Submission"' in html


# -- personal API tokens on the account page -------------------------------------------------------


def test_a_token_is_made_on_the_account_page_shown_once_stored_hashed_and_revoked(
    app, client, create_user, missions
):
    person = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    response = submit_form(
        client, "/account", {"name": "  My   weekly  script "}, action="/account/api-tokens"
    )
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    secret = re.search(r'id="new-api-token-value">([^<]+)<', page).group(1)
    assert secret.startswith("dlb_") and len(secret) > 40
    assert "Copy this token now: it is shown only this once" in text_of(page)
    again = html_of(client.get("/account"))
    assert secret not in again and "My weekly script" in text_of(again)

    [token] = db.session.scalars(select(ApiToken)).all()
    assert (token.user_id, token.name) == (person.id, "My weekly script")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.last_used_at is None

    consultation = open_consultation(missions)
    statement = db.session.scalar(
        select(Statement.id).where(Statement.consultation_id == consultation.id)
    )
    ok = client.post(
        f"{API}/consultations/{consultation.id}/votes",
        json={"statement_id": statement, "choice": "pass"},
        headers=bearer(secret),
    )
    assert ok.status_code == 200
    db.session.refresh(token)
    assert token.last_used_at is not None
    assert "Never" not in text_of(html_of(client.get("/account")))

    revoke_page = f"/account/api-tokens/{token.id}/revoke"
    assert "Revoke the API token “<bdi>My weekly script</bdi>”" in html_of(client.get(revoke_page))
    assert (
        client.post(
            revoke_page, data={"csrf_token": csrf_token_from(html_of(client.get(revoke_page)))}
        ).status_code
        == 400
    )
    response = submit_form(client, revoke_page, {"confirm": "yes"})
    assert response.status_code == 303
    assert "has been revoked" in text_of(html_of(client.get(response.headers["Location"])))
    assert "You have no API tokens." in text_of(html_of(client.get("/account")))
    assert client.get(revoke_page).status_code == 404  # revoked already
    refused = client.post(
        f"{API}/consultations/{consultation.id}/votes",
        json={"statement_id": statement, "choice": "agree"},
        headers=bearer(secret),
    )
    error_of(refused, 401, "invalid_token")
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.target_type == "api_token")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["api_token.created", "api_token.revoked"]
    # Someone else can neither see nor revoke it.
    create_user(email="lee@example.org")
    other = app.test_client()
    sign_in(other, "lee@example.org")
    token.revoked_at = None
    db.session.commit()
    assert other.get(revoke_page).status_code == 404
    assert "My weekly script" not in html_of(other.get("/account"))


def test_a_token_needs_a_name_of_a_hundred_characters_at_most(client, create_user):
    create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    for name, problem in (
        ("   ", "Enter a name for the token"),
        ("x" * 101, "Name must be 100 characters or fewer"),
    ):
        response = submit_form(client, "/account", {"name": name}, action="/account/api-tokens")
        assert response.status_code == 400
        assert problem in text_of(html_of(response))
    assert count(ApiToken) == 0


def test_deleting_the_account_deletes_its_tokens_and_my_data_lists_them(
    client, create_user, missions
):
    person = create_user(email="asha@example.org")
    secret = token_for(person, "Old script")
    sign_in(client, "asha@example.org")
    data = client.get("/account/my-data.json").get_json()
    assert [t["name"] for t in data["api_tokens"]] == ["Old script"]
    assert secret not in json.dumps(data)
    assert (
        submit_form(client, "/account/delete", {"password": "correct horse battery"}).status_code
        == 302
    )
    assert count(ApiToken) == 0


# -- writing with a token --------------------------------------------------------------------------


@pytest.fixture
def care(missions) -> Consultation:
    return open_consultation(
        missions, ("Clinics should open on Saturdays.", "Waiting times should be published.")
    )


def statement_ids(consultation: Consultation) -> list[int]:
    return db.session.scalars(
        select(Statement.id)
        .where(Statement.consultation_id == consultation.id)
        .order_by(Statement.id)
    ).all()


def test_answering_and_adding_a_statement_as_the_tokens_owner(client, care, create_user):
    nurse = create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    secret = token_for(nurse)
    first, second = statement_ids(care)
    url = f"{API}/consultations/{care.id}"
    response = client.post(
        f"{url}/votes", json={"statement_id": first, "choice": "agree"}, headers=bearer(secret)
    )
    assert response.get_json() == {"statement_id": first, "choice": "agree", "changed": True}
    again = client.post(
        f"{url}/votes", json={"statement_id": first, "choice": "agree"}, headers=bearer(secret)
    )
    assert again.get_json()["changed"] is False
    client.post(
        f"{url}/votes", json={"statement_id": first, "choice": "disagree"}, headers=bearer(secret)
    )
    [participant] = db.session.scalars(select(Participant)).all()
    assert (participant.user_id, participant.role) == (nurse.id, ParticipantRole.STAFF)
    assert count(VoteEvent) == 2 and db.session.scalar(select(Vote.choice)) == -1

    response = client.post(
        f"{url}/statements", json={"text": "  Evening phone lines.  "}, headers=bearer(secret)
    )
    assert response.status_code == 201
    posted = response.get_json()
    assert posted["status"] == "live" and posted["held_url"] is None
    statement = db.session.get(Statement, posted["statement_id"])
    assert (statement.text, statement.author_id) == ("Evening phone lines.", participant.id)
    assert (
        count(Vote, Vote.statement_id == statement.id, Vote.choice == 1) == 1
    )  # its author agrees
    listed = client.get(f"{url}/statements").get_json()["items"]
    assert [s["id"] for s in listed] == [first, second, statement.id]
    # The same person on the site is the same participant.
    sign_in(client, "nurse@example.org")
    assert "Evening phone lines." in text_of(
        html_of(client.get(f"/consultations/{care.id}/answers"))
    )


def test_under_pre_moderation_a_statement_waits_for_a_moderator(client, missions, create_user):
    consultation = open_consultation(missions, moderation_mode=ModerationMode.PRE)
    secret = token_for(create_user(email="p@example.org"))
    url = f"{API}/consultations/{consultation.id}/statements"
    response = client.post(url, json={"text": "Open the clinics at night."}, headers=bearer(secret))
    assert response.status_code == 201
    assert response.get_json()["status"] == "awaiting_moderation"
    assert "Open the clinics at night." not in client.get(url).get_data(as_text=True)


def test_each_write_refuses_bad_input_in_the_one_error_shape(client, care, missions, create_user):
    person = create_user(email="p@example.org")
    secret = token_for(person)
    first, _ = statement_ids(care)
    votes, statements = (
        f"{API}/consultations/{care.id}/votes",
        f"{API}/consultations/{care.id}/statements",
    )

    def vote(body, headers=None):
        return client.post(votes, json=body, headers=bearer(secret) if headers is None else headers)

    def add(text):
        return client.post(statements, json={"text": text}, headers=bearer(secret))

    # Unknown statement, or one of another consultation: 404.
    other = open_consultation(missions, ("Another question's statement.",))
    for statement_id in (DATABASE_INT_MAX, statement_ids(other)[0]):
        error_of(
            vote({"statement_id": statement_id, "choice": "agree"}), 404, "statement_not_found"
        )
    # A statement the moderators removed: not votable.
    moderate_statement(db.session.get(Statement, first), accept=False)
    db.session.commit()
    error_of(vote({"statement_id": first, "choice": "agree"}), 409, "statement_not_votable")
    # Bodies that do not fit the schema: 422 with the fields in details.
    for body in (
        {},
        {"statement_id": "1", "choice": "agree"},
        {"statement_id": 1, "choice": "maybe"},
        {"statement_id": 1, "choice": "agree", "extra": 1},
    ):
        assert "json" in error_of(vote(body), 422, "invalid_request")["details"]
    error_of(
        client.post(
            votes, data="{not json", content_type="application/json", headers=bearer(secret)
        ),
        400,
        "bad_request",
    )
    # Over-long, empty or wordless text: 422, saying why, next to the field.
    for text, problem in (
        ("x" * 1001, "Statement must be 1000 characters or fewer"),
        ("", "Enter your statement"),  # (and: "Statement must contain words...")
        ("   ", "Statement must contain words, not only punctuation or symbols"),
        ("?!", "Statement must contain words, not only punctuation or symbols"),
    ):
        refused = error_of(add(text), 422, "invalid_request")
        assert refused["details"]["json"]["text"][0] == problem, text
    assert add("y" * 1000).status_code == 201
    error_of(
        client.post(
            statements,
            data=b'{"text": "\\ud800"}',
            content_type="application/json",
            headers=bearer(secret),
        ),
        422,
        "invalid_request",
    )
    # A duplicate: 409, naming the statement to vote on instead.
    duplicate = error_of(add("waiting times should be PUBLISHED"), 409, "duplicate_statement")
    assert duplicate["details"] == {"statement_id": statement_ids(care)[1]}
    # A closed consultation: 409 for both writes.
    care.close()
    db.session.commit()
    error_of(
        vote({"statement_id": statement_ids(care)[1], "choice": "agree"}),
        409,
        "consultation_closed",
    )
    closed = error_of(add("A new point entirely."), 409, "consultation_closed")
    assert "closed" in closed["message"]
    assert count(Vote) == 1  # the author's agreement with the long statement, nothing else


def test_no_token_an_unknown_or_a_revoked_one_is_401_and_a_session_cookie_is_not_enough(
    app, client, care, create_user
):
    person = create_user(email="p@example.org")
    first = statement_ids(care)[0]
    votes = f"{API}/consultations/{care.id}/votes"
    body = {"statement_id": first, "choice": "agree"}

    error = error_of(client.post(votes, json=body), 401, "token_required")
    assert (
        client.post(votes, json=body).headers["WWW-Authenticate"] == 'Bearer realm="Deliberate API"'
    )
    unknown = client.post(votes, json=body, headers=bearer("dlb_not-a-token"))
    error_of(unknown, 401, "invalid_token")
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    error_of(
        client.post(votes, json=body, headers={"Authorization": "Basic cDpx"}),
        401,
        "token_required",
    )

    secret = token_for(person)
    token = db.session.scalar(select(ApiToken))
    api_tokens.revoke_token(person, token)
    db.session.commit()
    revoked = error_of(client.post(votes, json=body, headers=bearer(secret)), 401, "invalid_token")
    assert revoked["message"] == "This API token has been revoked."

    # Signed in to the site, with the session cookie and a valid CSRF token: still refused.
    sign_in(client, "p@example.org")
    csrf = csrf_token_from(html_of(client.get("/account")))
    error_of(client.post(votes, json=body, headers={"X-CSRFToken": csrf}), 401, "token_required")
    error_of(client.post(votes, data={**body, "csrf_token": csrf}), 401, "token_required")
    error_of(
        client.post(f"{API}/consultations/{care.id}/statements", json={"text": "Cookie only."}),
        401,
        "token_required",
    )
    assert count(Vote) == 0 and count(Participant) == 0
    assert error["message"].startswith("This needs a personal API token")


def test_the_api_and_the_site_share_one_allowance_per_person(
    database_url, _migrated, tmp_path, care, create_user
):
    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = app.test_client()
    secret = token_for(create_user(email="p@example.org"))
    url = f"{API}/consultations/{care.id}/statements"
    statuses = [
        client.post(
            url, json={"text": f"Statement number {n}."}, headers=bearer(secret)
        ).status_code
        for n in range(5)
    ]
    assert statuses == [201] * 5
    limited = client.post(url, json={"text": "One too many."}, headers=bearer(secret))
    error_of(limited, 429, "too_many_requests")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # The same person on the site has used up the same allowance.
    sign_in(client, "p@example.org")
    page = f"/consultations/{care.id}"
    assert (
        submit_form(client, page, {"text": "From the site."}, action=f"{page}/comments").status_code
        == 429
    )


# -- comments held for the similar-statement check -------------------------------------------------


def stop_background_jobs(app) -> None:
    """As when no worker runs: the check is queued but nobody takes it (no model loads here)."""
    app.extensions["deliberate_jobs"].shutdown()
    jobs.runner().shutdown()


def embed_something(consultation: Consultation) -> None:
    """A stored vector, so the consultation has something to compare new comments with."""
    embeddings.store_vectors(
        "fixed-test-vectors", statement_ids(consultation)[:1], np.eye(4, dtype=np.float32)[:1]
    )
    db.session.commit()


def test_a_held_statement_is_202_then_followed_and_posted_by_its_author_alone(
    app, client, care, create_user
):
    embed_something(care)
    stop_background_jobs(app)
    author = create_user(email="author@example.org")
    secret = token_for(author)
    url = f"{API}/consultations/{care.id}/statements"

    response = client.post(
        url, json={"text": "Police the car parks at night."}, headers=bearer(secret)
    )
    assert response.status_code == 202
    held = response.get_json()
    assert held["status"] == "checking" and held["statement_id"] is None
    assert response.headers["Location"] == held["held_url"]
    assert (
        held["held_url"]
        == f"http://deliberate.test{API}/consultations/{care.id}/held-statements/{held['held_id']}"
    )
    assert client.get(held["held_url"], headers=bearer(secret)).get_json()["status"] == "checking"
    assert count(Statement, Statement.text == "Police the car parks at night.") == 0
    # Nobody else may follow or post it: not another account's token, not without a token.
    stranger = token_for(create_user(email="stranger@example.org"))
    error_of(client.get(held["held_url"], headers=bearer(stranger)), 404, "not_found")
    error_of(client.post(held["held_url"], headers=bearer(stranger)), 404, "not_found")
    error_of(client.get(held["held_url"]), 401, "token_required")

    # The check (the background job) finds statements close to it: they are offered to vote on.
    check = db.session.get(SimilarityCheck, held["held_id"])
    close = statement_ids(care)[1]
    check.status, check.similar = CheckStatus.SIMILAR, [{"statement_id": close, "similarity": 0.9}]
    db.session.commit()
    similar = client.get(held["held_url"], headers=bearer(secret)).get_json()
    assert similar["status"] == "similar" and [s["id"] for s in similar["similar"]] == [close]
    # Posting anyway, as the site's button does.
    posted = client.post(held["held_url"], headers=bearer(secret))
    assert posted.status_code == 201 and posted.get_json()["status"] == "live"
    statement = db.session.get(Statement, posted.get_json()["statement_id"])
    assert (
        statement.text == "Police the car parks at night." and statement.author.user_id == author.id
    )
    assert count(SimilarityCheck) == 0
    error_of(client.get(held["held_url"], headers=bearer(secret)), 404, "not_found")


def test_a_held_statement_with_nothing_close_is_posted_when_next_asked_about(
    app, client, care, create_user
):
    embed_something(care)
    stop_background_jobs(app)
    secret = token_for(create_user(email="author@example.org"))
    held = client.post(
        f"{API}/consultations/{care.id}/statements",
        json={"text": "A point nobody made."},
        headers=bearer(secret),
    ).get_json()
    check = db.session.get(SimilarityCheck, held["held_id"])
    check.status = CheckStatus.CLEAR
    db.session.commit()
    answer = client.get(held["held_url"], headers=bearer(secret))
    assert answer.status_code == 200 and answer.get_json()["status"] == "live"
    assert count(Statement, Statement.text == "A point nobody made.") == 1


def test_a_held_statement_refused_on_posting_is_dropped_saying_why(app, client, care, create_user):
    embed_something(care)
    stop_background_jobs(app)
    secret = token_for(create_user(email="author@example.org"))
    held = client.post(
        f"{API}/consultations/{care.id}/statements",
        json={"text": "Late surgeries."},
        headers=bearer(secret),
    ).get_json()
    care.close()
    db.session.commit()
    error_of(client.post(held["held_url"], headers=bearer(secret)), 409, "refused")
    assert count(SimilarityCheck) == 0


@pytest.mark.model
def test_with_the_real_model_a_paraphrase_is_held_and_shown_its_original(
    app, client, missions, create_user
):
    original = (
        "Have community police officers in schools create a rapport with the young people to "
        "build up trust and provide accountability, in all areas."
    )  # london.youth.policing, CC BY 4.0, The Computational Democracy Project
    consultation = open_consultation(missions, (original, "Diversity in policing"))
    embeddings.request_embedding(consultation.id)
    from tests.helpers import run_background_jobs

    run_background_jobs(app)
    secret = token_for(create_user(email="author@example.org"))
    paraphrase = (
        "Put community police officers in schools so young people can build trust with them"
    )
    response = client.post(
        f"{API}/consultations/{consultation.id}/statements",
        json={"text": paraphrase},
        headers=bearer(secret),
    )
    assert response.status_code == 202
    run_background_jobs(app)
    similar = client.get(response.get_json()["held_url"], headers=bearer(secret)).get_json()
    assert similar["status"] == "similar"
    assert [s["text"] for s in similar["similar"]] == [original]
