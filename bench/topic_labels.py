"""Do topic labels name what a topic is about? The labels of ten topics per real conversation.

Run: ``.venv/bin/python bench/topic_labels.py`` (``--save labels.json`` keeps this run's topics;
``--before labels.json`` adds a column with the labels a saved run gave the same statements, so a
change to the labels can be read before and after; ``--topics 10`` per conversation).

Each of the seven conversations in ../shared/data/polis is fitted alone, on the comments the app
would fit on (all but those moderators rejected), with the default model (vectors cached as in
``evaluate_topics.py``) handed to ``fit_topics`` for the labels. Printed as Markdown: per
conversation its ten largest topics with their size, the label a saved run gave the topic that
shares most of their statements, today's label, and the statement nearest the topic's centre.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import evaluate_topics  # noqa: E402
from evaluate_topics import DATA, cached_embeddings  # noqa: E402

from deliberate.analysis.embeddings import get_embedder  # noqa: E402
from deliberate.analysis.topics import OTHER, TopicModel, fit_topics  # noqa: E402
from deliberate.polis_format import read_export  # noqa: E402

CONVERSATIONS = (*evaluate_topics.CONVERSATIONS, "austria-climate.2vkxcncppn.2022-07-07")


def shown_comments(name: str) -> list[str]:
    """What people wrote and others could see: every comment but those moderators rejected."""
    return [c.text for c in read_export(DATA / name).comments if c.moderated != -1]


def fitted(name: str) -> tuple[list[str], TopicModel]:
    texts = shown_comments(name)
    return texts, fit_topics(texts, cached_embeddings(texts), embedder=get_embedder())


def summary(texts: list[str], model: TopicModel) -> dict[str, Any]:
    """What a later run needs to show these labels beside its own."""
    return {
        "texts": texts,
        "assignments": list(model.assignments),
        "labels": {str(t.id): t.label for t in model.topics},
    }


def matching_label(before: dict[str, Any], texts: list[str], members: np.ndarray) -> str:
    """The label of the saved topic holding most of these statements (by text), or a dash."""
    if before.get("texts") != texts:
        return "(other statements)"
    assigned = np.array(before["assignments"])[members]
    placed = assigned[assigned != OTHER]
    if not len(placed):
        return "Other"
    topic = int(np.bincount(placed).argmax())
    share = float(np.mean(assigned == topic))
    label = str(before["labels"].get(str(topic), f"Topic {topic + 1}"))
    return label if share >= 0.5 else f"{label} ({share:.0%} of these)"


def cell(text: str, width: int = 90) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def table(
    name: str, texts: list[str], model: TopicModel, before: dict[str, Any] | None, count: int
) -> list[str]:
    assigned = np.array(model.assignments)
    other = int(np.sum(assigned == OTHER))
    lines = [
        f"### {name}",
        "",
        f"{len(texts)} statements, {model.message} Language {model.language}.",
        "",
    ]
    head = ["topic", "size", *(["before"] if before is not None else []), "label", "nearest"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for topic in [t for t in model.topics if t.id != OTHER][:count]:
        members = np.flatnonzero(assigned == topic.id)
        row = [str(topic.id), str(topic.size)]
        if before is not None:
            row.append(cell(matching_label(before, texts, members)))
        nearest = texts[topic.representative[0]] if topic.representative else ""
        row += [cell(topic.label), cell(nearest, 70)]
        lines.append("| " + " | ".join(row) + " |")
    if other:
        shown = model.topic(OTHER)
        examples = [texts[i] for i in shown.representative] if shown else []
        lines += [
            "",
            f"Other: {other} statements, e.g. " + "; ".join(cell(t, 40) for t in examples),
        ]
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="labels saved by an earlier run (--save)")
    parser.add_argument("--save", type=Path, help="save this run's topics for a later --before")
    parser.add_argument("--topics", type=int, default=10, help="topics shown per conversation")
    args = parser.parse_args()

    before = json.loads(args.before.read_text()) if args.before else None
    saved: dict[str, Any] = {}
    for name in CONVERSATIONS:
        texts, model = fitted(name)
        saved[name] = summary(texts, model)
        earlier = before.get(name, {}) if before is not None else None
        print("\n".join(table(name, texts, model, earlier, args.topics)))
    if args.save:
        args.save.write_text(json.dumps(saved, ensure_ascii=False))


if __name__ == "__main__":
    main()
