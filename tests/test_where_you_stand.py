"""Where you stand: one person's place among a published run's opinion groups, from the stored run.

The placement must be the analysis's own: on a real analysed conversation, projecting every
participant's answers in pure Python reproduces their stored place and group.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import Vote
from deliberate.reporting.placement import Verdict, nearest_groups, place, project


def current_answers(consultation_id: int) -> dict[int, dict[int, int]]:
    answers: dict[int, dict[int, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Vote.participant_id, Vote.statement_id, Vote.choice).where(
            Vote.consultation_id == consultation_id
        )
    )
    for pid, sid, choice in rows:
        answers[pid][sid] = choice
    return answers


def test_the_projection_reproduces_every_stored_place_and_group(app, brexit_analysed):
    votes = read_findings(brexit_analysed.results).votes
    m = votes.opinion_map
    assert m is not None and m.components is not None and m.clustered is not None
    answers = current_answers(brexit_analysed.consultation_id)
    checked = clustered = assigned = 0
    for i, pid in enumerate(m.participant_ids):
        if m.x[i] is None:
            assert project(votes, answers.get(pid, {})) is None
            continue
        x, y = project(votes, answers[pid])
        assert x == pytest.approx(m.x[i], abs=1e-6)
        assert y == pytest.approx(m.y[i], abs=1e-6)
        stored = place(votes, answers[pid], pid)
        fresh = place(votes, answers[pid])  # as a newcomer with the same answers
        if m.clustered[i]:
            assert stored.stored
            clustered += 1
            assert stored.verdict is Verdict.IN_GROUP
            assert stored.group == m.group[i]
            assert fresh.group == m.group[i]  # the refined groups are nearest-centre groups
        elif stored.placed:
            assert stored.stored
            assert stored.group == m.assigned_group[i]
            assert fresh.group == m.assigned_group[i]
            assert stored.verdict in (Verdict.CLOSEST, Verdict.UNCLEAR)
        else:  # too few answers: the analysis left them out of the groups, and so do we
            assert nearest_groups(votes, (x, y))[0].id == m.assigned_group[i]
            assigned += 1
            assert stored.verdict is Verdict.CANNOT_PLACE and stored.answers_needed > 0
        checked += 1
    assert checked > 150 and clustered > 100 and assigned > 5
