"""Do our topics keep apart what people wrote in six unrelated real conversations?

Run: ``.venv/bin/python bench/evaluate_topics.py`` (``--accepted`` leaves out comments moderators
rejected; ``--no-baseline`` skips BERTopic's default pipeline; ``--set name=value`` tries another
TopicParameters value, e.g. ``--set outlier_similarity=0.35``).

Every comment of the six conversations in ../shared/data/polis is mixed into one corpus, embedded
once with the default model (vectors cached under /tmp, keyed by the model fingerprint and the
texts) and given to ``fit_topics`` with that model for the labels (``--no-label-model``: c-TF-IDF
labels only). For each topic, its majority conversation is the one most of
its statements come from. Reported:

- purity: share of the statements placed in a topic (not Other) whose topic's majority
  conversation is their own. Other is not a topic, so it has no majority; this figure is only
  honest next to the Other share, which is why both are printed and both have targets.
- strict purity: the same over all statements, counting every statement in Other as wrong.
- topics, statements per topic, Other share, the adjusted Rand index against the conversations
  (only indicative: one conversation is rightly split into several topics) and the fitting time.

Targets (issue 5): purity >= 0.9, at most one topic per 10 statements, Other under 25%.
A reference ceiling is printed too: how often a statement's nearest other statement (cosine)
comes from its own conversation. No grouping of these vectors can be much purer than that.
Then the topics of scoop-hivemind.biodiversity alone, with their labels and sizes.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deliberate.analysis.embeddings import get_embedder, model_fingerprint  # noqa: E402
from deliberate.analysis.topics import TopicModel, TopicParameters, fit_topics  # noqa: E402
from deliberate.polis_format import read_export  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "polis"
CACHE = Path(tempfile.gettempdir()) / "deliberate-topics-cache"
CONVERSATIONS = (
    "15-per-hour-seattle",
    "brexit-consensus",
    "canadian-electoral-reform",
    "london.youth.policing",
    "scoop-hivemind.biodiversity",
    "scoop-hivemind.freshwater",
)


def load_comments(accepted_only: bool = False) -> tuple[list[str], np.ndarray]:
    """Texts and their conversation, in folder then comment order."""
    texts: list[str] = []
    sources: list[str] = []
    for name in CONVERSATIONS:
        for comment in read_export(DATA / name).comments:
            if accepted_only and comment.moderated == -1:
                continue
            texts.append(comment.text)
            sources.append(name)
    return texts, np.array(sources)


def cached_embeddings(texts: list[str], model: str | None = None) -> np.ndarray:
    """Embed once per model and text set; later runs read the vectors from /tmp."""
    fingerprint = model_fingerprint(model)
    key = hashlib.sha256("\x00".join([fingerprint, *texts]).encode()).hexdigest()[:24]
    path = CACHE / f"{key}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = get_embedder(model).embed(texts)
    took = time.perf_counter() - started
    print(f"embedded {len(texts)} texts in {took:.1f} s ({len(texts) / took:.0f}/s), cached")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def purity(assignments: np.ndarray, sources: np.ndarray) -> tuple[float, float]:
    """(purity over statements in topics, strict purity over all with Other counted wrong)."""
    right = 0
    for topic in set(assignments.tolist()) - {-1}:
        members = sources[assignments == topic]
        right += Counter(members.tolist()).most_common(1)[0][1]
    placed = int((assignments != -1).sum())
    return right / max(1, placed), right / len(assignments)


def by_conversation(assignments: np.ndarray, sources: np.ndarray) -> dict[str, float]:
    """Per conversation: share of its statements in a topic where it is the majority."""
    majority = {
        t: Counter(sources[assignments == t].tolist()).most_common(1)[0][0]
        for t in set(assignments.tolist()) - {-1}
    }
    return {
        name: float(
            np.mean([majority.get(t) == name for t in assignments[sources == name].tolist()])
        )
        for name in CONVERSATIONS
        if (sources == name).any()
    }


def nearest_neighbour_ceiling(vectors: np.ndarray, sources: np.ndarray) -> float:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    return float(np.mean(sources[np.argmax(sims, axis=1)] == sources))


def bertopic_default(texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """BERTopic as documented, given our embeddings: UMAP + HDBSCAN(min_cluster_size=10)."""
    from bertopic import BERTopic
    from umap import UMAP

    # Only the seed is added (BERTopic's own advice for reproducible runs).
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    return np.array(BERTopic(umap_model=umap).fit_transform(texts, embeddings=vectors)[0])


def row(name: str, assignments: np.ndarray, sources: np.ndarray, seconds: float) -> str:
    from sklearn.metrics import adjusted_rand_score

    topics = len(set(assignments.tolist()) - {-1})
    pure, strict = purity(assignments, sources)
    other = float(np.mean(assignments == -1))
    ari = adjusted_rand_score(sources, assignments)
    per_topic = len(assignments) / max(1, topics)
    return (
        f"{name:<34} {topics:>6} {per_topic:>9.1f} {other:>7.1%} {pure:>7.3f} {strict:>7.3f}"
        f" {ari:>6.2f} {seconds:>7.1f}"
    )


def print_topics(model: TopicModel, texts: list[str]) -> None:
    for topic in model.topics:
        example = texts[topic.representative[0]].replace("\n", " ") if topic.representative else ""
        example = example if len(example) <= 70 else example[:67] + "..."
        print(f"  {topic.id:>3} {topic.size:>4}  {topic.label:<45} | {example}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accepted", action="store_true", help="leave out rejected comments")
    parser.add_argument("--no-baseline", action="store_true", help="skip BERTopic's defaults")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the mixed topics")
    parser.add_argument(
        "--no-label-model", action="store_true", help="label with c-TF-IDF words only"
    )
    args = parser.parse_args()

    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        kind = type(getattr(TopicParameters(), name))
        overrides[name] = tuple(int(v) for v in value.split(",")) if kind is tuple else kind(value)
    parameters = dataclasses.replace(TopicParameters(), **overrides)

    texts, sources = load_comments(args.accepted)
    vectors = cached_embeddings(texts)
    embedder = None if args.no_label_model else get_embedder()
    counts = Counter(sources.tolist())
    print(
        f"{len(texts)} comments from {len(counts)} conversations"
        f" ({'accepted and unreviewed' if args.accepted else 'all, rejected included'}):"
    )
    print("  " + ", ".join(f"{name} {counts[name]}" for name in CONVERSATIONS))
    print(f"model: {model_fingerprint()}")
    if overrides:
        print(f"parameters changed: {overrides}")
    print()
    header = (
        f"{'method':<34} {'topics':>6} {'per topic':>9} {'Other':>7} {'purity':>7} {'strict':>7}"
        f" {'ARI':>6} {'time s':>7}"
    )
    print(header)
    print("-" * len(header))

    started = time.perf_counter()
    model = fit_topics(texts, vectors, parameters=parameters, embedder=embedder)
    ours = np.array(model.assignments)
    print(row("ours (k-means + c-TF-IDF)", ours, sources, time.perf_counter() - started))
    started = time.perf_counter()
    again = fit_topics(texts, vectors, parameters=parameters, embedder=embedder)
    print(
        row(
            "ours, second fit (warm imports)",
            np.array(again.assignments),
            sources,
            time.perf_counter() - started,
        )
    )
    if not args.no_baseline:
        started = time.perf_counter()
        default = bertopic_default(texts, vectors)
        print(
            row("BERTopic defaults (UMAP+HDBSCAN)", default, sources, time.perf_counter() - started)
        )
    spread = [
        purity(
            np.array(fit_topics(texts, vectors, seed=seed, parameters=parameters).assignments),
            sources,
        )[0]
        for seed in range(1, 6)
    ]
    print(
        f"{'ours, seeds 1-5: purity mean':<34} {'':>6} {'':>9} {'':>7} {np.mean(spread):>7.3f}"
        f"  (min {min(spread):.3f}, max {max(spread):.3f})"
    )
    ceiling = nearest_neighbour_ceiling(vectors, sources)
    print(f"{'nearest-neighbour ceiling':<34} {'':>6} {'':>9} {'':>7} {ceiling:>7.3f}")
    print()
    print(f"same topics on a second fit: {again.to_dict() == model.to_dict()}")
    print(
        f"no real words (in Other): {model.parameters['without_words']}; words common to most"
        f" topics: {model.parameters['common_words']}"
    )
    print(
        f"k tried (silhouette): {model.parameters['silhouette']}; "
        f"chosen {model.parameters['k_chosen']}"
    )
    print(
        "per conversation, share in a topic it leads: "
        + ", ".join(f"{name} {share:.2f}" for name, share in by_conversation(ours, sources).items())
    )
    if args.verbose:
        print("\nmixed topics:")
        for topic in model.topics:
            mix = Counter(sources[ours == topic.id].tolist()).most_common()
            print(f"  {topic.id:>3} {topic.size:>4} {topic.label:<40} {mix}")

    mask = sources == "scoop-hivemind.biodiversity"
    bio_texts = [t for t, keep in zip(texts, mask, strict=True) if keep]
    started = time.perf_counter()
    bio = fit_topics(bio_texts, vectors[mask], parameters=parameters, embedder=embedder)
    took = time.perf_counter() - started
    print(
        f"\nscoop-hivemind.biodiversity alone: {bio.message} ({took:.1f} s, language "
        f"{bio.language})"
    )
    print(f"  {'id':>3} {'size':>4}  {'label':<45} | most representative statement")
    print_topics(bio, bio_texts)


if __name__ == "__main__":
    main()
