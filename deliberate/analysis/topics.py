"""Topics from what people wrote: spherical k-means on stored embeddings, labelled by BERTopic.

The statements are grouped on the embeddings stored for them (never re-embedded), then BERTopic,
given those groups (its documented "manual topic modelling": no UMAP, no HDBSCAN), computes the
c-TF-IDF keywords that label each topic. Choices, measured on the six real Polis conversations
mixed into one corpus of 713 comments (``bench/evaluate_topics.py``) and on corpora up to
100,000 statements (``bench/bench_topics.py``):

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
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

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
    top_words: int = 10  # keywords kept per topic (c-TF-IDF ranks twice as many)
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "keywords": list(self.keywords),
            "size": self.size,
            "representative": list(self.representative),
            "centroid": list(self.centroid),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Topic:
        return cls(
            id=int(d["id"]),
            label=str(d["label"]),
            keywords=tuple(d["keywords"]),
            size=int(d["size"]),
            representative=tuple(int(i) for i in d["representative"]),
            centroid=tuple(float(x) for x in d["centroid"]),
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
) -> TopicModel:
    """Group statements into labelled topics; the same inputs give the same topics in any process.

    ``embeddings`` are the stored vectors, one row per text (normalised here if they are not).
    ``language`` (e.g. "en", "de", "zh") chooses the stop words; None detects it from the texts.
    """
    p = parameters or TopicParameters()
    texts = [str(t) for t in texts]
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise ValueError(
            f"need one embedding row per text: {len(texts)} texts, embeddings {vectors.shape}"
        )
    n = len(texts)
    lang = (language or detect_language(texts)).lower()
    recorded: dict[str, Any] = {
        "method": "spherical k-means on stored embeddings; BERTopic c-TF-IDF labels",
        "seed": seed,
        "n_statements": n,
        **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(p).items()},
    }
    if n < p.min_statements:
        return TopicModel(
            status="too_few",
            message=(
                f"Topics need at least {p.min_statements} statements and there are {n}: "
                "too few to group, so read them all."
            ),
            assignments=(OTHER,) * n,
            topics=(),
            parameters=recorded,
            language=lang,
        )

    unit = _normalise(vectors)
    labels, centroids, _, choice = _cluster(unit, p, seed)
    recorded.update(choice)
    keywords = _topic_keywords(texts, unit, labels, lang, p)

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
    message = (
        f"{len(centroids)} topics from {n} statements; {len(others)} fit no topic (Other)."
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


def assign_topic(
    model: TopicModel | Mapping[str, Any],
    embedding: np.ndarray,
    min_similarity: float | None = None,
) -> int:
    """The topic whose centre is nearest (cosine) to ``embedding``, or -1 when none is close.

    By default "close" is the nearest topic's own threshold from the fit, so a new statement is
    placed exactly as a fitted one would have been; ``min_similarity`` sets one threshold for all
    topics instead. Pass a ``TopicModel`` (not its dict) when placing many statements: its
    centroid matrix is then built once.
    """
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
    "cy": """a ac am ar at bod bydd byddai chi dan dros dylai ei eich eu fe fel fod fy gallu gan
        gyda hefyd hi hwn hyn i iawn mae mewn mhob na nad neu nid o oedd ond os pan pob rhaid sy
        sydd trwy un wedi y ydy ydym ydyn yn yr ym""",
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
    texts: list[str], unit: np.ndarray, labels: np.ndarray, language: str, p: TopicParameters
) -> dict[int, tuple[str, ...]]:
    """Top c-TF-IDF words per topic (BERTopic given our topics), in their written form."""
    if not (labels >= 0).any():
        return {}
    tokens = Tokens(language)
    written: dict[str, Counter[str]] = {}
    keys_of: list[set[str]] = []
    for text in texts:
        pairs = tokens.surface(text)
        keys_of.append({key for key, _ in pairs})
        for key, form in pairs:
            written.setdefault(key, Counter())[form] += 1
    topic_ids = sorted(set(labels.tolist()))
    members_of = {t: np.flatnonzero(labels == t) for t in topic_ids}
    shared_in = {t: Counter(k for i in members_of[t] for k in keys_of[i]) for t in topic_ids}
    if len(written) >= 2:
        scored = _ctfidf_words(texts, unit, labels, tokens, p.top_words * 2)
    else:  # BERTopic's c-TF-IDF fails on a vocabulary of one word (or none)
        scored = {t: [w for w, _ in shared_in[t].most_common()] for t in topic_ids}

    result: dict[int, tuple[str, ...]] = {}
    for topic in topic_ids:
        members = members_of[topic]
        # Only keys of the texts: BERTopic writes "emptydoc" for a topic with no words at all.
        ranked = [w for w in scored.get(topic, []) if w in written]
        # A label word should be shared: one odd word in one statement does not name a topic.
        needed = max(2, round(p.word_support * len(members))) if len(members) >= 5 else 1
        shared = shared_in[topic]
        ranked.sort(key=lambda w: shared[w] < needed)  # stable: keeps the order
        words = _merge_pairs(ranked, "\n".join(texts[i] for i in members))
        forms = (written[w].most_common(1)[0][0] if w in written else w for w in words)
        result[topic] = tuple(forms)[: p.top_words]
    return result


def _ctfidf_words(
    texts: list[str], unit: np.ndarray, labels: np.ndarray, tokens: Tokens, top: int
) -> dict[int, list[str]]:
    """BERTopic's c-TF-IDF ranking of each topic's words, BERTopic being handed our topics."""
    import logging

    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    logging.getLogger("BERTopic").setLevel(logging.WARNING)
    model = BERTopic(
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=CountVectorizer(analyzer=tokens),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=top,
        language="multilingual",  # "english" would strip every non-ASCII letter from the text
        calculate_probabilities=False,
    )
    predicted = np.asarray(model.fit_transform(texts, embeddings=unit, y=labels)[0])
    words = {}
    for ours in sorted(set(labels.tolist())):
        theirs = int(predicted[np.flatnonzero(labels == ours)[0]])
        words[ours] = [w for w, score in (model.get_topic(theirs) or []) if score > 0]
    return words


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
