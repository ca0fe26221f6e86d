"""Group counts for testing claims: each statement against groups found without it.

Groups found by clustering the votes and then tested on the same votes differ by construction
("double dipping"): on votes with no structure, 43-59 of 60 statements came out "divisive" at
q <= 0.1. Splitting the *people* in halves does not cure it, because a held-out person's group is
still read off their own votes. Splitting the *statements* does: the active statements are dealt
into ``folds`` folds; for each fold the same pipeline (same k) clusters the people on the other
statements only, and the statements of the fold are counted against those groups, renumbered to
overlap the published groups the most. When a statement carries no structure shared with the
others, its answers are independent of the groups it is tested against, so its p-values are
honest; when the groups are real, the groups found without one fold of statements are nearly the
same people (``label_agreement``), so little power is lost. The published groups, their sizes and
their counts stay those of the full clustering (as Polis'); only the tests use these counts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deliberate.analysis.opinion_groups import (
    GroupParameters,
    NotEnoughData,
    OpinionGroups,
    VoteMatrix,
    compute_opinion_groups,
    relabel_to_match,
)
from deliberate.analysis.statement_stats import GroupCounts

HELD_OUT_STATEMENTS = "held-out-statements"  # claims tested against groups found without them
SAME_VOTES = "same-votes"  # claims tested on the votes that made the groups (before version 2)


@dataclass(frozen=True)
class HeldOutCounts:
    """Per group and statement, the votes counted against groups found without that statement."""

    counts: GroupCounts  # a statement whose held-out clustering failed has no votes: untested
    folds: int
    label_agreement: float  # mean share of clustered people in the same group as published
    untested_statements: int  # active statements left untested (their fold gave no k groups)


def statement_folds(
    moderated_out: npt.NDArray[np.bool_], folds: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """A random fold 0..folds-1 for each active statement, as even as possible; -1 if moderated."""
    active = np.flatnonzero(~moderated_out)
    out = np.full(len(moderated_out), -1, dtype=np.int64)
    out[rng.permutation(active)] = np.arange(len(active)) % folds
    return out


def held_out_counts(
    votes: VoteMatrix,
    groups: OpinionGroups,
    params: GroupParameters,
    *,
    folds: int = 5,
    seed: int | None = None,
) -> HeldOutCounts:
    """Count every statement's votes against the groups found without its fold of statements.

    The fold's statements are treated as moderated out, so the clustering sees who voted on them
    (as it always does: it counts engagement) but not how.
    """
    k = groups.k
    m = votes.n_statements
    folds = max(2, min(folds, int((~votes.moderated_out).sum())))
    rng = np.random.default_rng(params.seed + 104729 if seed is None else seed)
    fold_of = statement_folds(votes.moderated_out, folds, rng)
    agree = np.zeros((k, m), dtype=np.int64)
    disagree = np.zeros((k, m), dtype=np.int64)
    seen = np.zeros((k, m), dtype=np.int64)
    agreement: list[float] = []
    untested = 0
    for fold in range(folds):
        cols = fold_of == fold
        without = dataclasses.replace(votes, moderated_out=votes.moderated_out | cols)
        try:
            found = compute_opinion_groups(without, params, k=k)
        except NotEnoughData:
            found = None
        if found is None or found.k != k:
            untested += int(cols.sum())
            continue
        labels = relabel_to_match(found.labels, groups.labels, k)
        clustered = groups.labels >= 0
        agreement.append(float(np.mean(labels[clustered] == groups.labels[clustered])))
        c = GroupCounts.from_labels(votes, labels, k)
        agree[:, cols], disagree[:, cols], seen[:, cols] = (
            c.agree[:, cols],
            c.disagree[:, cols],
            c.seen[:, cols],
        )
    return HeldOutCounts(
        counts=GroupCounts(agree, disagree, seen),
        folds=folds,
        label_agreement=float(np.mean(agreement)) if agreement else float("nan"),
        untested_statements=untested,
    )
