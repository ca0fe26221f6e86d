"""Bridging-based ranking: which statements are agreed with across the divide, with intervals.

The model is the one Community Notes publishes (Wojcik et al., "Birdwatch", arXiv 2210.15723),
fitted to the observed answers (agree +1, disagree -1, pass an observed 0):

    answer ≈ μ + person intercept + statement intercept + person factor · statement factor

with one factor. The factor soaks up the main axis of disagreement, so a statement's intercept is
the part of its agreement that viewpoint does not explain: its bridging score. Unlike
group-informed consensus it does not depend on where a k-means boundary falls, so it still means
something when opinion groups are weak or absent. The intercept is the answer predicted for a
person in the middle of the factor axis, so it leans towards the majority camp: show the per-group
view beside it.

Choices, each measured by a prototype on seventeen real conversations (issue 10):

- Regularised as Community Notes' code does, not as its documentation writes it: mean squared
  error plus λ times the *mean* of each parameter vector's squares, λ = 0.15 for intercepts and
  0.03 for factors. The documented sum form barely regularises at Polis sizes, and statements with
  one to five answers then fill the top ten. A minimum number of answers is still kept for ranking.
- One factor: two scored worse against group-informed consensus and have local optima.
- Alternating least squares alone crawls along near-flat directions of the objective (a shift of
  every person factor absorbed by the statement intercepts, a shift of the person intercepts
  absorbed by μ, ...), still unconverged after thousands of sweeps. Each sweep therefore ends with
  exact moves along those directions: they leave every prediction unchanged and minimise the
  penalty in closed form. The fit then converges in 12 to 32 sweeps on seven real conversations
  (what is left is the ordinary linear rate of one-factor ALS), 0.02 to 0.2 s each, and in about
  a second on a synthetic matrix of Bowling Green's size (bench/evaluate_bridging.py).
- The 90% interval of each intercept comes from a bootstrap over people (a person drawn k times
  counts k times), each refit warm-started from the full fit, so it costs a few sweeps. It is a
  percentile interval around a shrunk estimate: on answers drawn from the model it held the
  planted intercept for 83% of statements (8 seeds), a little under the nominal 90%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from deliberate.analysis.opinion_groups import VoteMatrix
from deliberate.analysis.statement_stats import GroupCounts, group_informed_consensus

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BridgingParameters:
    """Every knob of the bridging fit, stored with each result so that it can be reproduced."""

    intercept_lambda: float = 0.15  # on the mean of squared intercepts (μ, people, statements)
    factor_lambda: float = 0.03  # on the mean of squared factors (people, statements)
    min_answers: int = 10  # a statement needs this many answers (passes count) to be ranked
    n_bootstrap: int = 200  # resamples of people for the intervals; 0 gives no interval
    interval: float = 0.90  # coverage of the interval around each bridging score
    max_sweeps: int = 200
    tolerance: float = 1e-4  # converged when no parameter moves more than this in a sweep
    bootstrap_max_sweeps: int = 50
    bootstrap_tolerance: float = 1e-3  # the refits only feed interval ends of width ~0.1 and up
    seed: int = 0


@dataclass(frozen=True)
class StatementBridging:
    """One statement's bridging score (its intercept, on the -1..+1 answer scale) and interval.

    ``score`` and the interval are None for a statement that was moderated out or never answered;
    ``ranked`` is False for those and for statements with fewer than ``min_answers`` answers.
    ``rank`` counts from 1 (the most bridging) among the ranked statements.
    """

    statement_id: Any
    statement_index: int
    score: float | None
    interval_low: float | None
    interval_high: float | None
    factor: float | None  # where the statement sits on the axis of disagreement
    n_answers: int  # agree, disagree and pass, on this statement
    ranked: bool
    rank: int | None


@dataclass(frozen=True)
class BridgingRanking:
    """The bridging fit of a conversation: one ``StatementBridging`` per statement, in order."""

    statements: tuple[StatementBridging, ...]
    parameters: BridgingParameters
    mean_answer: float  # μ
    n_participants: int  # people with at least one answer on a statement still in
    n_answers: int
    iterations: int
    converged: bool
    bootstrap_resamples: int
    bootstrap_converged: int  # how many of the resamples converged within bootstrap_max_sweeps

    def ranking(self) -> tuple[StatementBridging, ...]:
        """The ranked statements, most bridging first."""
        ranked = [s for s in self.statements if s.rank is not None]
        return tuple(sorted(ranked, key=lambda s: s.rank or 0))

    def scores(self) -> FloatArray:
        """Bridging score per statement, NaN where there is none."""
        return np.array([np.nan if s.score is None else s.score for s in self.statements])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only, ready to be stored with an analysis run."""
        return {
            "statements": [
                {**asdict(s), "statement_id": _plain(s.statement_id)} for s in self.statements
            ],
            "parameters": asdict(self.parameters),
            "mean_answer": self.mean_answer,
            "n_participants": self.n_participants,
            "n_answers": self.n_answers,
            "iterations": self.iterations,
            "converged": self.converged,
            "bootstrap_resamples": self.bootstrap_resamples,
            "bootstrap_converged": self.bootstrap_converged,
        }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass
class _Answers:
    """The answers the model sees, as sparse people x statements matrices.

    Only people and statements with at least one answer are kept. Every sum the fit needs is a
    sparse product with these (one pass over the answers each), which is several times faster
    than gathering and re-binning a million answers per sum.
    """

    pattern: sp.csr_matrix  # 1 where a person answered a statement
    pattern_t: sp.csr_matrix  # its transpose, stored row-wise for fast products
    answers: sp.csr_matrix  # the answer (+1, 0, -1) where answered
    answers_t: sp.csr_matrix
    per_person: FloatArray  # answers per person
    person_totals: FloatArray  # sum of each person's answers

    @classmethod
    def from_triples(cls, person: IntArray, statement: IntArray, answer: FloatArray) -> _Answers:
        shape = (int(person.max()) + 1, int(statement.max()) + 1) if len(person) else (0, 0)
        pattern = sp.csr_matrix((np.ones(len(answer)), (person, statement)), shape=shape)
        answers = sp.csr_matrix((answer, (person, statement)), shape=shape)
        return cls(
            pattern=pattern,
            pattern_t=pattern.T.tocsr(),
            answers=answers,
            answers_t=answers.T.tocsr(),
            per_person=np.bincount(person, minlength=shape[0]).astype(np.float64),
            person_totals=np.bincount(person, weights=answer, minlength=shape[0]).astype(
                np.float64
            ),
        )

    @property
    def n_people(self) -> int:
        return int(self.pattern.shape[0])

    @property
    def n_statements(self) -> int:
        return int(self.pattern.shape[1])


@dataclass
class _Model:
    mu: float
    person_intercept: FloatArray
    person_factor: FloatArray
    statement_intercept: FloatArray
    statement_factor: FloatArray

    def copy(self) -> _Model:
        return _Model(
            self.mu,
            self.person_intercept.copy(),
            self.person_factor.copy(),
            self.statement_intercept.copy(),
            self.statement_factor.copy(),
        )


def bridging_ranking(
    votes: VoteMatrix, parameters: BridgingParameters | None = None
) -> BridgingRanking:
    """Fit the bridging model to ``votes`` and rank the statements that are still in.

    Answers on moderated-out statements are left out of the fit. Deterministic for a given seed.
    """
    p = parameters or BridgingParameters()
    active = ~votes.moderated_out[votes.cols]
    rows, cols = votes.rows[active].astype(np.int64), votes.cols[active].astype(np.int64)
    answered = np.flatnonzero(np.bincount(cols, minlength=votes.n_statements))
    person = _compact(rows, votes.n_participants)
    data = _Answers.from_triples(
        person, _compact(cols, votes.n_statements), votes.values[active].astype(np.float64)
    )
    rng = np.random.default_rng(p.seed)
    model = _initial_model(data, rng)
    weight = np.ones(data.n_people)
    iterations, converged = _fit(data, weight, model, p, p.max_sweeps, p.tolerance)
    _orient(model)

    low, high, n_converged = _bootstrap_intervals(data, model, p, rng)

    n_answers = np.bincount(votes.cols, minlength=votes.n_statements)
    index = np.full(votes.n_statements, -1)
    index[answered] = np.arange(len(answered))
    ranked = (index >= 0) & ~votes.moderated_out & (n_answers >= p.min_answers)
    score = np.full(votes.n_statements, -np.inf)
    score[ranked] = model.statement_intercept[index[ranked]]
    order = np.lexsort((np.arange(votes.n_statements), -score))
    rank = np.zeros(votes.n_statements, dtype=np.int64)
    rank[order] = np.arange(1, votes.n_statements + 1)

    def value(a: FloatArray, j: int) -> float | None:
        if index[j] < 0 or np.isnan(a[index[j]]):
            return None
        return float(a[index[j]])

    statements = tuple(
        StatementBridging(
            statement_id=votes.statement_ids[j],
            statement_index=j,
            score=value(model.statement_intercept, j),
            interval_low=value(low, j),
            interval_high=value(high, j),
            factor=value(model.statement_factor, j),
            n_answers=int(n_answers[j]),
            ranked=bool(ranked[j]),
            rank=int(rank[j]) if ranked[j] else None,
        )
        for j in range(votes.n_statements)
    )
    return BridgingRanking(
        statements=statements,
        parameters=p,
        mean_answer=model.mu,
        n_participants=data.n_people,
        n_answers=int(data.pattern.nnz),
        iterations=iterations,
        converged=converged,
        bootstrap_resamples=p.n_bootstrap if data.n_people > 0 else 0,
        bootstrap_converged=n_converged,
    )


def _bootstrap_intervals(
    data: _Answers, model: _Model, p: BridgingParameters, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, int]:
    """Percentile interval of each statement intercept over refits on people drawn again.

    A person drawn k times counts k times. NaN for a statement that no resample saw; also returns
    how many refits converged.
    """
    low = np.full(data.n_statements, np.nan)
    high = np.full(data.n_statements, np.nan)
    if p.n_bootstrap <= 0 or data.n_people == 0:
        return low, high, 0
    draws = np.full((p.n_bootstrap, data.n_statements), np.nan)
    n_converged = 0
    for b in range(p.n_bootstrap):
        drawn = rng.integers(0, data.n_people, data.n_people)
        weight = np.bincount(drawn, minlength=data.n_people).astype(np.float64)
        refit = model.copy()  # warm start: a resample's optimum is close to the full fit's
        _, ok = _fit(data, weight, refit, p, p.bootstrap_max_sweeps, p.bootstrap_tolerance)
        n_converged += ok
        seen = data.pattern_t @ weight > 0
        draws[b, seen] = refit.statement_intercept[seen]
    tail = 50 * (1 - p.interval)
    has_draws = ~np.isnan(draws).all(axis=0)
    low[has_draws], high[has_draws] = np.nanpercentile(
        draws[:, has_draws], [tail, 100 - tail], axis=0
    )
    return low, high, n_converged


def _compact(index: IntArray, size: int) -> IntArray:
    """Renumber the indices that occur as 0, 1, 2, ... in their original order."""
    present = np.bincount(index, minlength=size) > 0
    return (np.cumsum(present) - 1)[index].astype(np.int64)


def _initial_model(data: _Answers, rng: np.random.Generator) -> _Model:
    """Intercepts at zero and small random factors, as Community Notes starts."""
    return _Model(
        mu=0.0,
        person_intercept=np.zeros(data.n_people),
        person_factor=rng.uniform(-0.1, 0.1, data.n_people),
        statement_intercept=np.zeros(data.n_statements),
        statement_factor=np.zeros(data.n_statements),
    )


def _fit(
    data: _Answers,
    weight: FloatArray,
    m: _Model,
    p: BridgingParameters,
    max_sweeps: int,
    tolerance: float,
) -> tuple[int, bool]:
    """Alternating least squares, in place on ``m``; returns (sweeps, converged).

    ``weight`` is how many times each person counts (1 in the full fit, a bootstrap draw count).
    The objective, multiplied through by the weighted number of answers N, is
    Σ w (answer - prediction)² + N·λ_i·(mean b² + mean c² + μ²) + N·λ_f·(mean f² + mean g²),
    the means over people (counted with their weights) and over statements.
    """
    total = float(np.dot(weight, data.per_person))
    if total == 0:
        return 0, True
    n_people, n_statements = float(weight.sum()), data.n_statements
    a_b = p.intercept_lambda * total / n_people  # per unit of person weight
    a_f = p.factor_lambda * total / n_people
    a_c = p.intercept_lambda * total / n_statements
    a_g = p.factor_lambda * total / n_statements
    a_mu = p.intercept_lambda * total
    for sweep in range(1, max_sweeps + 1):
        before = _parameters(m)
        # Statements given people: a 2 x 2 ridge regression each, on (intercept, factor).
        w, f, b = weight, m.person_factor, m.person_intercept
        s_w, s_f, s_ff, s_b, s_bf = (
            data.pattern_t @ np.column_stack((w, w * f, w * f * f, w * b, w * b * f))
        ).T
        s_y, s_yf = (data.answers_t @ np.column_stack((w, w * f))).T
        m.statement_intercept, m.statement_factor = _solve2(
            s_w + a_c, s_f, s_ff + a_g, s_y - m.mu * s_w - s_b, s_yf - m.mu * s_f - s_bf
        )
        # People given statements: a person's weight multiplies both its answers and its
        # penalty, so it cancels out of its own update.
        c, g = m.statement_intercept, m.statement_factor
        s_g, s_gg, s_c, s_cg = (data.pattern @ np.column_stack((g, g * g, c, c * g))).T
        s_yg = data.answers @ g
        n = data.per_person
        m.person_intercept, m.person_factor = _solve2(
            n + a_b,
            s_g,
            s_gg + a_f,
            data.person_totals - m.mu * n - s_c,
            s_yg - m.mu * s_g - s_cg,
        )
        # The overall mean, from the residuals of everything else.
        b, f = m.person_intercept, m.person_factor
        rest = data.person_totals - n * b - s_c - f * s_g
        m.mu = float(np.dot(weight, rest) / (total + a_mu))
        _recentre(m, weight, a_b, a_f, a_c, a_g, a_mu)
        if np.max(np.abs(_parameters(m) - before)) < tolerance:
            return sweep, True
    return max_sweeps, False


def _parameters(m: _Model) -> FloatArray:
    return np.concatenate(
        ([m.mu], m.statement_intercept, m.statement_factor, m.person_intercept, m.person_factor)
    )


def _solve2(
    a11: FloatArray, a12: FloatArray, a22: FloatArray, r1: FloatArray, r2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Solve the symmetric 2 x 2 systems [[a11, a12], [a12, a22]] x = r, one per element."""
    det = a11 * a22 - a12 * a12
    return (a22 * r1 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det


def _recentre(
    m: _Model, weight: FloatArray, a_b: float, a_f: float, a_c: float, a_g: float, a_mu: float
) -> None:
    """Move exactly along the near-flat directions: every prediction stays, the penalty drops.

    Each move is a one-dimensional quadratic in the penalty, minimised in closed form:
    person factors + d with statement intercepts - d·g; statement factors + e with person
    intercepts - e·f; person (and statement) intercepts + d with μ - d; factor scale s and 1/s.
    """
    f, g = m.person_factor, m.statement_factor
    b, c = m.person_intercept, m.statement_intercept
    n_w, n_s = float(weight.sum()), len(c)

    d = (a_c * np.dot(c, g) - a_f * np.dot(weight, f)) / (a_f * n_w + a_c * np.dot(g, g))
    f += d
    c -= d * g
    e = (a_b * np.dot(weight, b * f) - a_g * g.sum()) / (a_g * n_s + a_b * np.dot(weight, f * f))
    g += e
    b -= e * f
    d = (a_mu * m.mu - a_b * np.dot(weight, b)) / (a_b * n_w + a_mu)
    b += d
    m.mu -= d
    d = (a_mu * m.mu - a_c * c.sum()) / (a_c * n_s + a_mu)
    c += d
    m.mu -= d
    ff, gg = float(np.dot(weight, f * f)), float(np.dot(g, g))
    if ff > 0 and gg > 0:
        scale = (a_g * gg / (a_f * ff)) ** 0.25
        f *= scale
        g /= scale


def _orient(m: _Model) -> None:
    """Fix the factor's sign (the model cannot tell): the most extreme statement is positive."""
    if len(m.statement_factor) and m.statement_factor[np.argmax(np.abs(m.statement_factor))] < 0:
        m.statement_factor *= -1
        m.person_factor *= -1


def polis_group_informed_consensus(votes: VoteMatrix, groups: npt.ArrayLike) -> FloatArray:
    """Group-informed consensus as Polis exports it, per statement (NaN when moderated out).

    ∏ over groups of (agrees_g + 1) / (agrees_g + disagrees_g + passes_g + 2): passes count in the
    denominator, which is what matches the ``group-informed-consensus`` column of Polis' 2024
    export. ``groups`` gives each participant's group, -1 for people in no group.
    """
    labels = np.asarray(groups, dtype=np.int64)
    if labels.shape != (votes.n_participants,):
        raise ValueError("groups needs one label per participant")
    kinds, compact = np.unique(labels[labels >= 0], return_inverse=True)
    dense = np.full(votes.n_participants, -1, dtype=np.int64)
    dense[labels >= 0] = compact
    gic = group_informed_consensus(GroupCounts.from_labels(votes, dense, len(kinds)))
    return np.where(votes.moderated_out, np.nan, gic)
