"""Topics from what people wrote: spherical k-means on stored embeddings, labelled by BERTopic.

The statements are grouped on the embeddings stored for them (never re-embedded), then BERTopic,
given those groups (its documented "manual topic modelling": no UMAP, no HDBSCAN), computes the
c-TF-IDF words of each topic and, given the model that made the vectors, its KeyBERTInspired
ranks them by meaning and MaximalMarginalRelevance drops words that repeat one another.
Choices, measured on the six real Polis conversations mixed into one corpus of 713 comments
(``bench/evaluate_topics.py``) and on corpora up to 100,000 statements (``bench/bench_topics.py``):

- No UMAP + HDBSCAN. BERTopic's defaults cut the 713 comments into 10 topics of purity 0.81 (and
  10,000 statements into 568 topics in 85 s); no UMAP/HDBSCAN setting we tried beat k-means on the
  raw 384-d vectors at the same number of topics (purity ≈ 0.87), and UMAP costs ≈ 6.5 s of numba
  compilation per process and minutes at 100,000 statements. The ceiling is the embedding: a
  statement's nearest neighbour comes from its own conversation only 90% of the time.
- How many topics: n / 15 (at most 50). Silhouette on short-comment embeddings barely moves from
  k = 20 to 50 (by less than its spread between seeds), so it cannot choose fine topics; purity
  rises with k and readability falls, and about fifteen statements per topic balanced the two.
  Small consultations (that rule giving 6 or fewer) try k = 2 .. n/8 by silhouette, which does tell
  real structure apart there. Fewer than ``min_statements`` get no topics (``too_few``).
- "Other" (topic -1): a statement much less similar to its nearest topic centre than that topic's
  statements are (under mean - 2 sd of their similarities, clamped to 0.25..0.5 cosine), and the
  members of topics smaller than the minimum size. New statements are placed by the same rule
  with the stored centres and thresholds (``assign_topic``), so fitting and placing agree.
- Spherical refinement: the k-means centres (fitted on a seeded sample when the corpus is large)
  are refined on every statement with cosine assignments until nothing moves, so each stored
  centre is the mean of its statements and each statement sits at its nearest centre.
- Deterministic: seeded k-means and samples, BLAS/OpenMP on one thread while clustering (the
  summation order then does not depend on the machine), topics numbered by size then first member.
- Statements with no real words (numbers, keyboard mash, "test": ``has_words``) are left out of
  the clustering and put in Other; on the seven real conversations (1,752 comments) that rule
  takes exactly four, all rejected by Polis moderators ("?", "1406155523802", "foo", "Foo!"), and
  no real comment, however short ("Poop.", "Bin dafür", "HYDROSOLARKRAFTWERK").
- Label words, measured with ``bench/topic_labels.py`` on the seven conversations: c-TF-IDF alone
  put place names and verbs said everywhere first ("Zealanders, NZ, New", "consider", "make").
  Now a topic's candidates are its 30 best c-TF-IDF words said in at least two of its statements,
  less the words among the top ten of more than half the topics; KeyBERTInspired orders them by
  the cosine of each word's embedding (the same model; statements keep their stored vectors, so
  only candidate words are embedded, in batches of 256) to the topic's typical statements. Taking
  all 30 words as candidates cost four times the embedding time and let words said once
  ("Poop") into labels; taking only words in a fifth of the statements left generic ones
  ("need", "people") as the only candidates. Without an embedder the labels are the c-TF-IDF
  words, filtered the same way.
- Labels are words of the text in its language: stop words of the detected language removed, a
  label word must appear in a fifth of the topic's statements (c-TF-IDF alone favours words said
  once), tokens shown in their most frequent written form (German nouns keep their capitals), and
  text without spaces (Chinese, Japanese) cut into character pairs whose overlapping top pairs are
  joined back into the longer substring they come from.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

    from deliberate.analysis.embeddings import Embedder

OTHER = -1


@dataclass(frozen=True)
class TopicParameters:
    """How topics are fitted; every value is recorded in ``TopicModel.parameters``."""

    min_statements: int = 10
    statements_per_topic: int = 15  # k = n / this, between 2 and max_topics
    max_topics: int = 50
    small_up_to: int = 6  # if that k is at most this: k in 2..min(this, n/8) by silhouette
    smallest_topic: int = 3  # statements (and at least n/500): smaller topics go to Other
    other_spread: float = 2.0  # Other: under (mean - this * sd) of the topic's similarities,
    other_floor: float = 0.25  # and always under this cosine similarity to the topic's centre,
    other_ceiling: float = 0.5  # never at or over this one
    kmeans_starts: int = 4
    kmeans_sample: int = 10_000  # k-means runs on at most this many statements, then refines
    refine_iterations: int = 20
    top_words: int = 10  # keywords kept per topic
    candidate_words: int = 30  # c-TF-IDF words per topic that the embedder then ranks,
    candidate_support: int = 2  # of those said in at least this many of its statements
    common_share: float = 0.5  # a word in the top words of more than this share of topics: no label
    mmr_diversity: float = 0.1  # MaximalMarginalRelevance: 0 = most relevant words, 1 = most varied
    word_support: float = 0.2  # a label word is in this share of the topic's statements (>= 2)
    label_words: int = 4
    representatives: int = 5


@dataclass(frozen=True)
class Topic:
    id: int
    label: str
    keywords: tuple[str, ...]
    size: int
    representative: tuple[int, ...]
    centroid: tuple[float, ...]
    # In a consultation in several languages: the topic's label in each language present, from
    # the words of its statements in that language (empty otherwise, and in older runs).
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "id": self.id,
            "label": self.label,
            "keywords": list(self.keywords),
            "size": self.size,
            "representative": list(self.representative),
            "centroid": list(self.centroid),
        }
        if self.labels:
            d["labels"] = dict(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Topic:
        return cls(
            id=int(d["id"]),
            label=str(d["label"]),
            keywords=tuple(d["keywords"]),
            size=int(d["size"]),
            representative=tuple(int(i) for i in d["representative"]),
            centroid=tuple(float(x) for x in d["centroid"]),
            labels={str(k): str(v) for k, v in (d.get("labels") or {}).items()},
        )


@dataclass(frozen=True)
class TopicModel:
    status: str  # "ok" | "too_few"
    message: str
    assignments: tuple[int, ...]
    topics: tuple[Topic, ...]
    parameters: dict[str, Any] = field(hash=False)
    language: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "assignments": list(self.assignments),
            "topics": [topic.to_dict() for topic in self.topics],
            "parameters": self.parameters,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TopicModel:
        return cls(
            status=str(d["status"]),
            message=str(d["message"]),
            assignments=tuple(int(t) for t in d["assignments"]),
            topics=tuple(Topic.from_dict(t) for t in d["topics"]),
            parameters=dict(d["parameters"]),
            language=str(d["language"]),
        )

    def topic(self, topic_id: int) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    @cached_property
    def centroid_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(topic ids, unit centroids as rows, Other thresholds), for nearest-topic look-ups."""
        placed = [t for t in self.topics if t.id != OTHER and t.centroid]
        if not placed:
            empty = np.zeros(0, dtype=np.float32)
            return np.zeros(0, dtype=np.int64), empty.reshape(0, 0), empty
        ids = np.array([t.id for t in placed], dtype=np.int64)
        below = list(self.parameters.get("other_below", ()))
        floor = float(self.parameters.get("other_floor", 0.0))
        thresholds = np.array([below[i] if i < len(below) else floor for i in ids], np.float32)
        return ids, np.array([t.centroid for t in placed], dtype=np.float32), thresholds


def fit_topics(
    texts: Sequence[str],
    embeddings: np.ndarray,
    *,
    seed: int = 20240601,
    language: str | None = None,
    parameters: TopicParameters | None = None,
    embedder: Embedder | None = None,
    text_languages: Sequence[str] | None = None,
) -> TopicModel:
    """Group statements into labelled topics; the same inputs give the same topics in any process.

    ``embeddings`` are the stored vectors, one row per text (normalised here if they are not).
    ``language`` (e.g. "en", "de", "zh") chooses the stop words; None detects it from the texts.
    ``embedder`` is the model that made ``embeddings``: given, it ranks each topic's candidate
    words by meaning (BERTopic's KeyBERTInspired, then MaximalMarginalRelevance); without it the
    labels are the c-TF-IDF words alone. Statements are never embedded again, only words.
    Statements with no real words (see ``has_words``) are left out of the topics, in Other.
    ``text_languages`` (one code per text) in a consultation of several languages: each topic is
    then also labelled in each language present (``Topic.labels``), by the c-TF-IDF words of its
    statements in that language with that language's stop words. The topics themselves come from
    the vectors alone, so a multilingual model puts statements on one subject together whatever
    their language.
    """
    p = parameters or TopicParameters()
    texts = [str(t) for t in texts]
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"need one embedding row per text: {len(texts)} texts, embeddings {vectors.shape}"
        )
    if embedder is not None and embedder.dimension != vectors.shape[1]:
        raise ValueError(
            f"the embedder gives {embedder.dimension} dimensions and the stored vectors have "
            f"{vectors.shape[1]}: labels need the model that made the vectors"
        )
    n = len(texts)
    lang = (language or detect_language(texts)).lower()
    worded = np.array([has_words(t) for t in texts], dtype=bool)
    n_worded = int(worded.sum())
    recorded: dict[str, Any] = {
        "method": "spherical k-means on stored embeddings; BERTopic labels"
        + (" (c-TF-IDF, KeyBERTInspired, MaximalMarginalRelevance)" if embedder else " (c-TF-IDF)"),
        "seed": seed,
        "n_statements": n,
        "without_words": n - n_worded,
        "label_model": embedder.fingerprint if embedder is not None else None,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(p).items()},
    }
    if n_worded < p.min_statements:
        wordless = f" ({n - n_worded} more with no real words)" if n_worded < n else ""
        return TopicModel(
            status="too_few",
            message=(
                f"Topics need at least {p.min_statements} statements and there are "
                f"{n_worded}{wordless}: too few to group, so read them all."
            ),
            assignments=(OTHER,) * n,
            topics=(),
            parameters=recorded,
            language=lang,
        )

    unit = _normalise(vectors)
    fitted, centroids, _, choice = _cluster(unit[worded], p, seed)
    labels = np.full(n, OTHER, dtype=np.int64)
    labels[worded] = fitted
    recorded.update(choice)
    keywords, common = _topic_keywords(texts, unit, labels, lang, p, embedder)
    recorded["common_words"] = common
    labels_in = _labels_by_language(texts, unit, labels, text_languages, p, embedder)

    topics = []
    for topic_id in range(len(centroids)):
        members = np.flatnonzero(labels == topic_id)
        sims = unit[members] @ centroids[topic_id]
        best = members[np.lexsort((members, -sims))][: p.representatives]
        words = keywords.get(topic_id, ())
        topics.append(
            Topic(
                id=topic_id,
                label=", ".join(words[: p.label_words]) or f"Topic {topic_id + 1}",
                keywords=tuple(words),
                size=len(members),
                representative=tuple(int(i) for i in best),
                centroid=tuple(round(float(x), 6) for x in centroids[topic_id]),
                labels=labels_in.get(topic_id, {}),
            )
        )
    others = np.flatnonzero(labels == OTHER)
    if len(others):
        topics.append(
            Topic(
                id=OTHER,
                label="Other",
                keywords=tuple(keywords.get(OTHER, ())),
                size=len(others),
                representative=tuple(int(i) for i in others[: p.representatives]),
                centroid=(),
            )
        )
    wordless = f", {n - n_worded} of them with no real words" if n_worded < n else ""
    message = (
        f"{len(centroids)} topics from {n} statements; {len(others)} fit no topic (Other"
        f"{wordless})."
        if len(centroids)
        else f"No topic stands out among {n} statements: they are all under Other."
    )
    return TopicModel(
        status="ok",
        message=message,
        assignments=tuple(int(t) for t in labels),
        topics=tuple(topics),
        parameters=recorded,
        language=lang,
    )


def _labels_by_language(
    texts: list[str],
    unit: np.ndarray,
    labels: np.ndarray,
    text_languages: Sequence[str] | None,
    p: TopicParameters,
    embedder: Embedder | None,
) -> dict[int, dict[str, str]]:
    """Each topic's label in each language present: class-based TF-IDF over the statements of
    that language only (each topic's statements in it one class), with its stop words. Nothing
    when the statements are all in one language (the topic's ``label`` already says it)."""
    if text_languages is None or len(text_languages) != len(texts):
        return {}
    present = sorted({code for code in text_languages if code})
    if len(present) < 2:
        return {}
    codes = np.array(list(text_languages), dtype=object)
    result: dict[int, dict[str, str]] = {}
    for code in present:
        idx = np.flatnonzero(codes == code)
        sub_labels = labels[idx]
        if not (sub_labels >= 0).any():
            continue
        words, _ = _topic_keywords(
            [texts[i] for i in idx], unit[idx], sub_labels, code, p, embedder
        )
        for topic_id, topic_words in words.items():
            if topic_id >= 0 and topic_words:
                result.setdefault(topic_id, {})[code] = ", ".join(topic_words[: p.label_words])
    return result


def assign_topic(
    model: TopicModel | Mapping[str, Any],
    embedding: np.ndarray,
    min_similarity: float | None = None,
    text: str | None = None,
) -> int:
    """The topic whose centre is nearest (cosine) to ``embedding``, or -1 when none is close.

    By default "close" is the nearest topic's own threshold from the fit, so a new statement is
    placed exactly as a fitted one would have been; ``min_similarity`` sets one threshold for all
    topics instead. Given the statement's ``text``, one with no real words goes to Other, as in
    the fit. Pass a ``TopicModel`` (not its dict) when placing many statements: its centroid
    matrix is then built once.
    """
    if text is not None and not has_words(text):
        return OTHER
    if not isinstance(model, TopicModel):
        model = TopicModel.from_dict(model)
    ids, centroids, thresholds = model.centroid_matrix
    vector = np.asarray(embedding, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(vector))
    if not len(ids) or norm == 0.0 or vector.shape[0] != centroids.shape[1]:
        return OTHER
    sims = centroids @ (vector / norm)
    best = int(np.argmax(sims))
    needed = thresholds[best] if min_similarity is None else min_similarity
    return int(ids[best]) if sims[best] >= needed else OTHER


# --- clustering -------------------------------------------------------------------------------


def _normalise(vectors: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: npt.NDArray[np.floating] = np.divide(
        vectors, norms, out=np.zeros_like(vectors), where=norms > 0
    )
    return unit


def _candidate_ks(n: int, n_distinct: int, p: TopicParameters) -> list[int]:
    """One k = n / statements_per_topic (up to max_topics); small consultations try 2..n/8.

    Silhouette on short-comment embeddings barely changes from k = 20 to 50 (±0.01, within the
    spread between seeds), so it cannot choose the size of fine topics; between 2 and a few
    topics it does tell real structure apart (0.26 for two conversations against 0.20 at k = 4).
    """
    if n_distinct < 2:
        return [1]
    k = max(2, min(p.max_topics, round(n / p.statements_per_topic), n_distinct))
    if k > p.small_up_to:
        return [k]
    return list(range(2, max(2, min(p.small_up_to, n // 8, n_distinct)) + 1))


def _cluster(
    unit: np.ndarray, p: TopicParameters, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Labels (-1 = Other), unit centres and Other thresholds (one per topic id), and choices."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    n = len(unit)
    smallest = max(p.smallest_topic, n // 500)
    ks = _candidate_ks(n, len(np.unique(unit.round(5), axis=0)), p)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, p.kmeans_sample, replace=False)) if n > p.kmeans_sample else None
    fitted = unit if sample is None else unit[sample]

    with threadpool_limits(limits=1):
        best: tuple[float, int, np.ndarray] | None = None
        silhouettes: list[list[float]] = []
        for k in ks:
            km = KMeans(n_clusters=k, n_init=p.kmeans_starts, random_state=seed).fit(fitted)
            score = 0.0
            if len(ks) > 1 and len(set(km.labels_.tolist())) > 1:
                score = float(silhouette_score(fitted, km.labels_, metric="cosine"))
                silhouettes.append([k, round(score, 4)])
            if best is None or score > best[0]:
                best = (score, k, km.cluster_centers_)
        assert best is not None
        centres = _normalise(best[2].astype(np.float32))
        labels, centres, thresholds, iterations = _refine(unit, centres, smallest, p)

    # Number topics by size, then by their first statement, so ids do not depend on k-means order.
    sizes = np.bincount(labels[labels >= 0], minlength=len(centres))
    first = np.array(
        [np.flatnonzero(labels == t)[0] if sizes[t] else n for t in range(len(centres))]
    )
    order = np.lexsort((first, -sizes))
    order = order[sizes[order] > 0]
    renumber = np.full(len(centres) + 1, OTHER, dtype=np.int64)
    renumber[order] = np.arange(len(order))
    labels = renumber[labels]  # label -1 reads the last slot, which stays OTHER
    choice = {
        "k_candidates": ks,
        "silhouette": silhouettes,
        "k_chosen": best[1],
        "smallest_topic_used": smallest,
        "refine_iterations_used": iterations,
        "kmeans_fitted_on": len(fitted),
        "other_below": [round(float(t), 6) for t in thresholds[order]],
        "versions": _versions(),
    }
    return labels, centres[order], thresholds[order], choice


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("bertopic", "scikit-learn", "numpy")}


def _place(
    unit: np.ndarray, centres: np.ndarray, p: TopicParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre for each statement, Other when it is far less similar than the topic's own.

    A topic's threshold comes from the similarities of every statement nearest to it: the mean
    minus ``other_spread`` standard deviations, kept between ``other_floor`` and
    ``other_ceiling``. Broad topics thus keep their loosely related statements, tight topics shed
    the odd one out, and a statement close to a centre is never called Other.
    """
    sims = unit @ centres.T
    nearest = np.argmax(sims, axis=1)
    best = sims[np.arange(len(unit)), nearest]
    thresholds = np.full(len(centres), p.other_floor, dtype=np.float64)
    for t in range(len(centres)):
        mine = best[nearest == t]
        if len(mine) > 1:
            spread = mine.mean() - p.other_spread * mine.std()
            thresholds[t] = min(p.other_ceiling, max(p.other_floor, spread))
    thresholds = _stored(thresholds)  # what assign_topic will read back
    labels = np.where(best >= thresholds[nearest], nearest, OTHER)
    return labels, thresholds


def _stored(values: np.ndarray) -> np.ndarray:
    """Values as a stored model holds them: 6 decimals (JSON), read back as float32."""
    return np.round(values.astype(np.float64), 6).astype(np.float32)


def _sums(unit: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the vectors of each topic (a sparse one-hot product: fast at 100,000 rows)."""
    import scipy.sparse as sp

    placed = np.flatnonzero(labels >= 0)
    onehot = sp.csr_matrix(
        (np.ones(len(placed), dtype=np.float32), (labels[placed], placed)), shape=(k, len(unit))
    )
    return np.asarray(onehot @ unit, dtype=np.float32)


def _refine(
    unit: np.ndarray, centres: np.ndarray, smallest: int, p: TopicParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Spherical k-means from ``centres`` with the Other rule, until no statement moves.

    Topics that shrink under ``smallest`` are dropped and their statements placed again. The
    returned labels are always the placement by the returned centres and thresholds.
    """
    previous: np.ndarray | None = None
    iterations = 0
    while iterations < p.refine_iterations and len(centres):
        iterations += 1
        labels, _ = _place(unit, centres, p)
        sizes = np.bincount(labels[labels >= 0], minlength=len(centres))
        if (sizes < smallest).any():
            centres = centres[sizes >= smallest]
            previous = None
            continue
        if previous is not None and np.array_equal(labels, previous):
            break
        previous = labels
        centres = _normalise(_sums(unit, labels, len(centres)))
    if not len(centres):
        none = np.zeros(0, dtype=np.float32)
        return np.full(len(unit), OTHER, dtype=np.int64), centres, none, iterations
    centres = _stored(centres)  # place with the centres as stored, so placing later agrees
    labels, thresholds = _place(unit, centres, p)
    return labels.astype(np.int64), centres, thresholds, iterations


# --- labels -----------------------------------------------------------------------------------

# Han, kana and CJK punctuation-free runs: written without spaces, so cut into character pairs.
_NO_SPACE = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u30a0-\u30ff\u31f0-\u31ff"
_HIRAGANA = "\u3040-\u309f"
_NO_SPACE_RUN = re.compile(f"[{_NO_SPACE}]+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_SCRIPT_MASK = re.compile(f"[{_NO_SPACE}{_HIRAGANA}]+")

_STOP_WORDS_TEXT = {
    "de": """aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
        anderes auch auf aus bei beim bin bis bist bitte da dadurch dafür dagegen daher damit dann
        daran darauf darum das dass davon dazu dein deine dem den denen denn der deren des dessen
        dich die dies diese diesem diesen dieser dieses dir doch dort du durch eben ein eine einem
        einen einer eines einige einigen einmal er es etwa etwas euch euer eure für ganz gar gegen
        gibt habe haben hat hatte hatten hier hin hätte ich ihm ihn ihnen ihr ihre ihrem ihren
        ihrer ihres im immer in indem ins ist ja je jede jedem jeden jeder jedes jedoch jetzt kann
        kein keine keinem keinen keiner können könnte könnten machen möchte möchten müssten man
        manche mehr mein meine mich mir
        mit muss musste müssen nach nein nicht nichts noch nun nur ob oder ohne schon sehr sein
        seine seinem seinen seiner sich sie sind so solche soll sollen sollte sollten sondern sowie
        statt um und uns unser unsere unter viel viele vom von vor war waren warum was weil
        weiter welche welchem welchen welcher wenn wer werden wie wieder will wir wird wo wollen
        wurde würde würden zu zum zur zwar zwischen über""",
    "fr": """à au aussi autre aux avec avoir bien c ce cela ces cet cette comme d dans de des
        doit donc du elle elles en encore entre est et été être eu fait faire faut il ils j je
        l la le les leur leurs lui m ma mais me même mes moi mon n ne ni nos notre nous on ont
        ou où par parce pas peu peut plus pour pourquoi qu que quel quelle qui s sa sans se ses
        si son sont sous sur ta te tes toi ton tous tout toute toutes très tu un une vos votre
        vous y ça""",
    "es": """a al algo algunos ante antes como con contra cual cuando de del desde donde durante
        e el ella ellas ellos en entre era es esa esas ese eso esos esta estas este esto estos
        está están fue ha hace hay la las le les lo los más me mi mis mucho muy nada ni no nos
        nosotros o otra otras otro otros para pero poco por porque puede que qué se sea ser si
        sin sobre son su sus también tan te tiene todo todos tu un una uno unos y ya yo""",
    # Welsh: a short list written by hand for this project from Welsh grammar (articles,
    # prepositions and their contractions, pronouns, conjunctions, forms of "bod" to be); not
    # copied from a published list. Short on purpose: no word with a meaning is dropped.
    "cy": """a ac am ar at bod bydd byddai chi dan dros dylai ei eich eu fe fel fod fy gallu gan
        gyda hefyd hi hwn hyn i iawn mae mewn mhob na nad neu nid o oedd ond os pan pob rhaid sy
        sydd trwy un wedi y ydy ydym ydyn yn yr ym i'r o'r a'r yw ydw ein eto fwy mwy
        hynny hon honno ni nhw hwy chwi ef fo fi mi ti dy rhai rhywun beth pam lle sut
        oherwydd achos felly         ganddo ganddi gennym gallai gall byddwn roedd roeddwn""",
}
_ENGLISH_EXTRA = """don't doesn't didn't isn't aren't wasn't weren't can't cannot won't wouldn't
    shouldn't couldn't it's i'm i've i'd i'll we're we've they're they've that's there's let's
    you're just like really think also"""
# Characters that only glue Chinese words together: a pair holding one is never a word.
_ZH_PARTICLES = frozenset("的了着吗呢吧啊呀")
_ZH_STOP_TEXT = """我们 你们 他们 她们 它们 这个 那个 一个 这些 那些 没有 因为 所以 但是 如果
    可以 就是 还是 什么 自己 已经 应该 非常 而且 或者 以及 并且 还有 这样 那样 怎么 为了 需要
    觉得 认为 现在"""
_ZH_STOP = frozenset(_ZH_STOP_TEXT.split())
_ZH_EDGE = frozenset("是也很把被")  # never start or end a word worth showing
# Function characters: a pair made only of these ("和在", "一个") is grammar, not a topic.
_ZH_FUNCTION = frozenset(
    "的了着吗呢吧啊呀和与及或而是在也都就很把被这那我你他她它们个一不有要会对从向让给为以于之其所等应该"
)


def detect_language(texts: Iterable[str]) -> str:
    """A two-letter code from the script and the share of common words; "und" when unsure.

    Cheap on purpose (no language-identification package): it only chooses stop words.
    """
    sample = " ".join(t for _, t in zip(range(2000), texts, strict=False))
    letters = sum(1 for ch in sample if ch.isalpha())
    if not letters:
        return "und"
    kana = len(re.findall("[\u3040-\u30ff]", sample))
    han = len(re.findall("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", sample))
    hangul = len(re.findall("[\uac00-\ud7af]", sample))
    if kana > 0.1 * letters:
        return "ja"
    if hangul > 0.3 * letters:
        return "ko"
    if han > 0.3 * letters:
        return "zh"
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return "und"
    scores = {
        lang: sum(1 for w in words if w in stop) / len(words)
        for lang, stop in _stop_words_by_language().items()
    }
    lang, share = max(scores.items(), key=lambda item: (item[1], item[0]))
    return lang if share >= 0.08 else "und"


def _stop_words_by_language() -> dict[str, frozenset[str]]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = {lang: frozenset(text.split()) for lang, text in _STOP_WORDS_TEXT.items()}
    words["en"] = frozenset(ENGLISH_STOP_WORDS) | frozenset(_ENGLISH_EXTRA.split())
    return words


@lru_cache(maxsize=1)
def _any_stop_word() -> frozenset[str]:
    return frozenset().union(*_stop_words_by_language().values())


# Words people type to try the form, not to say something ("test", "asdf", "lorem ipsum").
_PLACEHOLDER_TEXT = """test tests testing tester asdf asdfasdf qwer qwert qwerty qwertz yxcv zxcv
    foo foobar baz qux lorem ipsum dolor blah bla blabla xxx xxxx xyz abc abcd abcdef jkl hjkl"""
_PLACEHOLDERS = frozenset(_PLACEHOLDER_TEXT.split())
_KEY_ROWS = ("qwertyuiop", "qwertzuiop", "asdfghjkl", "zxcvbnm", "yxcvbnm")
_LATIN_VOWELS = frozenset("aeiouyæøœ")
_REPEATED = re.compile(r"(.)\1{3,}|^(.{1,3})\2{2,}$|^(.{3})\3+$")


def has_words(text: str) -> bool:
    """Whether ``text`` holds at least one real word, in any language.

    Not a word: a number, letters mixed with digits ("213213joi12j"), a single letter, a run of
    keys along a keyboard row ("asdfg", "lkjhg"), a syllable said again and again ("jkjkjk",
    "asdasd", "aaaa"), Latin letters without a vowel ("sdfklj"), and the words people type to
    try a form ("test", "asdf", "foo", "lorem ipsum"). A word: everything else with letters,
    stop words included ("I am yours", "Bin dafür" are real comments), words of any script, and
    every Chinese, Japanese or Korean character. A text whose only content words are
    placeholders ("This is a test") has no real words either.
    """
    text = unicodedata.normalize("NFC", text)
    if re.search(f"[{_NO_SPACE}{_HIRAGANA}\uac00-\ud7af]", text):
        return True
    stop = _any_stop_word()
    grammar = False
    placeholder = False
    for token in _WORD.findall(text):
        for part in re.split(r"['\u2019\-]", token.lower()):
            if part in _PLACEHOLDERS:
                placeholder = True
            elif len(part) < 2 or any(ch.isdigit() for ch in part):
                continue
            elif part in stop:
                grammar = True
            elif _is_word(part):
                return True
    return grammar and not placeholder


def _is_word(part: str) -> bool:
    """A lower-case run of letters that reads as a word (see ``has_words``)."""
    if _REPEATED.search(part):
        return False
    folded = _fold(part)
    if not folded.isascii():
        return True  # another script (Greek, Cyrillic, Arabic, ...): no keyboard mash test
    if not _LATIN_VOWELS.intersection(folded):
        return False
    return not any(
        folded[i : i + 5] in row or folded[i : i + 5][::-1] in row
        for row in _KEY_ROWS
        for i in range(len(folded) - 4)
    )


class Tokens:
    """Turns a text into lower-case word keys for c-TF-IDF, dropping the language's stop words.

    Spaced scripts give words (compounds stay whole: a German label is a German word); scripts
    written without spaces give overlapping character pairs, so every key is a substring.
    """

    def __init__(self, language: str) -> None:
        self.language = language
        self.stop = _stop_words_by_language().get(language, frozenset())

    def __call__(self, text: str) -> list[str]:
        return [key for key, _ in self.surface(text)]

    def surface(self, text: str) -> list[tuple[str, str]]:
        """(key, form as written) for each token of ``text``."""
        text = unicodedata.normalize("NFC", text)
        out = []
        for word in _WORD.findall(_SCRIPT_MASK.sub(" ", text)):
            key = word.lower().replace("\u2019", "'")
            if len(key) >= 2 and key not in self.stop and not key.startswith("0"):
                out.append((key, word))  # "0..." is the tail of a number such as 100,000
        for run in _NO_SPACE_RUN.findall(text):
            for i in range(len(run) - 1):
                pair = run[i : i + 2]
                if self._is_word_pair(pair):
                    out.append((pair, pair))
        return out

    @staticmethod
    def _is_word_pair(pair: str) -> bool:
        return (
            not _ZH_PARTICLES.intersection(pair)
            and pair not in _ZH_STOP
            and not (pair[0] in _ZH_FUNCTION and pair[1] in _ZH_FUNCTION)
            and pair[0] not in _ZH_EDGE
            and pair[-1] not in _ZH_EDGE
        )


def _topic_keywords(
    texts: list[str],
    unit: np.ndarray,
    labels: np.ndarray,
    language: str,
    p: TopicParameters,
    embedder: Embedder | None,
) -> tuple[dict[int, tuple[str, ...]], list[str]]:
    """Label words per topic in their written form, and the words common to most topics."""
    if not (labels >= 0).any():
        return {}, []
    tokens = Tokens(language)
    written: dict[str, Counter[str]] = {}
    keys_of: list[set[str]] = []
    for text in texts:
        pairs = tokens.surface(text)
        keys_of.append({key for key, _ in pairs})
        for key, surface in pairs:
            written.setdefault(key, Counter())[surface] += 1
    topic_ids = sorted(set(labels.tolist()))
    members_of = {t: np.flatnonzero(labels == t) for t in topic_ids}
    shared_in = {t: Counter(k for i in members_of[t] for k in keys_of[i]) for t in topic_ids}
    common: set[str] = set()
    if len(written) >= 2:
        scored, common = _ranked_words(texts, unit, labels, tokens, p, embedder)
    else:  # BERTopic's c-TF-IDF fails on a vocabulary of one word (or none)
        scored = {t: [w for w, _ in shared_in[t].most_common()] for t in topic_ids}

    def form(key: str) -> str:
        return written[key].most_common(1)[0][0] if key in written else key

    result: dict[int, tuple[str, ...]] = {}
    for topic in topic_ids:
        members = members_of[topic]
        # Only keys of the texts: BERTopic writes "emptydoc" for a topic with no words at all.
        ranked = [w for w in scored.get(topic, []) if w in written and w not in common]
        # A label word should be shared: one odd word in one statement does not name a topic.
        needed = max(2, round(p.word_support * len(members))) if len(members) >= 5 else 1
        shared = shared_in[topic]
        ranked.sort(key=lambda w: shared[w] < needed)  # stable: keeps the order
        words = _merge_pairs(ranked, "\n".join(texts[i] for i in members))
        result[topic] = tuple(form(w) for w in words)[: p.top_words]
    return result, sorted(form(w) for w in common)


def _ranked_words(
    texts: list[str],
    unit: np.ndarray,
    labels: np.ndarray,
    tokens: Tokens,
    p: TopicParameters,
    embedder: Embedder | None,
) -> tuple[dict[int, list[str]], set[str]]:
    """Each topic's words, best label first, from BERTopic handed our topics; and the words
    common to most topics, which are left out.

    BERTopic ranks a topic's words by c-TF-IDF. Given the embedder, its KeyBERTInspired ranks
    the ``candidate_words`` best of them again by how close each word's embedding is to the
    topic's (the mean of its most typical statements), so the subject comes before a place name
    or a verb said everywhere ("consider", "make"), and MaximalMarginalRelevance keeps the
    ``top_words`` that do not repeat one another. The statements keep their stored vectors
    (``_StoredVectors``); only the candidate words are embedded, by the same model.
    """
    import logging

    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    logging.getLogger("BERTopic").setLevel(logging.WARNING)
    backend = None
    relevant = None
    if embedder is not None:
        from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

        backend = _stored_vectors(embedder, texts, unit)
        relevant = KeyBERTInspired(
            top_n_words=p.candidate_words, nr_candidate_words=p.candidate_words, random_state=42
        )
    candidates = _Candidates(p, relevant)
    steps: list[Any] = [candidates]
    if embedder is not None:
        varied = MaximalMarginalRelevance(diversity=p.mmr_diversity, top_n_words=p.top_words)
        steps.append(_Diverse(varied, candidates))
    model = BERTopic(
        embedding_model=backend,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=CountVectorizer(analyzer=tokens),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=steps,
        top_n_words=p.candidate_words,
        language="multilingual",  # "english" would strip every non-ASCII letter from the text
        calculate_probabilities=False,
    )
    predicted = np.asarray(model.fit_transform(texts, embeddings=unit, y=labels)[0])
    words = {}
    for ours in sorted(set(labels.tolist())):
        theirs = int(predicted[np.flatnonzero(labels == ours)[0]])
        words[ours] = [w for w, score in (model.get_topic(theirs) or []) if score > 0]
    return words, candidates.common


Words = dict[int, list[tuple[str, float]]]


class _Candidates:
    """A BERTopic representation step: the words that may label each topic, best first.

    Candidates are a topic's c-TF-IDF words said in more than one of its statements
    (``candidate_support``) and not common to most topics: a word among the ``top_words``
    c-TF-IDF words of more than ``common_share`` of the topics (Other not counted) says what
    the whole consultation is about, or where, not what one topic is about. ``relevant``
    (KeyBERTInspired) ranks them by meaning; only these candidates are embedded. The topic's
    other c-TF-IDF words follow, in c-TF-IDF order, to fill its keywords.
    """

    def __init__(self, p: TopicParameters, relevant: Any | None) -> None:
        self.p = p
        self.relevant = relevant
        self.common: set[str] = set()
        self.supported: dict[int, int] = {}  # how many of a topic's words lead as candidates

    def extract_topics(
        self,
        topic_model: Any,
        documents: pd.DataFrame,
        c_tf_idf: sp.csr_matrix,
        topics: Mapping[int, list[tuple[str, float]]],
    ) -> Words:
        import scipy.sparse as sp

        vocabulary = topic_model.vectorizer_model.get_feature_names_out()
        ids = sorted(topics)  # c-TF-IDF has one row per topic, in the order of their ids
        scores = np.asarray(c_tf_idf.todense())
        placed = [row for row, topic in enumerate(ids) if topic != OTHER]
        counts: Counter[int] = Counter()
        for row in placed:
            best = np.argsort(-scores[row], kind="stable")[: self.p.top_words]
            counts.update(int(j) for j in best if scores[row, j] > 0)
        common = np.zeros(len(vocabulary), dtype=bool)
        common[[j for j, c in counts.items() if c > self.p.common_share * len(placed)]] = True
        self.common = {str(vocabulary[j]) for j in np.flatnonzero(common)}

        said = topic_model.vectorizer_model.transform(documents.Document.tolist()) > 0
        topic_of = documents.Topic.to_numpy()
        keep = np.zeros_like(scores, dtype=bool)
        for row, topic in enumerate(ids):
            members = np.flatnonzero(topic_of == topic)
            needed = self.p.candidate_support if len(members) >= 5 else 1
            in_statements = np.asarray(said[members].sum(axis=0)).ravel()
            keep[row] = (in_statements >= needed) & ~common & (scores[row] > 0)
        if self.relevant is not None:
            masked = sp.csr_matrix(np.where(keep, scores, 0.0))
            ranked: Words = self.relevant.extract_topics(topic_model, documents, masked, topics)
        else:
            ranked = {}
            for row, topic in enumerate(ids):
                best = np.argsort(-np.where(keep[row], scores[row], 0.0), kind="stable")
                ranked[topic] = [
                    (str(vocabulary[j]), float(scores[row, j])) for j in best[: keep[row].sum()]
                ]
        out: Words = {}
        for row, topic in enumerate(ids):
            allowed = {str(vocabulary[j]) for j in np.flatnonzero(keep[row])}
            lead = [(w, s) for w, s in ranked.get(topic, []) if w in allowed][
                : self.p.candidate_words
            ]
            taken = {w for w, _ in lead}
            rest = [(w, s) for w, s in topics[topic] if w not in taken and w not in self.common]
            self.supported[topic] = len(lead)
            out[topic] = lead + rest
        return out


class _Diverse:
    """BERTopic's MaximalMarginalRelevance over a topic's leading candidates: of those, it keeps
    the ``top_words`` most relevant that do not repeat one another (it fails on fewer words, so
    a topic with no more than that keeps them all)."""

    def __init__(self, mmr: Any, candidates: _Candidates) -> None:
        self.mmr = mmr
        self.candidates = candidates

    def extract_topics(
        self,
        topic_model: Any,
        documents: pd.DataFrame,
        c_tf_idf: sp.csr_matrix,
        topics: Mapping[int, list[tuple[str, float]]],
    ) -> Words:
        lead = {t: list(words[: self.candidates.supported[t]]) for t, words in topics.items()}
        longer = {t: words for t, words in lead.items() if len(words) > self.mmr.top_n_words}
        chosen = self.mmr.extract_topics(topic_model, documents, c_tf_idf, longer) if longer else {}
        return {
            t: list(chosen.get(t, lead[t])) + list(words[self.candidates.supported[t] :])
            for t, words in topics.items()
        }


_WORD_BATCH = 256  # words are a few tokens: large batches embed them 3x faster than 32


def _stored_vectors(embedder: Embedder, texts: Sequence[str], unit: np.ndarray) -> Any:
    """BERTopic's embedding backend for ``embedder``: a statement gets its stored vector, any
    other text (a candidate word) is embedded by the same model, once. Nothing is downloaded:
    BERTopic only loads a model of its own when it is given none."""
    from bertopic.backend import BaseEmbedder

    class StoredVectors(BaseEmbedder):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.known: dict[str, np.ndarray] = {t: unit[i] for i, t in enumerate(texts)}

        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            new = [d for d in dict.fromkeys(documents) if d not in self.known]
            if new:
                vectors = embedder.embed(new, batch_size=_WORD_BATCH)
                self.known.update(zip(new, vectors, strict=True))
            if not documents:
                return np.zeros((0, embedder.dimension), dtype=np.float32)
            return np.vstack([self.known[d] for d in documents])

    return StoredVectors()


def _merge_pairs(ranked: list[str], text: str) -> list[str]:
    """Join overlapping character pairs ("生物", "物多", "多样") back into "生物多样" when the
    joined string is almost always how they occur in the topic's text. A pair that only overlaps
    the edge of a better-ranked word is where two words meet ("企业" | "最低"), so it is dropped.
    """
    words = list(dict.fromkeys(ranked))
    counts: dict[str, int] = {}

    def count(s: str) -> int:
        if s not in counts:
            counts[s] = text.count(s)
        return counts[s]

    def mergeable(a: str, b: str) -> bool:
        return (
            bool(_NO_SPACE_RUN.fullmatch(a) and _NO_SPACE_RUN.fullmatch(b))
            and a[-1] == b[0]
            and count(a + b[1:]) >= 0.8 * max(count(a), count(b))
        )

    while pair := next(
        (
            (i, j)
            for i, a in enumerate(words)
            for j, b in enumerate(words)
            if i != j and mergeable(a, b)
        ),
        None,
    ):
        i, j = pair
        words[min(i, j)] = words[i] + words[j][1:]
        del words[max(i, j)]

    kept: list[str] = []
    for w in words:
        piece = _NO_SPACE_RUN.fullmatch(w) and any(
            _NO_SPACE_RUN.fullmatch(o) and (w in o or w[0] == o[-1] or w[-1] == o[0]) for o in kept
        )
        if not piece:
            kept.append(w)
    return _dedupe(kept)


def _dedupe(words: list[str]) -> list[str]:
    """Drop repeats: a part of an earlier no-space word, or a plural or accent variant of an
    earlier word ("poisons" after "poison", "Maori" after "Māori")."""
    out: list[str] = []
    for w in words:
        if any(_NO_SPACE_RUN.fullmatch(o) and w in o for o in out):
            continue
        if any(_variant(w, o) for o in out):
            continue
        out.append(w)
    return out


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _variant(a: str, b: str) -> bool:
    a, b = _fold(a), _fold(b)
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(long) - len(short) <= 2 and len(short) >= 3


__all__ = [
    "OTHER",
    "Topic",
    "TopicModel",
    "TopicParameters",
    "assign_topic",
    "detect_language",
    "fit_topics",
]
