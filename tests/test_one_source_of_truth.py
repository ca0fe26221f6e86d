"""Every page that states a finding reads it from the same stored, tested result.

The bug this guards against: the mission page and the team's compare-rounds page once counted
"agreed by a majority of every group" from raw majorities while the report only counted statements
whose stored test passed, so the public site contradicted itself (6 of 14 against 3).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from deliberate.demo import NO_GROUPS_KEY
from deliberate.extensions import db
from deliberate.findings import SCHEMA_VERSION, UnknownSchema, read_findings
from deliberate.models import AnalysisRun, Consultation, Mission
from deliberate.services import reports
from tests.helpers import load_demo, sign_in

COUNT = re.compile(r'data-agreed-by-every-group="(\d+)"[^>]*>\s*([^<]*?)\s*<')


def counts_on(html: str) -> dict[int, str]:
    """Run id -> the "agreed by every group" figure as the page words it."""
    found: dict[int, str] = {}
    for run_id, words in COUNT.findall(html):
        assert found.setdefault(int(run_id), words) == words, "one page, two figures for a run"
    return found


def leading_number(words: str) -> int:
    match = re.match(r"([\d,]+) of ", words)
    assert match, f"not a count: {words!r}"
    return int(match.group(1).replace(",", ""))


@pytest.mark.model
@pytest.mark.demo
@pytest.mark.slow
def test_every_page_states_the_same_tested_count_of_statements_every_group_agreed_with(app, client):
    load_demo(app)
    published = {
        c.id: reports.published_run(c.id)
        for c in db.session.scalars(select(Consultation).order_by(Consultation.id))
    }
    published = {cid: run for cid, run in published.items() if run is not None}
    assert len(published) >= 8  # the real conversations, both demo rounds, the one without groups

    mission_pages = {
        m.slug: counts_on(client.get(f"/missions/{m.slug}").get_data(as_text=True))
        for m in db.session.scalars(select(Mission))
    }
    on_missions = {rid: w for page in mission_pages.values() for rid, w in page.items()}

    sign_in(client, "team@example.org", "demo passphrase 2026")
    checked = 0
    for cid, run in published.items():
        stored = json.loads(
            client.get(f"/consultations/{cid}/report/runs/{run.id}/results.json").data
        )["results"]
        assert stored["schema_version"] == SCHEMA_VERSION
        findings = read_findings(stored)
        test = findings.votes.groups_test
        if not findings.votes.ok or (test is not None and test.no_clear_groups):
            continue
        expected = stored["votes"]["n_consensus"]["agree"]
        assert findings.votes.n_consensus_agree == expected
        # Every quoted statement passed the test; the count includes those not quoted.
        assert expected >= len(findings.votes.consensus_agree)
        assert all(c.q_value <= findings.votes.alpha for c in findings.votes.consensus_agree)

        report = counts_on(client.get(f"/consultations/{cid}/report").get_data(as_text=True))
        assert leading_number(report[run.id]) == expected
        assert leading_number(on_missions[run.id]) == expected
        checked += 1

        consultation = db.session.get(Consultation, cid)
        if consultation.previous_round_id is not None:
            compare = client.get(f"/manage/consultations/{cid}/compare").get_data(as_text=True)
            on_compare = counts_on(compare)
            assert leading_number(on_compare[run.id]) == expected
            earlier = reports.published_run(consultation.previous_round_id)
            earlier_count = read_findings(
                db.session.get(AnalysisRun, earlier.id).results
            ).votes.n_consensus_agree
            assert leading_number(on_compare[earlier.id]) == earlier_count
    # The real conversations and both demo rounds keep their groups; london.youth.policing (24
    # people clustered) and the demo built without groups do not.
    assert checked >= 6

    # The demo consultation built with no opinion groups (independent answers) says so, and
    # makes no claim about groups: no group names, no divisions, no group views.
    no_groups = db.session.scalar(
        select(Consultation).where(Consultation.source_key == NO_GROUPS_KEY)
    )
    html = client.get(f"/consultations/{no_groups.id}/report").get_data(as_text=True)
    assert "data-no-clear-groups" in html and "No clear opinion groups" in html
    summary = html[html.index('id="in-brief"') : html.index('id="key-figures"')]
    assert "There are no clear opinion groups" in summary
    assert "Group A" not in html and 'data-rule="division"' not in html
    assert 'data-rule="group_views"' not in html


def test_a_run_from_an_unknown_schema_version_is_refused_with_a_clear_error():
    with pytest.raises(UnknownSchema, match="schema version 99"):
        read_findings({"schema_version": 99, "votes": {}})


def test_an_old_run_whose_quoted_list_was_cut_short_does_not_claim_a_total():
    consensus = [
        {"statement_id": i, "direction": "agree", "group_counts": [[9, 10]], "q_value": 0.01}
        for i in range(5)
    ]
    old = {
        "votes": {"status": "ok", "parameters": {"max_consensus": 5}, "consensus_agree": consensus}
    }
    assert read_findings(old).votes.n_consensus_agree is None
    fewer = {
        "votes": {
            "status": "ok",
            "parameters": {"max_consensus": 5},
            "consensus_agree": consensus[:2],
        }
    }
    assert read_findings(fewer).votes.n_consensus_agree == 2
