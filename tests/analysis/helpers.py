"""Test data for the analysis tests: synthetic votes with a known answer, and real Polis data."""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pytest

from deliberate.analysis import VoteMatrix
from tests.helpers import POLIS_DATA


@dataclass(frozen=True)
class PolisConversation:
    votes: VoteMatrix
    polis_group: np.ndarray  # -1 where Polis did not cluster the participant
    texts: dict[int, str]


def load_polis(name: str) -> PolisConversation:
    """The final vote matrix of a real conversation; moderated-out (-1) comments are zeroed."""
    folder = POLIS_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real Polis data not found at {folder}")
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        comments = list(csv.DictReader(f))
    moderated = {row["comment-id"]: row["moderated"].strip() == "-1" for row in comments}
    texts = {int(row["comment-id"]): row["comment-body"] for row in comments}
    with open(folder / "participants-votes.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        first, gcol = header.index("n-disagree") + 1, header.index("group-id")
        cids = header[first:]
        r, c, v, groups, pids = [], [], [], [], []
        for i, row in enumerate(reader):
            pids.append(row[0])
            groups.append(int(row[gcol]) if row[gcol].strip() else -1)
            for j, cell in enumerate(row[first:]):
                if cell.strip():
                    r.append(i)
                    c.append(j)
                    v.append(int(float(cell)))
    votes = VoteMatrix.from_triples(
        r,
        c,
        v,
        participant_ids=pids,
        statement_ids=[int(x) for x in cids],
        moderated_out=[moderated.get(x, False) for x in cids],
    )
    return PolisConversation(votes, np.array(groups), texts)


def planted(
    n_per_group: tuple[int, ...] = (60, 50, 40),
    n_statements: int = 40,
    seen: float = 0.7,
    seed: int = 0,
) -> tuple[VoteMatrix, np.ndarray]:
    """Groups with opposite leanings on random statements; each voter sees a random 70%."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(n_per_group)), n_per_group)
    leaning = rng.choice([0.1, 0.9], size=(len(n_per_group), n_statements))
    p = leaning[truth]
    u = rng.random(p.shape)
    dense = np.where(u < p * 0.9, 1.0, np.where(u > 0.9, 0.0, -1.0))
    dense[rng.random(p.shape) > seen] = np.nan
    return VoteMatrix.from_dense(dense), truth
