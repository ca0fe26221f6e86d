"""How fast are embedding, topic fitting and placing a new statement, and how much memory?

Run: ``.venv/bin/python bench/bench_topics.py`` (``--sizes 1000,10000`` to run fewer sizes,
``--no-baseline`` to skip BERTopic's default pipeline). Set NUMBA_CACHE_DIR to a writable folder.

Every measurement runs in its own subprocess, so imports, numba compilation and peak memory
(``ru_maxrss`` of that process) are those of a fresh worker. Reported:

- embedding throughput of the default model on the real comments of the six Polis conversations
  (batch 32, after one warm-up batch), and the model's load time;
- topic fitting (``fit_topics``, clustering given the stored embeddings) on 1,000, 10,000 and
  100,000 statements, next to BERTopic's default pipeline (UMAP + HDBSCAN(min_cluster_size=10),
  given the same embeddings, only its UMAP seeded) in the same run;
- ``assign_topic`` latency: median of 200 calls on a warm model fitted on 10,000 statements.

Corpora: the 713 real comments with their real embeddings, topped up to the size with resampled
real comments whose embedding gets Gaussian noise (sd 0.0316 per dimension, then renormalised:
cosine ≈ 0.85 to the source) and which keep their source's text. So every corpus has the topic
structure and vocabulary of real consultations, with near-duplicates around each real comment.
Targets on 2 cores: 10,000 under 15 s, 100,000 under 3 minutes and 4 GB, placing under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

NOISE_SD = 0.0316
DEFAULT_LIMIT_S = 600  # skip BERTopic's default where it is expected to take longer


def corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """The real comments and vectors, topped up to ``n`` with noisy resamples of them."""
    from evaluate_topics import cached_embeddings, load_comments

    texts, _ = load_comments()
    real = cached_embeddings(texts)
    rng = np.random.default_rng(seed)
    if n <= len(texts):
        keep = np.sort(rng.choice(len(texts), n, replace=False))
        return [texts[i] for i in keep], real[keep]
    extra = rng.integers(0, len(texts), n - len(texts))
    noisy = real[extra] + rng.normal(0.0, NOISE_SD, (len(extra), real.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return texts + [texts[i] for i in extra], np.vstack([real, noisy])


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- measurements, each run in a child process --------------------------------------------------


def child_embed(threads: int) -> dict[str, float]:
    import torch
    from evaluate_topics import load_comments

    from deliberate.analysis.embeddings import get_embedder

    if threads:
        torch.set_num_threads(threads)
    texts, _ = load_comments()
    started = time.perf_counter()
    embedder = get_embedder()
    load = time.perf_counter() - started
    embedder.embed(texts[:32])  # warm-up batch
    started = time.perf_counter()
    embedder.embed(texts, batch_size=32)
    took = time.perf_counter() - started
    return {
        "statements": len(texts),
        "load_s": load,
        "embed_s": took,
        "per_s": len(texts) / took,
        "torch_threads": torch.get_num_threads(),
        "peak_mb": peak_mb(),
    }


def child_ours(n: int) -> dict[str, float]:
    texts, vectors = corpus(n)
    started = time.perf_counter()
    import bertopic  # noqa: F401  (imported by fit_topics; timed apart: a worker pays it once)

    from deliberate.analysis.topics import fit_topics

    imports = time.perf_counter() - started
    started = time.perf_counter()
    model = fit_topics(texts, vectors)
    took = time.perf_counter() - started
    assigned = np.array(model.assignments)
    return {
        "import_s": imports,
        "fit_s": took,
        "topics": len(model.topics) - int((assigned == -1).any()),
        "other": float(np.mean(assigned == -1)),
        "peak_mb": peak_mb(),
    }


def child_default(n: int) -> dict[str, float]:
    texts, vectors = corpus(n)
    started = time.perf_counter()
    from bertopic import BERTopic
    from umap import UMAP

    imports = time.perf_counter() - started
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    started = time.perf_counter()
    topics = np.array(BERTopic(umap_model=umap).fit_transform(texts, embeddings=vectors)[0])
    took = time.perf_counter() - started
    return {
        "import_s": imports,
        "fit_s": took,
        "topics": len(set(topics.tolist()) - {-1}),
        "other": float(np.mean(topics == -1)),
        "peak_mb": peak_mb(),
    }


def child_assign(n: int) -> dict[str, float]:
    from deliberate.analysis.topics import TopicModel, assign_topic, fit_topics

    texts, vectors = corpus(n)
    model = fit_topics(texts, vectors)
    stored = json.loads(json.dumps(model.to_dict()))
    rng = np.random.default_rng(1)
    probes = vectors[rng.integers(0, n, 200)] + rng.normal(0, NOISE_SD, (200, vectors.shape[1]))
    loaded = TopicModel.from_dict(stored)
    assign_topic(loaded, probes[0])  # warm: builds the centroid matrix once
    timings = []
    for probe in probes:
        started = time.perf_counter()
        assign_topic(loaded, probe)
        timings.append(time.perf_counter() - started)
    from_dict = []
    for probe in probes[:50]:
        started = time.perf_counter()
        assign_topic(stored, probe)
        from_dict.append(time.perf_counter() - started)
    agree = np.mean(
        [assign_topic(loaded, v) == a for v, a in zip(vectors, model.assignments, strict=True)]
    )
    return {
        "median_ms": 1000 * float(np.median(timings)),
        "p99_ms": 1000 * float(np.percentile(timings, 99)),
        "median_from_dict_ms": 1000 * float(np.median(from_dict)),
        "agrees_with_fit": float(agree),
        "topics": len(model.topics),
    }


def run_child(task: str, n: int = 0) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", task, "--n", str(n)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=os.environ)
    if done.returncode != 0:
        raise RuntimeError(f"{task} {n} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        task = {
            "embed": child_embed,
            "ours": child_ours,
            "default": child_default,
            "assign": child_assign,
        }[args.child]
        result = task(args.n)
        print(json.dumps(result))
        return

    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(tempfile.gettempdir()) / "numba-cache"))
    print(
        f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f} "
        "(the machine is shared: figures move with the load)",
        flush=True,
    )
    for threads in (0, 1):
        embed = run_child("embed", threads)
        print(
            f"embedding {embed['statements']} real comments, batch 32, "
            f"{embed['torch_threads']} torch thread(s){'' if threads else ' (default)'}: "
            f"{embed['per_s']:.0f} statements/s; model load {embed['load_s']:.1f} s; "
            f"peak {embed['peak_mb']:.0f} MB",
            flush=True,
        )
    print()
    header = (
        f"{'statements':>10}  {'pipeline':<28} {'fit s':>7} {'imports s':>9} {'topics':>6} "
        f"{'Other':>6} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    default_s: dict[int, float] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        ours = run_child("ours", n)
        print(
            f"{n:>10}  {'ours (k-means + c-TF-IDF)':<28} {ours['fit_s']:>7.1f} "
            f"{ours['import_s']:>9.1f} {ours['topics']:>6} {ours['other']:>6.1%} "
            f"{ours['peak_mb']:>8.0f}",
            flush=True,
        )
        if args.no_baseline:
            continue
        previous = [m for m in default_s if m < n]
        if previous:
            m = max(previous)
            expected = default_s[m] * (n / m) ** 1.2  # UMAP's nearest-neighbour graph: ~n^1.14
            if expected > DEFAULT_LIMIT_S:
                print(
                    f"{n:>10}  {'BERTopic defaults':<28} skipped: expected ≈ {expected:.0f} s "
                    f"from {m} statements (> {DEFAULT_LIMIT_S} s)",
                    flush=True,
                )
                continue
        base = run_child("default", n)
        default_s[n] = base["fit_s"]
        print(
            f"{n:>10}  {'BERTopic defaults':<28} {base['fit_s']:>7.1f} {base['import_s']:>9.1f} "
            f"{base['topics']:>6} {base['other']:>6.1%} {base['peak_mb']:>8.0f}",
            flush=True,
        )
    print()
    placed = run_child("assign", 10_000)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        f"assign_topic on a warm model of 10,000 statements ({placed['topics']} topics): median "
        f"{placed['median_ms']:.3f} ms, p99 {placed['p99_ms']:.3f} ms over 200 calls; "
        f"from the stored dict each call {placed['median_from_dict_ms']:.1f} ms; "
        f"agrees with the fit on {placed['agrees_with_fit']:.1%} of fitted statements"
    )


if __name__ == "__main__":
    main()
