"""Compare our opinion groups with the groups Polis itself computed, on seven real conversations.

Run: ``.venv/bin/python bench/evaluate_groups.py`` (optionally ``--set name=value`` to try another
GroupParameters value, e.g. ``--set pca_on=clustered``; one method for every conversation).

For each conversation it prints our k, Polis' k, the adjusted Rand index against Polis' group-id on
the participants both clustered, the stability (mean ARI between the full run and ten runs on
random 90% samples of participants, on the participants they share), the CPU time of one full
``analyse_votes`` run without and with the test that the groups exist (group_evidence.py), that
test's p-value and number of permutations, and the ARI once participants with too few votes to be
clustered are given their provisional (nearest-centre) group. ``-v`` explains the differences
with Polis. The seventh conversation (austria-climate, large) is read from /work/shared when the
repository does not hold it.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deliberate.analysis import (  # noqa: E402
    AnalysisParameters,
    GroupParameters,
    NotEnoughData,
    VoteAnalysis,
    VoteMatrix,
    analyse_votes,
    compute_opinion_groups,
)

DATA = ROOT / "data" / "polis"
SHARED_DATA = Path("/work/shared/data/polis")  # holds a seventh, large conversation
CONVERSATIONS = (
    "15-per-hour-seattle",
    "brexit-consensus",
    "canadian-electoral-reform",
    "london.youth.policing",
    "scoop-hivemind.biodiversity",
    "scoop-hivemind.freshwater",
)
LARGE = "austria-climate.2vkxcncppn.2022-07-07"
# Best public Python port (red-dwarf) ARI against Polis, from the issue.
RED_DWARF_ARI = {
    "15-per-hour-seattle": 0.46,
    "brexit-consensus": 0.64,
    "canadian-electoral-reform": 1.00,
    "london.youth.policing": 0.12,
    "scoop-hivemind.biodiversity": 0.95,
    "scoop-hivemind.freshwater": 0.13,
}


@dataclass(frozen=True)
class Conversation:
    name: str
    votes: VoteMatrix
    polis_group: np.ndarray  # -1 where Polis did not cluster the participant


def _load_csv(folder: Path) -> Conversation:
    """Parse the final vote matrix (participants-votes.csv) and moderation (comments.csv)."""
    with open(folder / "comments.csv", newline="", encoding="utf-8") as f:
        moderated = {row["comment-id"]: row["moderated"].strip() for row in csv.DictReader(f)}
    with open(folder / "participants-votes.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        first = header.index("n-disagree") + 1
        gcol = header.index("group-id")
        cids = header[first:]
        pids: list[str] = []
        groups: list[int] = []
        r: list[int] = []
        c: list[int] = []
        v: list[int] = []
        for i, row in enumerate(reader):
            pids.append(row[0])
            groups.append(int(row[gcol]) if row[gcol].strip() else -1)
            for j, cell in enumerate(row[first:]):
                if cell.strip():
                    r.append(i)
                    c.append(j)
                    v.append(int(float(cell)))
    mod = np.array([moderated.get(cid) == "-1" for cid in cids])
    votes = VoteMatrix.from_triples(
        r, c, v, participant_ids=pids, statement_ids=[int(x) for x in cids], moderated_out=mod
    )
    return Conversation(folder.name, votes, np.array(groups))


def _load_export(folder: Path) -> Conversation | None:
    """Use the shared importer (deliberate.polis_format.read_export) when it exists and works."""
    try:
        from deliberate.polis_format import read_export  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        ex = read_export(folder)
        vrows = [(x.voter_id, x.comment_id, x.vote) for x in ex.votes]
        parts = {p.participant_id: p.group_id for p in ex.participants}
        mod = {cm.comment_id: cm.moderated for cm in ex.comments}
    except Exception:  # the importer is being written by someone else: fall back quietly
        return None
    pids = sorted(parts)
    sids = sorted({cid for _, cid, _ in vrows})
    pi = {p: i for i, p in enumerate(pids)}
    si = {s: j for j, s in enumerate(sids)}
    vrows = [x for x in vrows if x[0] in pi]
    votes = VoteMatrix.from_triples(
        [pi[p] for p, _, _ in vrows],
        [si[s] for _, s, _ in vrows],
        [x[2] for x in vrows],
        participant_ids=pids,
        statement_ids=sids,
        moderated_out=[mod.get(s) == -1 for s in sids],
    )
    groups = np.array([-1 if parts[p] is None else int(parts[p]) for p in pids])
    return Conversation(folder.name, votes, groups)


def load(name: str, use_export: bool = True) -> Conversation:
    folder = DATA / name if (DATA / name).is_dir() else SHARED_DATA / name
    conv = _load_export(folder) if use_export else None
    return conv if conv is not None else _load_csv(folder)


def subsample(votes: VoteMatrix, keep: np.ndarray) -> VoteMatrix:
    """The same conversation restricted to the participants in ``keep`` (sorted indices)."""
    new = np.full(votes.n_participants, -1)
    new[keep] = np.arange(len(keep))
    m = new[votes.rows] >= 0
    return VoteMatrix.from_triples(
        new[votes.rows[m]],
        votes.cols[m],
        votes.values[m],
        participant_ids=[votes.participant_ids[i] for i in keep],
        statement_ids=votes.statement_ids,
        moderated_out=votes.moderated_out,
    )


def stability(
    votes: VoteMatrix,
    labels: np.ndarray,
    params: GroupParameters,
    runs: int = 10,
    share: float = 0.9,
) -> float:
    """Mean ARI between the full run and runs on random 90% samples, on shared participants."""
    rng = np.random.default_rng(12345)
    scores = []
    for _ in range(runs):
        keep = np.sort(
            rng.choice(votes.n_participants, round(share * votes.n_participants), replace=False)
        )
        try:
            sub = compute_opinion_groups(subsample(votes, keep), params).labels
        except NotEnoughData:
            scores.append(0.0)
            continue
        full = labels[keep]
        both = (full >= 0) & (sub >= 0)
        scores.append(adjusted_rand_score(full[both], sub[both]) if both.any() else 0.0)
    return float(np.mean(scores))


def _boundary_cases(conv: Conversation, res: VoteAnalysis) -> tuple[int, int]:
    """Of the participants we group differently from Polis, how many sit near our boundary?

    "Near" means the distance to their own group centre is at least 80% of the distance to the
    nearest other centre: a coin toss that any small change of the map or of k-means tips over.
    """
    assert res.opinion_map is not None
    ours, polis = res.opinion_map.group, conv.polis_group
    both = (ours >= 0) & (polis >= 0)
    overlap = np.zeros((polis.max() + 1, res.k))
    np.add.at(overlap, (polis[both], ours[both]), 1)
    matched = overlap.argmax(1)[polis]  # our group holding most of each Polis group
    differ = both & (matched != ours)
    xy = np.column_stack([res.opinion_map.x, res.opinion_map.y])
    centres = np.array([g.center for g in res.groups])
    d = np.sqrt(((xy[:, None, :] - centres[None]) ** 2).sum(-1))
    own = d[np.arange(len(ours)), np.maximum(ours, 0)]
    d[np.arange(len(ours)), np.maximum(ours, 0)] = np.inf
    near = own >= 0.8 * d.min(1)
    return int(differ.sum()), int((differ & near).sum())


def evaluate(conv: Conversation, params: GroupParameters) -> dict[str, object]:
    t0 = time.process_time()
    analyse_votes(conv.votes, AnalysisParameters(groups=params, groups_test_permutations=0))
    untested = time.process_time() - t0
    t0 = time.process_time()
    res = analyse_votes(conv.votes, AnalysisParameters(groups=params))
    elapsed = time.process_time() - t0
    test = res.groups_test
    assert test is not None
    assert res.opinion_map is not None
    labels, assigned = res.opinion_map.group, res.opinion_map.assigned_group
    polis = conv.polis_group
    both = (labels >= 0) & (polis >= 0)
    ari = adjusted_rand_score(polis[both], labels[both])
    both_a = (assigned >= 0) & (polis >= 0)
    differ, near = _boundary_cases(conv, res)
    return {
        "conversation": conv.name,
        "k": res.k,
        "polis_k": len(set(polis[polis >= 0].tolist())),
        "ari": ari,
        "ari_assigned": adjusted_rand_score(polis[both_a], assigned[both_a]),
        "target": RED_DWARF_ARI.get(conv.name, float("nan")),
        "stability": stability(conv.votes, labels, params),
        "time": elapsed,
        "time_untested": untested,
        "test": f"{test.decision} k {test.k_found}->{test.k} p={test.p_value:.3f} "
        f"after {test.permutations}",
        "n_both": int(both.sum()),
        "only_polis": int(((polis >= 0) & (labels < 0)).sum()),
        "only_ours": int(((polis < 0) & (labels >= 0)).sum()),
        "sizes": [g.size for g in res.groups],
        "polis_sizes": np.bincount(polis[polis >= 0]).tolist(),
        "silhouettes": {k: round(s, 3) for k, s in res.silhouettes.items()},
        "rejected": res.rejected_k,
        "differ": differ,
        "near": near,
    }


def _parse_sets(items: list[str]) -> GroupParameters:
    base = GroupParameters()
    changes: dict[str, object] = {}
    for item in items:
        key, _, raw = item.partition("=")
        current = getattr(base, key)
        changes[key] = type(current)(raw) if not isinstance(current, bool) else raw == "true"
    return dataclasses.replace(base, **changes)


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--csv-only", action="store_true", help="ignore deliberate.polis_format")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="also report mean ARI/stability over this many other seeds",
    )
    args = ap.parse_args(argv)
    params = _parse_sets(args.set)
    print(
        f"{'conversation':<28} {'k':>2} {'Polis k':>7} {'ARI':>5} {'target':>6} "
        f"{'stability':>9} {'CPU untested':>12} {'CPU tested':>10} {'ARI+assigned':>12}  "
        "groups test"
    )
    ok = True
    analyse_votes(load("brexit-consensus", use_export=False).votes)  # warm-up: lazy imports
    for name in (*CONVERSATIONS, LARGE):
        row = evaluate(load(name, use_export=not args.csv_only), params)
        beat = not row["ari"] < row["target"] - 1e-9  # type: ignore[operator]
        stable = row["stability"] >= 0.9  # type: ignore[operator]
        ok &= beat and stable
        print(
            f"{row['conversation']:<28} {row['k']:>2} {row['polis_k']:>7} {row['ari']:>5.2f} "
            f"{row['target']:>6.2f} {row['stability']:>9.2f} {row['time_untested']:>11.2f}s "
            f"{row['time']:>9.2f}s {row['ari_assigned']:>12.2f}  {row['test']}"
            f"{'' if beat else '  < target'}{'' if stable else '  unstable'}"
        )
        if args.verbose:
            print(
                f"    both clustered {row['n_both']}, only Polis {row['only_polis']}, only ours "
                f"{row['only_ours']}; sizes {row['sizes']} vs Polis {row['polis_sizes']}\n"
                f"    grouped unlike Polis: {row['differ']} ({row['near']} near our boundary); "
                f"silhouettes {row['silhouettes']}; not chosen {row['rejected']}"
            )
    if args.seeds:
        _seed_sweep(params, args.seeds, not args.csv_only)
    return 0 if ok else 1


def _seed_sweep(params: GroupParameters, n: int, use_export: bool) -> None:
    """Mean (min) ARI and stability over several seeds: is a result the method or the seed?"""
    print(f"over {n} seeds: mean (min) ARI, mean (min) stability, k chosen")
    for name in CONVERSATIONS:
        conv = load(name, use_export=use_export)
        rows = [evaluate(conv, dataclasses.replace(params, seed=1000 + i)) for i in range(n)]
        a = np.array([r["ari"] for r in rows])
        st = np.array([r["stability"] for r in rows])
        ks = [r["k"] for r in rows]
        print(
            f"{name:<28} ARI {a.mean():.2f} ({a.min():.2f})  stability {st.mean():.2f} "
            f"({st.min():.2f})  k {ks}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
