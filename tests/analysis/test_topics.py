"""Topics from statements: planted groups of fixed vectors (fast), and one run on the real model.

The vectors are built so the right topics are known: each planted topic is one direction plus a
little noise, and its texts are drawn from that topic's own words plus common stop words.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from deliberate.analysis.topics import (
    OTHER,
    TopicModel,
    TopicParameters,
    assign_topic,
    detect_language,
    fit_topics,
    has_words,
)

ROOT = Path(__file__).resolve().parents[2]

ENGLISH = (
    ("rivers", "water", "pollution", "farms", "nitrates", "swimming", "streams"),
    ("wage", "businesses", "workers", "hour", "prices", "jobs", "employers"),
    ("police", "officers", "youth", "stop", "search", "trust", "community"),
)
ENGLISH_GLUE = "the of and is to we should our that it are for in"
GERMAN = (
    ("Windkraftanlagen", "Stromnetz", "Solardächer", "Energiewende", "Netzausbau"),
    ("Wasserqualität", "Grundwasser", "Nitratbelastung", "Flussufer", "Trinkwasser"),
)
GERMAN_GLUE = "die der und ist nicht wir sollten das mit für auf den zu"
CHINESE = (
    ("最低工资", "小企业", "工人收入", "物价上涨", "就业机会"),
    ("河流污染", "水质监测", "农田化肥", "饮用水源", "湿地保护"),
)
CHINESE_GLUE = "我们的 应该 是 了 在 和 都"


def planted(
    sizes: tuple[int, ...],
    vocabulary: tuple[tuple[str, ...], ...],
    glue: str,
    *,
    joiner: str = " ",
    dim: int = 24,
    noise: float = 0.08,
    seed: int = 3,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts, vectors and the true topic of each statement."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    directions = np.eye(dim, dtype=np.float32)[: len(sizes)]
    vectors = directions[truth] + rng.normal(0, noise, (len(truth), dim)).astype(np.float32)
    glue_words = glue.split()
    texts = []
    for topic in truth:
        words = list(rng.choice(vocabulary[topic], 3, replace=False))
        words += list(rng.choice(glue_words, 3))
        rng.shuffle(words)
        texts.append(joiner.join(words))
    return texts, vectors, truth


def same_grouping(assignments: tuple[int, ...], truth: np.ndarray) -> bool:
    pairs = set(zip(assignments, truth.tolist(), strict=True))
    return len(pairs) == len({a for a, _ in pairs}) == len({t for _, t in pairs})


def topic_texts(model: TopicModel, texts: list[str], topic_id: int) -> list[str]:
    return [t for t, a in zip(texts, model.assignments, strict=True) if a == topic_id]


def test_planted_topics_are_found_and_labelled_with_their_own_words() -> None:
    texts, vectors, truth = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts, vectors)

    assert model.status == "ok"
    assert model.language == "en"
    assert same_grouping(model.assignments, truth)
    assert [t.size for t in model.topics] == [14, 12, 10]
    for topic in model.topics:
        planted_words = set(ENGLISH[int(truth[topic.representative[0]])])
        assert set(topic.keywords) <= planted_words
        assert topic.label == ", ".join(topic.keywords[:4])
        assert not set(topic.keywords) & ENGLISH_STOP_WORDS
        assert len(topic.representative) == 5
        assert all(model.assignments[i] == topic.id for i in topic.representative)


@pytest.mark.slow
def test_same_statements_give_the_same_topics_in_another_call_and_another_process() -> None:
    texts, vectors, _ = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    first = fit_topics(texts, vectors).to_dict()
    assert fit_topics(texts, vectors).to_dict() == first

    script = (
        "import json, sys\n"
        "from tests.analysis.test_topics import ENGLISH, ENGLISH_GLUE, planted\n"
        "from deliberate.analysis.topics import fit_topics\n"
        "texts, vectors, _ = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)\n"
        "print(json.dumps(fit_topics(texts, vectors).to_dict()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == json.loads(json.dumps(first))


def test_large_corpus_path_is_deterministic_and_places_every_statement_at_its_nearest_topic() -> (
    None
):
    # k-means on a seeded sample, then refined on everything: the path taken above 10,000.
    texts, vectors, truth = planted((120, 100, 80), ENGLISH, ENGLISH_GLUE, noise=0.05)
    small_sample = TopicParameters(kmeans_sample=90, statements_per_topic=100)
    model = fit_topics(texts, vectors, parameters=small_sample)

    assert model.to_dict() == fit_topics(texts, vectors, parameters=small_sample).to_dict()
    assert model.parameters["kmeans_fitted_on"] == 90
    assert same_grouping(model.assignments, truth)
    assert [assign_topic(model, v) for v in vectors] == list(model.assignments)


def test_small_consultation_still_gets_topics() -> None:
    texts, vectors, truth = planted((6, 5), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts, vectors)

    assert model.status == "ok"
    assert len(model.topics) == 2
    assert same_grouping(model.assignments, truth)
    assert model.parameters["k_candidates"] == [2]


def test_small_consultation_chooses_how_many_topics_by_silhouette() -> None:
    texts, vectors, truth = planted((10, 9, 8), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts, vectors)

    assert model.parameters["k_candidates"] == [2, 3]
    assert model.parameters["k_chosen"] == 3
    assert same_grouping(model.assignments, truth)


@pytest.mark.parametrize("n", [0, 1, 9])
def test_a_handful_of_statements_gets_no_topics_and_says_why(n: int) -> None:
    texts, vectors, _ = planted((5, 5), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts[:n], vectors[:n])

    assert model.status == "too_few"
    assert model.topics == ()
    assert model.assignments == (OTHER,) * n
    assert "at least 10 statements" in model.message
    assert f"there are {n}" in model.message
    assert assign_topic(model, vectors[0]) == OTHER


def test_statements_unlike_any_topic_are_kept_as_other() -> None:
    texts, vectors, truth = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    odd_texts = ["the sky is blue", "my cat likes boxes"]
    odd_vectors = np.zeros((2, vectors.shape[1]), dtype=np.float32)
    odd_vectors[[0, 1], [10, 11]] = 1.0  # directions no topic has
    model = fit_topics(texts + odd_texts, np.vstack([vectors, odd_vectors]))

    assert model.assignments[-2:] == (OTHER, OTHER)
    assert same_grouping(model.assignments[:-2], truth)
    other = model.topic(OTHER)
    assert other is not None
    assert (other.label, other.size, other.centroid) == ("Other", 2, ())
    assert model.topics[-1] is other
    assert "2 fit no topic" in model.message


def test_german_labels_keep_compound_words_as_written() -> None:
    texts, vectors, truth = planted((12, 11), GERMAN, GERMAN_GLUE)
    model = fit_topics(texts, vectors)

    assert model.language == "de"
    assert same_grouping(model.assignments, truth)
    for topic in model.topics:
        members = topic_texts(model, texts, topic.id)
        assert topic.keywords
        for word in topic.keywords:
            assert any(word in text.split() for text in members), word
        assert not {w.lower() for w in topic.keywords} & set(GERMAN_GLUE.split())
    assert "Windkraftanlagen" in model.topics[0].keywords + model.topics[1].keywords


def test_chinese_labels_are_pieces_of_the_text() -> None:
    texts, vectors, truth = planted((12, 11), CHINESE, CHINESE_GLUE, joiner="")
    model = fit_topics(texts, vectors)

    assert model.language == "zh"
    assert same_grouping(model.assignments, truth)
    for topic in model.topics:
        members = topic_texts(model, texts, topic.id)
        assert topic.keywords
        for word in topic.keywords:
            assert any(word in text for text in members), word
        # Character pairs are joined back into the words they were cut from, and pairs where
        # two words meet ("业最" in "小企业最低工资") or made of grammar ("我们") are left out.
        planted_words = set(CHINESE[int(truth[topic.representative[0]])])
        assert set(topic.keywords) <= planted_words
        assert len(topic.keywords) >= 4


def test_topics_survive_a_trip_through_json() -> None:
    texts, vectors, _ = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts, vectors)
    stored = json.loads(json.dumps(model.to_dict()))

    assert TopicModel.from_dict(stored) == model
    assert TopicModel.from_dict(stored).to_dict() == stored


def test_new_statement_goes_to_the_nearest_topic_without_refitting() -> None:
    texts, vectors, truth = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(texts, vectors)
    stored = model.to_dict()
    wage_topic = model.assignments[int(np.flatnonzero(truth == 1)[0])]

    near_wages = np.eye(vectors.shape[1], dtype=np.float32)[1] * 3.0  # any length
    unrelated = np.eye(vectors.shape[1], dtype=np.float32)[20]

    assert assign_topic(model, near_wages) == wage_topic
    assert assign_topic(stored, near_wages) == wage_topic
    assert assign_topic(model, unrelated) == OTHER
    assert assign_topic(model, unrelated, min_similarity=-1.0) != OTHER
    assert assign_topic(model, np.zeros(vectors.shape[1])) == OTHER
    assert [assign_topic(model, v) for v in vectors] == list(model.assignments)


def test_identical_statements_make_one_topic_even_with_a_single_word() -> None:
    vectors = np.tile(np.eye(8, dtype=np.float32)[0], (12, 1))
    model = fit_topics(["the same words here"] * 12, vectors)

    assert model.status == "ok"
    assert model.assignments == (0,) * 12
    assert [(t.label, t.size) for t in model.topics] == [("words", 12)]


def test_topics_without_label_words_get_numbers() -> None:
    _, vectors, truth = planted((6, 6), ENGLISH, ENGLISH_GLUE)
    model = fit_topics(["I am yours", "So it is", "We are"] * 4, vectors)

    assert same_grouping(model.assignments, truth)
    assert [t.label for t in model.topics] == ["Topic 1", "Topic 2"]


def test_keyboard_mash_goes_to_other_while_short_real_comments_stay_in_their_topic() -> None:
    texts, vectors, truth = planted((14, 12, 10), ENGLISH, ENGLISH_GLUE)
    mash = ["test, 213213joi12j, 234", "asdfgh", "1406155523802", "?", "This is a test", "sdfsdf"]
    short = ["Poop.", "I am yours", "Bin dafür", "HYDROSOLARKRAFTWERK", "我同意", "Я согласен"]
    # Every added statement sits right on the first topic's direction: only its words differ.
    extra = np.tile(vectors[0], (len(mash) + len(short), 1))
    model = fit_topics(texts + mash + short, np.vstack([vectors, extra]))

    n = len(texts)
    first = model.assignments[0]
    assert model.assignments[n : n + len(mash)] == (OTHER,) * len(mash)
    assert model.assignments[n + len(mash) :] == (first,) * len(short)
    assert same_grouping(model.assignments[:n], truth)
    assert model.parameters["without_words"] == len(mash)
    assert f"{len(mash)} of them with no real words" in model.message
    assert [has_words(t) for t in mash] == [False] * len(mash)
    assert assign_topic(model, vectors[0], text="asdf 123") == OTHER
    assert assign_topic(model, vectors[0], text="Wasserkraft") == first


def test_a_word_common_to_most_topics_labels_none_of_them() -> None:
    texts, vectors, _ = planted((14, 12, 10, 12), (*ENGLISH, ENGLISH[0][::-1]), ENGLISH_GLUE)
    texts = [f"{text} in Bowling Green" for text in texts]

    everywhere = fit_topics(texts, vectors, parameters=TopicParameters(common_share=1.0))
    model = fit_topics(texts, vectors)

    assert "Bowling" in {w for t in everywhere.topics for w in t.keywords}
    assert not {"Bowling", "Green"} & {w for t in model.topics for w in t.keywords}
    assert model.parameters["common_words"] == ["Bowling", "Green"]
    assert all(t.label for t in model.topics)


def test_embeddings_must_match_the_texts() -> None:
    texts, vectors, _ = planted((6, 6), ENGLISH, ENGLISH_GLUE)
    with pytest.raises(ValueError, match="one embedding row per text"):
        fit_topics(texts[:-1], vectors)


@pytest.mark.parametrize(
    ("texts", "language"),
    [
        (["We should clean the rivers and protect the water for our children."], "en"),
        (["Wir sollten die Flüsse schützen und das Grundwasser nicht verschmutzen."], "de"),
        (["Nous devons protéger les rivières et la qualité de l'eau pour tous."], "fr"),
        (["我们应该保护河流和饮用水源。"], "zh"),
        (["12345 67890"], "und"),
    ],
)
def test_language_is_detected_from_the_texts(texts: list[str], language: str) -> None:
    assert detect_language(texts) == language


# --- with the real model -------------------------------------------------------------------------


def first_accepted_comments(name: str, count: int) -> list[str]:
    from deliberate.polis_format import read_export
    from tests.analysis.helpers import POLIS_DATA

    folder = POLIS_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real Polis data not found at {folder}")
    comments = [c.text for c in read_export(folder).comments if c.moderated == 1]
    return comments[:count]


@pytest.mark.model
def test_real_comments_from_two_conversations_give_two_topics_in_their_own_words() -> None:
    from deliberate.analysis.embeddings import get_embedder

    wages = first_accepted_comments("15-per-hour-seattle", 20)
    water = first_accepted_comments("scoop-hivemind.freshwater", 20)
    texts = wages + water
    embedder = get_embedder()
    model = fit_topics(texts, embedder.embed(texts))

    topics = [t for t in model.topics if t.id != OTHER]
    assert len(topics) == 2
    source = np.array([0] * len(wages) + [1] * len(water))
    assigned = np.array(model.assignments)
    for topic in topics:
        members = source[assigned == topic.id]
        assert np.mean(members == np.bincount(members).argmax()) >= 0.8
        words = " ".join(topic_texts(model, texts, topic.id))
        assert all(word in words for word in topic.keywords)
    assert np.mean(assigned == OTHER) <= 0.2
    labels = " ".join(t.label.lower() for t in topics)
    assert "wage" in labels
    assert "water" in labels

    new = embedder.embed(["Our rivers are too polluted to swim in."])[0]
    water_topic = np.bincount(assigned[source == 1][assigned[source == 1] >= 0]).argmax()
    assert assign_topic(model, new, min_similarity=0.0) == water_topic


@pytest.mark.model
def test_labels_rank_candidate_words_with_the_given_embedder_and_download_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses
    import socket

    from deliberate.analysis.embeddings import get_embedder

    class Recording:
        """The real model, noting what it is asked to embed."""

        def __init__(self, model: Any) -> None:
            self.model = model
            self.asked: list[str] = []

        def encode(self, texts: list[str], **options: Any) -> np.ndarray:
            self.asked.extend(texts)
            return np.asarray(self.model.encode(texts, **options))

    real = get_embedder()
    texts = first_accepted_comments("15-per-hour-seattle", 20)
    texts += first_accepted_comments("scoop-hivemind.freshwater", 20)
    vectors = real.embed(texts)
    recording = Recording(real.model)
    embedder = dataclasses.replace(real, model=recording)

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fit_topics tried to connect to the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    model = fit_topics(texts, vectors, embedder=embedder)

    assert recording.asked, "the given embedder ranked no words"
    assert not set(recording.asked) & set(texts)  # statements keep their stored vectors
    asked = {w.lower() for w in recording.asked}
    assert all(t.keywords[0].lower() in asked for t in model.topics if t.id != OTHER)
    assert model.parameters["label_model"] == real.fingerprint
    plain = fit_topics(texts, vectors)
    assert plain.assignments == model.assignments  # the labels change, never the topics
    with pytest.raises(ValueError, match="the model that made the vectors"):
        fit_topics(texts, vectors[:, :100], embedder=embedder)
