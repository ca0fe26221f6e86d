"""Do the opinion groups exist? A permutation test of the clustering against "no structure".

k-means always returns groups, even from votes with no structure at all: on 1,000 people x 60
statements voting at random with each statement's own agree rate, the pipeline reported 3 groups in
every run. So before groups are published, the separation of the clustering (the participant-
weighted silhouette of the chosen k) is compared with its distribution over permuted matrices in
which each statement's answers are shuffled among the people who saw it: every statement keeps its
answer rates and its audience, every person their number of answers, and the links between
statements (which are what opinion groups are made of) are broken. Each permuted matrix goes
through the same pipeline, the choice of k included, so the test accounts for that choice.

Sequential design, so that clear cases stop early (two looks, total error ``alpha``):
- after ``first_look`` = 2/alpha - 1 permutations (39 at 5%), groups are beyond chance if no
  permutation separated as well (p = 1/40, half of alpha spent);
- otherwise up to ``permutations``, beyond chance if (1 + h) / (1 + n) <= alpha / 2 with h the
  permutations that separated at least as well; as soon as h exceeds what that allows, the run
  stops (Besag & Clifford 1991) and its p-value is h / n.
A chosen k above 2 must also beat the null of the same k (the silhouette of k groups in each
permuted matrix), not only k - 1; if it does not, the largest smaller k that does is kept.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from deliberate.analysis.opinion_groups import (
    TOO_SMALL,
    GroupParameters,
    OpinionGroups,
    VoteMatrix,
    compute_opinion_groups,
)

GROUPS = "groups"  # the split is beyond chance: publish it
NO_CLEAR_GROUPS = "no_clear_groups"  # the split is no better than on permuted votes
NOT_TESTED = "not_tested"  # no permutations asked for, or the clustering found one group


def shuffle_answers(votes: VoteMatrix, rng: np.random.Generator) -> VoteMatrix:
    """The same people and statements with each statement's answers shuffled among its voters.

    Who saw what (hence each statement's audience and each person's number of answers) and each
    statement's answer counts are kept; the answers of one person on different statements become
    independent. Moderated-out statements are shuffled too (they carry no opinion anyway).
    """
    by_statement = np.argsort(votes.cols, kind="stable")
    shuffled = np.lexsort((rng.random(votes.n_votes), votes.cols))
    values = np.empty_like(votes.values)
    values[by_statement] = votes.values[shuffled]
    values.setflags(write=False)
    return dataclasses.replace(votes, values=values)


@dataclass(frozen=True)
class SeparationAtK:
    """The silhouette of k groups on the real votes against the same k on permuted votes."""

    silhouette: float
    null_median: float
    null_q95: float
    n_null: int  # permutations in which k-means found k groups
    p_value: float  # (1 + permutations separating at least as well) / (1 + n_null)


@dataclass(frozen=True)
class GroupsTest:
    """The evidence that the opinion groups are real, stored with the run."""

    decision: str  # GROUPS, NO_CLEAR_GROUPS or NOT_TESTED
    statistic: float  # silhouette of the k the pipeline chose on the real votes
    k_found: int  # that k (before this test)
    k: int  # the k kept: k_found, a smaller k, or 1 (no clear groups)
    p_value: float | None  # that separation this large arises with no structure; None if untested
    permutations: int  # permuted matrices clustered
    as_separated: int  # of those, how many separated at least as well as the real votes
    max_permutations: int
    stopped_early: bool  # fewer than max_permutations were needed
    alpha: float  # total error of the two looks
    null_quantiles: dict[str, float]  # "0.5", "0.95", "1.0" of the statistic on permuted votes
    per_k: dict[int, SeparationAtK]
    seed: int

    @property
    def groups_exist(self) -> bool:
        return self.decision == GROUPS

    def to_dict(self) -> dict[str, Any]:
        """The stored block: every field, and the sentence a report shows."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["per_k"] = {k: dataclasses.asdict(v) for k, v in self.per_k.items()}
        out["message"] = self.explanation()
        return out

    def explanation(self) -> str:
        """One sentence for the report, with the figures behind the decision."""
        if self.decision == NOT_TESTED:
            return "The groups were not tested against chance."
        shuffles = (
            f"{self.as_separated} of {self.permutations} shuffles of the answers separated as "
            f"well; p = {self.p_value:.3f}"
        )
        if self.decision == NO_CLEAR_GROUPS:
            return (
                f"No clear opinion groups: the best split found ({self.k_found} groups, "
                f"separation {self.statistic:.2f}) is no better than on the same answers shuffled "
                f"at random ({shuffles})."
            )
        fewer = (
            f" {self.k_found} groups were no better separated than {self.k_found} groups of "
            "shuffled answers."
            if self.k < self.k_found
            else ""
        )
        return (
            f"The opinion groups are beyond chance: separation {self.statistic:.2f} against at "
            f"most {self.null_quantiles['1.0']:.2f} on shuffled answers ({shuffles}).{fewer}"
        )


def not_tested(groups: OpinionGroups, alpha: float, seed: int) -> GroupsTest:
    """The record of a run whose groups were not tested (one group found, or no permutations)."""
    stat = groups.silhouettes.get(groups.k, float("nan"))
    return GroupsTest(
        NOT_TESTED, stat, groups.k, groups.k, None, 0, 0, 0, False, alpha, {}, {}, seed
    )


def first_look(alpha: float) -> int:
    """Permutations after which "none separated as well" spends half of alpha: 2/alpha - 1."""
    return math.ceil(2 / alpha) - 1


def _exceedances_allowed(n: int, alpha: float) -> int:
    """Largest h with (1 + h) / (1 + n) <= alpha / 2 (-1 if even h = 0 is not enough)."""
    return math.floor(alpha / 2 * (n + 1) + 1e-9) - 1


def _chosen_separation(groups: OpinionGroups) -> float:
    """The statistic: silhouette of the chosen k; 0 when no k made valid groups (no separation)."""
    return groups.silhouettes.get(groups.k, 0.0) if groups.k > 1 else 0.0


def groups_beyond_chance(
    votes: VoteMatrix,
    groups: OpinionGroups,
    params: GroupParameters,
    *,
    permutations: int = 99,
    alpha: float = 0.05,
    seed: int | None = None,
) -> GroupsTest:
    """Test the groups found on ``votes`` against shuffled answers (module docstring: design)."""
    seed = params.seed + 7919 if seed is None else seed
    if groups.k < 2 or permutations == 0:
        return not_tested(groups, alpha, seed)
    look = first_look(alpha)
    if permutations < math.ceil(1 / alpha) - 1:
        raise ValueError(f"at least {math.ceil(1 / alpha) - 1} permutations are needed")
    observed = _chosen_separation(groups)
    rng = np.random.default_rng(seed)
    # Refining labels after k is chosen changes neither k nor the silhouettes: skipped.
    null_params = dataclasses.replace(params, refine=False)
    null_stats: list[float] = []
    null_per_k: dict[int, list[float]] = {k: [] for k in groups.silhouettes}
    allowed = _exceedances_allowed(permutations, alpha) if permutations > look else -1
    single_look = permutations <= look
    if single_look:
        allowed = math.floor(alpha * (permutations + 1) + 1e-9) - 1
    exceed = 0
    stopped_early = False
    while len(null_stats) < permutations:
        null = compute_opinion_groups(shuffle_answers(votes, rng), null_params)
        null_stats.append(_chosen_separation(null))
        for k, values in null_per_k.items():
            if k in null.silhouettes:
                values.append(null.silhouettes[k])
        exceed += int(null_stats[-1] >= observed)
        n = len(null_stats)
        if not single_look and n == look and exceed == 0:
            stopped_early = n < permutations
            break
        if exceed > allowed:
            stopped_early = n < permutations
            break
    n = len(null_stats)
    beyond = exceed <= allowed or (not single_look and n == look and exceed == 0)
    # Besag-Clifford p-value h / n when stopped at h exceedances, the usual one otherwise.
    p_value = exceed / n if exceed > allowed else (1 + exceed) / (1 + n)
    per_k = {k: _at_k(groups.silhouettes[k], np.array(v)) for k, v in null_per_k.items()}
    k_kept = _largest_k_beyond_chance(groups, per_k, alpha) if beyond else 1
    stats = np.array(null_stats)
    quantiles = {q: float(np.quantile(stats, float(q))) for q in ("0.5", "0.95", "1.0")}
    return GroupsTest(
        decision=GROUPS if k_kept > 1 else NO_CLEAR_GROUPS,
        statistic=observed,
        k_found=groups.k,
        k=k_kept,
        p_value=p_value,
        permutations=n,
        as_separated=exceed,
        max_permutations=permutations,
        stopped_early=stopped_early,
        alpha=alpha,
        null_quantiles=quantiles,
        per_k=per_k,
        seed=seed,
    )


def _at_k(silhouette: float, null: npt.NDArray[np.float64]) -> SeparationAtK:
    if len(null) == 0:
        return SeparationAtK(silhouette, float("nan"), float("nan"), 0, 1.0)
    return SeparationAtK(
        silhouette=silhouette,
        null_median=float(np.median(null)),
        null_q95=float(np.quantile(null, 0.95)),
        n_null=len(null),
        p_value=float((1 + np.sum(null >= silhouette)) / (1 + len(null))),
    )


def _largest_k_beyond_chance(
    groups: OpinionGroups, per_k: dict[int, SeparationAtK], alpha: float
) -> int:
    """The chosen k if it beats the null of its own k, else the largest smaller k that does.

    k = 2 needs nothing more than the overall test; each larger k must separate better than k
    groups do on shuffled answers. A k whose groups were too small is never kept; 1 if none is left.
    """
    for k in range(groups.k, 1, -1):
        valid = k in per_k and not groups.rejected_k.get(k, "").startswith(TOO_SMALL)
        if valid and (k == 2 or per_k[k].p_value <= alpha):
            return k
    return 1
