"""Are the published claims as honest as promised? Realised error and power, old method vs new.

Run: ``.venv/bin/python bench/calibrate_claims.py`` (``--seeds 20`` by default, ``--quick`` for a
few seeds on the small cases, ``--only NAME`` for scenarios whose name contains NAME). Prints a
table and writes it as Markdown (``--out``, default bench/calibrate_claims.md).

Scenarios (deliberate/analysis/calibration.py builds them, with the probabilities behind every
vote): null matrices where everyone answers each statement with the same probabilities (300 x 30
dense, 1,000 x 60 with 80% seen, 2,000 x 200 sparse), the seven real conversations with each
statement's answers shuffled among its voters, and planted groups that differ on a known subset of
statements (2 groups on 400 x 40, 3 groups on 900 x 60, and 3 weakly different groups on 600 x
60). Methods, on the same matrices:
- old: groups as found, claims tested on the votes that made them (method version 1);
- held-out: claims tested against groups found without the statement, groups not tested;
- new: the groups test (permutations) first, then held-out claims (method version 2, default).
Columns: share of runs that report groups; realised false-discovery rate of each claim type (the
mean over runs of false claims / claims, 0 when none; every claim with q <= 0.1 counts, before any
top-5 cut); claims per run; on planted data, power = share of the truly differing statements that
get a claim of that type; CPU seconds per run (one thread).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluate_groups import CONVERSATIONS, DATA, SHARED_DATA, _load_csv  # noqa: E402

from deliberate.analysis import AnalysisParameters, analyse_votes  # noqa: E402
from deliberate.analysis.calibration import (  # noqa: E402
    CLAIM_TYPES,
    ClaimErrors,
    KnownVotes,
    claim_errors,
    null_votes,
    planted_votes,
    shuffled_real_votes,
)
from deliberate.analysis.held_out_groups import HELD_OUT_STATEMENTS, SAME_VOTES  # noqa: E402

ALL = 10**9  # no top-n cut: every claim with q <= alpha is counted
_BASE = AnalysisParameters(max_representative=ALL, max_consensus=ALL, max_divisive=ALL)
METHODS = {
    "old": dataclasses.replace(_BASE, groups_test_permutations=0, claims_method=SAME_VOTES),
    "held-out": dataclasses.replace(
        _BASE, groups_test_permutations=0, claims_method=HELD_OUT_STATEMENTS
    ),
    "new": _BASE,
}
Scenario = Callable[[int], KnownVotes]


def scenarios(quick: bool) -> dict[str, Scenario]:
    out: dict[str, Scenario] = {
        "null 300x30 dense": lambda s: null_votes(300, 30, seed=s),
        "null 1000x60 80% seen": lambda s: null_votes(1000, 60, seen=0.8, seed=s),
        "planted 2 groups 400x40 (12 differ)": lambda s: planted_votes(
            (0.6, 0.4), 400, 40, 12, seen=0.8, seed=s
        ),
        "planted 3 groups 900x60 (18 differ)": lambda s: planted_votes(
            (0.45, 0.35, 0.2), 900, 60, 18, seen=0.7, seed=s
        ),
        "planted 3 groups 600x60 weak (18 differ by 0.12)": lambda s: planted_votes(
            (0.45, 0.35, 0.2), 600, 60, 18, shift=0.12, seen=0.7, seed=s
        ),
    }
    if quick:
        return out
    out["null 2000x200 sparse (12% seen)"] = lambda s: null_votes(2000, 200, seen=0.12, seed=s)
    for name in (*CONVERSATIONS, "austria-climate.2vkxcncppn.2022-07-07"):
        folder = DATA / name if (DATA / name).is_dir() else SHARED_DATA / name
        if folder.is_dir():
            votes = _load_csv(folder).votes
            out[f"shuffled {name}"] = lambda s, v=votes: shuffled_real_votes(v, seed=s)
    return out


def run(scenario: Scenario, seeds: int) -> dict[str, list[tuple[ClaimErrors, float]]]:
    rows: dict[str, list[tuple[ClaimErrors, float]]] = {m: [] for m in METHODS}
    for seed in range(seeds):
        known = scenario(seed)
        for method, params in METHODS.items():
            t0 = time.process_time()
            result = analyse_votes(known.votes, params)
            rows[method].append((claim_errors(known, result), time.process_time() - t0))
    return rows


def summarise(name: str, rows: dict[str, list[tuple[ClaimErrors, float]]]) -> list[str]:
    out = []
    for method, runs in rows.items():
        errs = [e for e, _ in runs]
        groups = np.mean([e.groups_reported for e in errs])
        fdr = [np.mean([e.fdp(kind) for e in errs]) for kind in CLAIM_TYPES]
        claims = [np.mean([e.claims[kind] for e in errs]) for kind in CLAIM_TYPES]
        planted = errs[0].n_differing > 0
        power = [
            np.mean([e.found_differing[kind] / e.n_differing for e in errs]) if planted else None
            for kind in ("representative", "divisive")
        ]
        cpu = np.mean([t for _, t in runs])
        cells = [
            name,
            method,
            f"{groups:.0%}",
            *(f"{x:.3f}" for x in fdr),
            " / ".join(f"{x:.1f}" for x in claims),
            *("" if x is None else f"{x:.0%}" for x in power),
            f"{cpu:.2f}",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


HEADER = (
    "| scenario | method | groups reported | FDR representative | FDR divisive | FDR consensus "
    "| claims per run (rep / div / cons) | power representative | power divisive | CPU s/run |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="4 seeds, the small scenarios only")
    ap.add_argument("--only", default="", help="run the scenarios whose name contains this")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "calibrate_claims.md")
    args = ap.parse_args(argv)
    seeds = 4 if args.quick else args.seeds
    lines = [HEADER]
    print(HEADER, flush=True)
    for name, scenario in scenarios(args.quick).items():
        if args.only not in name:
            continue
        rows = summarise(name, run(scenario, seeds))
        lines += rows
        print("\n".join(rows), flush=True)
    aims = (
        f"\n{seeds} seeds per scenario; aims: groups reported on null data <= 5%, every FDR <= "
        "0.10 (the stated rate).\n"
    )
    args.out.write_text(__doc__.split("\n\n")[0] + "\n\n" + "\n".join(lines) + "\n" + aims)
    print(aims + f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
