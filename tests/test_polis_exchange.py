"""Importing real Polis exports as consultations and exporting them back, id for id."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import Consultation, ModerationStatus, Participant, Statement, Vote
from deliberate.polis_format import read_export
from tests.helpers import POLIS_DATA


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=["deliberate", *args])
    return result


def final_votes(export) -> set[tuple[int, int, int]]:
    return {(v.voter_id, v.comment_id, v.vote) for v in export.votes}


@pytest.mark.parametrize("name", ["london.youth.policing", "15-per-hour-seattle"])
def test_import_then_export_reproduces_every_final_vote_id_for_id(app, missions, tmp_path, name):
    result = run(app, "import-polis", str(POLIS_DATA / name), "--mission", "safer-streets")
    assert result.exit_code == 0, result.output
    consultation_id = int(result.output.strip().splitlines()[-1])
    consultation = db.session.get(Consultation, consultation_id)
    assert consultation.mission.slug == "safer-streets"
    assert consultation.state.value == "closed"
    assert "CC BY 4.0" in consultation.source_attribution
    assert "compdemocracy.org/case-studies" in consultation.source_url

    source = read_export(POLIS_DATA / name)
    out = run(app, "export-polis", str(consultation_id), str(tmp_path / "out"))
    assert out.exit_code == 0, out.output
    exported = read_export(tmp_path / "out")
    assert final_votes(exported) == final_votes(source)
    assert {(c.comment_id, c.text, c.moderated) for c in exported.comments} == {
        (c.comment_id, c.text, c.moderated) for c in source.comments
    }


def test_rejected_comments_are_imported_as_rejected_with_their_votes(app, missions):
    result = run(app, "import-polis", str(POLIS_DATA / "15-per-hour-seattle"))
    consultation_id = int(result.output.strip().splitlines()[-1])
    source = read_export(POLIS_DATA / "15-per-hour-seattle")
    rejected = {c.comment_id for c in source.comments if c.moderated == -1}
    assert len(rejected) == 23
    stored = db.session.scalars(
        select(Statement.source_id).where(
            Statement.consultation_id == consultation_id,
            Statement.moderation == ModerationStatus.REJECTED,
        )
    ).all()
    assert set(stored) == rejected
    votes_on_rejected = sum(1 for v in source.votes if v.comment_id in rejected)
    assert votes_on_rejected > 0
    stored_votes = db.session.scalar(
        select(func.count(Vote.id))
        .join(Statement, Statement.id == Vote.statement_id)
        .where(
            Statement.consultation_id == consultation_id,
            Statement.moderation == ModerationStatus.REJECTED,
        )
    )
    assert stored_votes == votes_on_rejected


def test_importing_the_same_folder_twice_duplicates_nothing(app, missions):
    first = run(app, "import-polis", str(POLIS_DATA / "london.youth.policing"))
    second = run(app, "import-polis", str(POLIS_DATA / "london.youth.policing"))
    assert "Already imported" in second.output
    assert first.output.strip().splitlines()[-1] == second.output.strip().splitlines()[-1]
    assert db.session.scalar(select(func.count(Consultation.id))) == 1
    source = read_export(POLIS_DATA / "london.youth.policing")
    voters = {v.voter_id for v in source.votes}
    authors = {c.author_id for c in source.comments}
    assert len(voters) == 26 and len(authors - voters) == 1  # one author never voted
    assert db.session.scalar(select(func.count(Participant.id))) == 27


def test_a_malformed_file_names_file_and_line_and_imports_nothing(app, missions, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(POLIS_DATA / "london.youth.policing", folder)
    votes = (folder / "votes.csv").read_text().splitlines()
    votes[5] = votes[5].rsplit(",", 1)[0] + ",7"
    (folder / "votes.csv").write_text("\n".join(votes) + "\n")
    result = run(app, "import-polis", str(folder))
    assert result.exit_code != 0
    assert "votes.csv" in result.output and "line 6" in result.output
    assert "Nothing was imported" in result.output
    assert db.session.scalar(select(func.count(Consultation.id))) == 0
    assert db.session.scalar(select(func.count(Statement.id))) == 0


def test_unknown_mission_is_refused(app, missions):
    result = run(app, "import-polis", str(POLIS_DATA / "london.youth.policing"), "--mission", "x")
    assert result.exit_code != 0 and "No mission 'x'" in result.output


def test_an_imported_consultation_carries_its_attribution_on_its_page(app, missions, client):
    result = run(app, "import-polis", str(POLIS_DATA / "brexit-consensus"), "--mission", "growth")
    consultation_id = int(result.output.strip().splitlines()[-1])
    html = client.get(f"/consultations/{consultation_id}").get_data(as_text=True)
    assert "sub-licensed under CC BY 4.0 with Attribution to The Computational Democracy" in html
    assert 'href="https://compdemocracy.org/case-studies/2017-brexit-consensus"' in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in html
    assert "This consultation closed on" in html and "2017" in html.split("closed on")[1][:30]
