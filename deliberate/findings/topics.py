"""The topics a run found, as stored under ``results["topics"]``: typed, read once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deliberate.findings._json import JSON, integer, ints, obj, reals, seq, text

OTHER = -1
STATUS_OK = "ok"


@dataclass(frozen=True)
class TopicDescription:
    """One topic of the fitted model: its label, words, size and centre."""

    id: int
    label: str
    keywords: tuple[str, ...]
    size: int
    representative: tuple[int, ...]  # positions in ``TopicFindings.statement_ids``
    centroid: tuple[float, ...]
    # Its label in each language of a multilingual consultation (words of that language's
    # statements); empty in one language, and in runs made before languages were recorded.
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def label_in(self, language: str) -> str:
        """The label in ``language`` when the run has one, else the label."""
        return self.labels.get(language) or self.label

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


@dataclass(frozen=True)
class TopicLanguages:
    """The languages of the topics' statements and whether the embedding model covers them."""

    present: dict[str, int]  # language code -> number of statements
    model_covers: tuple[str, ...] | None  # None: a model whose languages are not known
    not_covered: tuple[str, ...]
    message: str | None  # says what to do when some language is not covered

    @property
    def several(self) -> bool:
        return len(self.present) > 1


@dataclass(frozen=True)
class TopicTally:
    """Votes on a topic's statements by one set of people."""

    agree: int
    disagree: int
    passed: int
    votes: int
    voters: int


@dataclass(frozen=True)
class TopicJoin:
    """A topic joined with the votes: everyone, staff, citizens and each opinion group."""

    topic_id: int
    label: str
    statement_ids: tuple[int, ...]
    representative_statement_ids: tuple[int, ...] | None
    everyone: TopicTally | None
    staff: TopicTally | None
    citizens: TopicTally | None
    groups: dict[int, TopicTally | None]


@dataclass(frozen=True)
class TopicFit:
    """Where the topic model was fitted: this run (``fitted_in_run`` None) or an earlier one."""

    fitted_in_run: int | None
    n_statements: int
    new_since_fit: int


@dataclass(frozen=True)
class TopicFindings:
    status: str  # "ok", "too_few" or "failed"
    message: str
    statement_ids: tuple[int, ...]
    assignments: tuple[int, ...]  # topic of each statement in ``statement_ids``
    topics: tuple[TopicDescription, ...]
    by_topic: tuple[TopicJoin, ...]
    language: str
    model_name: str
    model_fingerprint: str
    parameters: JSON
    fit: TopicFit | None
    languages: TopicLanguages | None = None  # None in runs made before languages were recorded

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def label_of(self, topic_id: int) -> str:
        return next((t.label for t in self.topics if t.id == topic_id), "Other")

    def topic_of_statements(self) -> dict[int, tuple[int, str]]:
        """Statement id -> (topic id, label), as the run placed them."""
        labels = {t.id: t.label for t in self.topics}
        return {
            sid: (tid, labels.get(tid, "Other"))
            for sid, tid in zip(self.statement_ids, self.assignments, strict=False)
        }

    def model_dict(self) -> dict[str, Any]:
        """The fitted model in the shape ``analysis.topics.TopicModel.from_dict`` takes."""
        return {
            "status": self.status,
            "message": self.message,
            "assignments": list(self.assignments),
            "topics": [t.to_dict() for t in self.topics],
            "parameters": dict(self.parameters),
            "language": self.language,
        }


def _tally(data: Any, where: str) -> TopicTally | None:
    if not data:
        return None
    t = obj(data, where)
    return TopicTally(
        agree=integer(t.get("agree")),
        disagree=integer(t.get("disagree")),
        passed=integer(t.get("pass")),
        votes=integer(t.get("votes")),
        voters=integer(t.get("voters")),
    )


def _join(data: Any, where: str) -> TopicJoin:
    j = obj(data, where)
    roles = obj(j.get("roles"), f"{where}.roles")
    groups = obj(j.get("groups"), f"{where}.groups")
    representative = j.get("representative_statement_ids")
    return TopicJoin(
        topic_id=integer(j["topic_id"]),
        label=text(j.get("label")) or "Other",
        statement_ids=ints(j.get("statement_ids"), f"{where}.statement_ids"),
        representative_statement_ids=(
            None if representative is None else ints(representative, f"{where}.representative")
        ),
        everyone=_tally(j.get("everyone"), f"{where}.everyone"),
        staff=_tally(roles.get("staff"), f"{where}.roles.staff"),
        citizens=_tally(roles.get("citizen"), f"{where}.roles.citizen"),
        groups={int(g): _tally(t, f"{where}.groups.{g}") for g, t in groups.items()},
    )


def _description(data: Any, where: str) -> TopicDescription:
    t = obj(data, where)
    return TopicDescription(
        id=integer(t["id"]),
        label=text(t.get("label")) or "Other",
        keywords=tuple(text(w) for w in seq(t.get("keywords"), f"{where}.keywords")),
        size=integer(t.get("size")),
        representative=ints(t.get("representative"), f"{where}.representative"),
        centroid=reals(t.get("centroid"), f"{where}.centroid"),
        labels={text(k): text(v) for k, v in obj(t.get("labels"), f"{where}.labels").items()},
    )


def _languages(data: Any) -> TopicLanguages | None:
    if not data:
        return None
    d = obj(data, "topics.languages")
    covers = d.get("model_covers")
    return TopicLanguages(
        present={text(k): integer(v) for k, v in obj(d.get("present"), "present").items()},
        model_covers=None
        if covers is None
        else tuple(text(c) for c in seq(covers, "topics.languages.model_covers")),
        not_covered=tuple(
            text(c) for c in seq(d.get("not_covered"), "topics.languages.not_covered")
        ),
        message=text(d.get("message")) or None,
    )


def read_topics(data: Any) -> TopicFindings | None:
    """None when the run has no topics at all (made without them)."""
    if not data:
        return None
    t = obj(data, "topics")
    fit = t.get("fit")
    f = obj(fit, "topics.fit")
    fitted_in = f.get("fitted_in_run")
    return TopicFindings(
        status=text(t.get("status")),
        message=text(t.get("message")),
        statement_ids=ints(t.get("statement_ids"), "topics.statement_ids"),
        assignments=ints(t.get("assignments"), "topics.assignments"),
        topics=tuple(
            _description(d, f"topics.topics[{i}]")
            for i, d in enumerate(seq(t.get("topics"), "topics.topics"))
        ),
        by_topic=tuple(
            _join(j, f"topics.by_topic[{i}]")
            for i, j in enumerate(seq(t.get("by_topic"), "topics.by_topic"))
        ),
        language=text(t.get("language")),
        model_name=text(t.get("model_name")),
        model_fingerprint=text(t.get("model_fingerprint")),
        parameters=obj(t.get("parameters"), "topics.parameters"),
        fit=(
            TopicFit(
                fitted_in_run=None if fitted_in is None else int(fitted_in),
                n_statements=integer(f.get("n_statements")),
                new_since_fit=integer(f.get("new_since_fit")),
            )
            if fit
            else None
        ),
        languages=_languages(t.get("languages")),
    )
