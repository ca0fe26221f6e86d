"""Staff vs citizens: planted differences are found, noise is not, small counts use Fisher."""

from __future__ import annotations

import numpy as np

from deliberate.analysis import VoteMatrix, analyse_votes
from deliberate.analysis.statement_stats import compare_roles


def _roles_votes(
    rate_staff: np.ndarray, rate_citizen: np.ndarray, n_staff: int, n_citizen: int, seed: int
) -> VoteMatrix:
    """Everyone sees 80% of the statements; agrees with the given probability, else disagrees."""
    rng = np.random.default_rng(seed)
    rates = np.vstack([np.tile(rate_staff, (n_staff, 1)), np.tile(rate_citizen, (n_citizen, 1))])
    dense = np.where(rng.random(rates.shape) < rates, 1.0, -1.0)
    dense[rng.random(rates.shape) > 0.8] = np.nan
    roles = ["staff"] * n_staff + ["citizen"] * n_citizen
    return VoteMatrix.from_dense(dense, roles=roles)


def test_planted_differences_are_found_and_ranked_by_effect() -> None:
    staff = np.full(30, 0.55)
    citizen = np.full(30, 0.55)
    staff[:5] = [0.85, 0.9, 0.8, 0.85, 0.95]
    citizen[:5] = [0.35, 0.2, 0.4, 0.3, 0.3]
    result = analyse_votes(_roles_votes(staff, citizen, 150, 450, seed=1))
    roles = result.roles
    assert roles is not None and roles.n_staff == 150 and roles.n_citizens == 450
    found = {r.statement_id for r in roles.differ_most}
    # All five found; FDR control at 0.1 tolerates the odd false claim among them, not more.
    assert {0, 1, 2, 3, 4} <= found and len(found - {0, 1, 2, 3, 4}) <= 1
    effects = [abs(r.cohens_h) for r in roles.differ_most]
    assert effects == sorted(effects, reverse=True)
    row = next(r for r in roles.statements if r.statement_id == 1)
    assert row.staff_agree + row.staff_disagree == row.staff_seen
    assert row.staff_agree_rate > 0.8 and row.citizen_agree_rate < 0.3 and row.test == "z"
    assert row.difference > 0.5 and row.q_value <= 0.1


def test_noise_gives_almost_no_false_differences() -> None:
    # Under the global null, BH at 0.1 keeps the chance of any false claim near 10% per dataset.
    with_claims = 0
    for seed in range(20):
        rates = np.random.default_rng(100 + seed).uniform(0.2, 0.8, 40)
        votes = _roles_votes(rates, rates, 100, 300, seed=seed)
        roles = compare_roles(votes, np.arange(400) < 100, np.arange(400) >= 100)
        with_claims += bool(roles.differ_most)
    assert with_claims <= 4


def test_what_both_agree_on() -> None:
    staff = np.array([0.9, 0.9, 0.5, 0.3])
    citizen = np.array([0.85, 0.3, 0.5, 0.3])
    roles = compare_roles(
        _roles_votes(staff, citizen, 60, 200, seed=2), np.arange(260) < 60, np.arange(260) >= 60
    )
    assert [r.statement_id for r in roles.both_agree] == [0]
    assert roles.both_agree[0].both_agree_q <= 0.1


def test_small_counts_use_fisher_exact_and_missing_roles_are_explained() -> None:
    staff = np.array([1.0, 0.5])
    citizen = np.array([0.0, 0.5])
    roles = compare_roles(
        _roles_votes(staff, citizen, 4, 40, seed=3), np.arange(44) < 4, np.arange(44) >= 4
    )
    assert {r.test for r in roles.statements} == {"fisher"}
    nobody = compare_roles(
        _roles_votes(staff, citizen, 4, 40, seed=3), np.zeros(44, bool), np.ones(44, bool)
    )
    assert nobody.statements == () and nobody.message == "no staff votes"
    assert analyse_votes(VoteMatrix.from_dense(np.ones((3, 2)))).roles is None
