"""Time and peak memory of the full vote analysis against a plain dense PCA + k-means baseline.

Run: ``.venv/bin/python bench/bench_groups.py`` (``--quick`` skips the 5-million-vote case).

Synthetic consultations with planted opinion groups (and 10% staff): 2,000 participants x 900
statements (225,000 votes) and 50,000 x 2,000 (5 million votes). Each case runs in its own
subprocess so that its peak resident memory (ru_maxrss) is its own. "Ours" is the full
``analyse_votes`` (groups, representative statements, consensus, divisive, staff vs citizens) on a
``VoteMatrix`` already built; building it from the triples is timed apart. The baseline densifies
the matrix, mean-imputes, runs sklearn PCA(2) and KMeans for k = 2..5 chosen by silhouette.
Targets: small case < 0.3 s, large case < 30 s and < 3 GB. "time" is wall-clock (median of 5 runs
for the small case), "CPU" the process CPU time: both run on one thread, so CPU time is the
figure that does not grow when other work shares the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import run_measured  # noqa: E402

CASES = {
    "small": {"n": 2_000, "m": 900, "votes": 225_000, "repeats": 5},
    "large": {"n": 50_000, "m": 2_000, "votes": 5_000_000, "repeats": 1},
}


def synthetic(
    n: int, m: int, n_votes: int, groups: int = 3, seed: int = 7
) -> dict[str, np.ndarray]:
    """Planted groups: each group has its own agree probability per statement; votes are sparse.

    Participants vote on a random subset of statements of uneven size (heavy and light voters),
    10% of votes are passes, 10% of participants are staff.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, groups, n)
    p_agree = rng.beta(0.6, 0.6, size=(groups, m))  # polarised statements
    per = rng.gamma(2.0, 1.0, n)
    per = np.clip(np.round(per * n_votes / per.sum()), 1, int(0.9 * m)).astype(np.int64)
    short = n_votes - per.sum()  # exactly n_votes in total: spread the rounding over the lightest
    per[np.argsort(per, kind="stable")[: abs(short)]] += np.sign(short)
    # Draw with replacement enough to expect per[i] distinct statements (coupon collector, +15%),
    # drop repeats, keep a random per[i] of each participant's distinct draws.
    draw = np.ceil(-m * np.log1p(-per / m) * 1.15).astype(np.int64) + 5
    rows = np.repeat(np.arange(n), draw)
    key = np.unique(rows * m + rng.integers(0, m, len(rows)))
    rows, cols = key // m, key % m
    order = np.lexsort((rng.random(len(rows)), rows))
    rows, cols = rows[order], cols[order]
    start = np.searchsorted(rows, np.arange(n))
    keep = np.arange(len(rows)) - start[rows] < per[rows]
    rows, cols = rows[keep], cols[keep]
    u = rng.random(len(rows))
    agree = u < p_agree[truth[rows], cols] * 0.9
    passed = u > 0.9
    values = np.where(passed, 0, np.where(agree, 1, -1)).astype(np.int8)
    staff = rng.random(n) < 0.1
    return {"rows": rows, "cols": cols, "values": values, "truth": truth, "staff": staff}


def _ours(data: dict[str, np.ndarray], n: int, m: int, repeats: int) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score

    from deliberate.analysis import VoteMatrix, analyse_votes

    roles = np.where(data["staff"], "staff", "citizen").tolist()
    t0 = time.perf_counter()
    votes = VoteMatrix.from_triples(
        data["rows"], data["cols"], data["values"], n_participants=n, n_statements=m, roles=roles
    )
    build = time.perf_counter() - t0
    times, cpu = [], []
    result = None
    for _ in range(repeats):
        # A fresh matrix each time so cached sparse matrices do not flatter the repeats.
        v = VoteMatrix(
            votes.rows,
            votes.cols,
            votes.values,
            votes.participant_ids,
            votes.statement_ids,
            votes.moderated_out,
            votes.roles,
        )
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyse_votes(v)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    assert result is not None and result.opinion_map is not None
    # Python-level allocation peak of the analysis alone (numpy reports to tracemalloc), in a
    # separate run so that tracing does not slow the timed ones.
    import tracemalloc

    v = VoteMatrix(
        votes.rows,
        votes.cols,
        votes.values,
        votes.participant_ids,
        votes.statement_ids,
        votes.moderated_out,
        votes.roles,
    )
    tracemalloc.start()
    analyse_votes(v)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    labels = result.opinion_map.group
    both = labels >= 0
    return {
        "seconds": float(np.median(times)),
        "cpu_seconds": float(np.median(cpu)),
        "build_seconds": build,
        "k": result.k,
        "ari_planted": float(adjusted_rand_score(data["truth"][both], labels[both])),
        "n_votes": votes.n_votes,
        "traced_mb": traced,
    }


def _baseline(data: dict[str, np.ndarray], n: int, m: int, repeats: int) -> dict[str, float]:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    times, cpu = [], []
    labels = np.zeros(n, dtype=np.int64)
    best_k = 0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        dense = np.full((n, m), np.nan)
        dense[data["rows"], data["cols"]] = data["values"]
        means = np.nanmean(dense, axis=0)
        dense = np.where(np.isnan(dense), np.nan_to_num(means)[None, :], dense)
        xy = PCA(n_components=2, random_state=0).fit_transform(dense)
        best = -2.0
        for k in range(2, 6):
            lab = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(xy)
            s = silhouette_score(xy, lab, sample_size=min(n, 3000), random_state=0)
            if s > best:
                best, labels, best_k = s, lab, k
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        del dense
    return {
        "seconds": float(np.median(times)),
        "cpu_seconds": float(np.median(cpu)),
        "k": best_k,
        "ari_planted": float(adjusted_rand_score(data["truth"], labels)),
    }


def worker(case: str, which: str) -> None:
    """Runs in a subprocess: prints one JSON line (its peak memory is read by the parent)."""
    import warnings

    import sklearn.cluster  # noqa: F401  load OpenMP before limiting threads (limits apply to loaded)
    from threadpoolctl import threadpool_limits

    warnings.filterwarnings("ignore")
    spec = CASES[case]
    data = synthetic(spec["n"], spec["m"], spec["votes"])
    if which == "baseline":
        with threadpool_limits(limits=1):  # same footing as ours; the box is shared
            out = _baseline(data, spec["n"], spec["m"], spec["repeats"])
    else:
        out = _ours(data, spec["n"], spec["m"], spec["repeats"])
    print(json.dumps(out))


def run(case: str, which: str) -> dict[str, float]:
    res, peak_mb = run_measured([sys.executable, __file__, "--worker", case, which])
    res["peak_mb"] = peak_mb
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, metavar=("CASE", "WHICH"), help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="only the 225,000-vote case")
    args = ap.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    targets = {"small": (0.3, None), "large": (30.0, 3072.0)}
    ok = True
    print(
        f"{'case':<28} {'who':<9} {'time':>8} {'CPU':>8} {'peak MB':>8} {'k':>2} "
        f"{'ARI planted':>11}"
    )
    for case in ["small"] if args.quick else ["small", "large"]:
        spec = CASES[case]
        label = f"{spec['n']:,} x {spec['m']:,}"
        ours = run(case, "ours")
        base = run(case, "baseline")
        print(
            f"{label:<28} {'ours':<9} {ours['seconds']:>7.3f}s {ours['cpu_seconds']:>7.3f}s "
            f"{ours['peak_mb']:>8.0f} "
            f"{ours['k']:>2} {ours['ari_planted']:>11.3f}"
        )
        nv = f"({ours['n_votes']:,} votes)"
        print(
            f"{nv:<28} {'baseline':<9} {base['seconds']:>7.3f}s {base['cpu_seconds']:>7.3f}s "
            f"{base['peak_mb']:>8.0f} {base['k']:>2} {base['ari_planted']:>11.3f}"
        )
        print(
            f"{'':<28} {'ratio':<9} {ours['seconds'] / base['seconds']:>7.2f}x "
            f"{ours['cpu_seconds'] / base['cpu_seconds']:>7.2f}x "
            f"{ours['peak_mb'] / base['peak_mb']:>7.2f}x   (ours / baseline)"
        )
        print(
            f"{'':<28} building the VoteMatrix from triples {ours['build_seconds']:.3f}s (not "
            f"in 'time'); peak MB is the whole process, data generation included; the "
            f"analysis alone allocates {ours['traced_mb']:.0f} MB at peak (tracemalloc)"
        )
        t_max, mb_max = targets[case]
        ok &= ours["seconds"] < t_max and (mb_max is None or ours["peak_mb"] < mb_max)
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
