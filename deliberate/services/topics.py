"""Topics of a consultation for its analysis run, and how people voted on each topic.

Which statements make the topics: what people wrote and others could see. That is the accepted
statements, and pending ones that someone other than their author voted on (an imported Polis
conversation shows unmoderated comments, and people voted on them). Rejected statements are left
out (moderators removed them: they must not shape or name a published topic), so are pending ones
nobody else has seen (not yet checked by a moderator) and meta statements (about the process, not
the subject).

A run refits the topic model only when enough has changed since the fit it would otherwise reuse
(a different model, a statement gone, or more than ``REFIT_GROWTH`` new statements): in between,
new statements take the nearest topic of the last fit, so topics keep their ids and labels while a
consultation grows, and a burst of comments does not cost a refit each.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import and_, exists, or_, select

from deliberate.extensions import db
from deliberate.findings import TopicFindings, read_findings, read_votes
from deliberate.models import AnalysisRun, ModerationStatus, Statement, Vote
from deliberate.services import embeddings
from deliberate.services.analysis_runs import latest_run

if TYPE_CHECKING:
    from deliberate.analysis import VoteMatrix
    from deliberate.analysis.embeddings import Embedder
    from deliberate.analysis.topics import TopicModel

REFIT_GROWTH = 0.2  # refit once statements grew by more than this share since the last fit
OTHER = -1
ROLES = ("staff", "citizen")


@dataclass
class TopicOutcome:
    """What a run stores under ``results["topics"]``, and vectors to store with it."""

    results: dict[str, Any]
    fingerprint: str
    new_vectors: dict[int, np.ndarray] = field(default_factory=dict)


def topic_statements(consultation_id: int) -> list[tuple[int, str]]:
    """(id, text) of the statements that make the topics, oldest first (see the module notes)."""
    seen_by_others = exists().where(
        Vote.statement_id == Statement.id,
        or_(Statement.author_id.is_(None), Vote.participant_id != Statement.author_id),
    )
    rows = db.session.execute(
        select(Statement.id, Statement.text)
        .where(
            Statement.consultation_id == consultation_id,
            Statement.is_meta.is_(False),
            or_(
                Statement.moderation == ModerationStatus.ACCEPTED,
                and_(Statement.moderation == ModerationStatus.PENDING, seen_by_others),
            ),
        )
        .order_by(Statement.id)
    )
    return [(sid, text) for sid, text in rows]


def statement_languages(consultation_id: int) -> dict[int, str]:
    """The language each statement of the consultation was written in, by id."""
    rows = db.session.execute(
        select(Statement.id, Statement.language).where(Statement.consultation_id == consultation_id)
    )
    return {sid: language for sid, language in rows}


def language_coverage(consultation_id: int, ids: list[int], model_name: str) -> dict[str, Any]:
    """Which languages the topics' statements are in, whether the embedding model covers them,
    and, when it does not, a message saying so in plain words (shown with the topics)."""
    from deliberate.analysis.embeddings import languages_covered

    language_of = statement_languages(consultation_id)
    present: dict[str, int] = {}
    for sid in ids:
        code = language_of.get(sid, "")
        present[code] = present.get(code, 0) + 1
    covered = languages_covered(model_name)
    not_covered = sorted(code for code in present if covered is not None and code not in covered)
    message = None
    if not_covered:
        names = ", ".join(LANGUAGE_NAMES_EN.get(c, c) for c in not_covered)
        message = (
            f"Some statements are in {names}, which the embedding model {model_name} does not "
            "cover: their topics may be grouped by language rather than by what they say. Set "
            "DELIBERATE_EMBEDDING_MODEL to a model that covers every language of the "
            "consultation (see the README)."
        )
    elif covered is None and len(present) > 1:
        message = (
            f"The statements are in several languages and it is not known which languages the "
            f"embedding model {model_name} covers: check that it is a multilingual model."
        )
    return {
        "present": dict(sorted(present.items())),
        "model_covers": sorted(covered) if covered is not None else None,
        "not_covered": not_covered,
        "message": message,
    }


# The languages' names in English, the language of stored analysis messages.
LANGUAGE_NAMES_EN = {"en": "English", "cy": "Welsh"}


def _model_from(stored: TopicFindings) -> TopicModel:
    from deliberate.analysis.topics import TopicModel

    return TopicModel.from_dict(stored.model_dict())


def _stored_topics(run: AnalysisRun | None) -> TopicFindings | None:
    return read_findings(run.results).topics if run is not None else None


def _reusable_fit(
    consultation_id: int, fingerprint: str, statement_ids: list[int]
) -> tuple[TopicFindings, dict[str, Any]] | None:
    """The newest run's topics and where they were fitted, when they can take the new statements
    without a refit."""
    run = latest_run(consultation_id)
    stored = _stored_topics(run)
    if run is None or stored is None or not stored.ok or stored.model_fingerprint != fingerprint:
        return None
    before = stored.statement_ids
    fitted_in = stored.fit.fitted_in_run if stored.fit else None
    n_fitted = stored.fit.n_statements if stored.fit else len(before)
    if not set(before) <= set(statement_ids):
        return None  # a statement left (rejected, deleted): the fit described it
    if _edited_since(run):
        return None  # its topics' words may be words the moderators have taken out since
    if len(statement_ids) > (1 + REFIT_GROWTH) * n_fitted:
        return None
    return stored, {"fitted_in_run": fitted_in or run.id, "n_statements": n_fitted}


def _edited_since(run: AnalysisRun) -> bool:
    """Whether the moderators edited a statement of the consultation after the run began."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Statement.consultation_id == run.consultation_id,
                    Statement.redacted_at >= run.started_at,
                )
            )
        )
    )


def _extend(
    stored: TopicFindings,
    statement_ids: list[int],
    vectors: dict[int, np.ndarray],
    texts: dict[int, str],
):
    """The stored fit with new statements placed in their nearest topic (no refit)."""
    from deliberate.analysis.topics import Topic, assign_topic

    model = _model_from(stored)
    before = list(stored.statement_ids)
    known = set(before)
    added = [sid for sid in statement_ids if sid not in known]
    assignments = list(model.assignments) + [
        assign_topic(model, vectors[sid], text=texts[sid]) for sid in added
    ]
    sizes: dict[int, int] = {}
    for topic_id in assignments:
        sizes[topic_id] = sizes.get(topic_id, 0) + 1
    topics = tuple(dataclasses.replace(t, size=sizes.get(t.id, 0)) for t in model.topics)
    if OTHER in sizes and model.topic(OTHER) is None:
        topics += (Topic(OTHER, "Other", (), sizes[OTHER], (), ()),)
    extended = dataclasses.replace(model, assignments=tuple(assignments), topics=topics)
    return extended, before + added, len(added)


def analyse_topics(
    consultation_id: int,
    matrix: VoteMatrix,
    votes: dict[str, Any],
    *,
    embedder: Embedder | None = None,
    refit: bool = False,
) -> TopicOutcome:
    """Topics of the consultation's statements, from their stored vectors, joined with the votes.

    Statements not embedded yet (all of them, not only those in topics: a similarity check then
    finds them ready) are embedded here; normally there are none, as jobs and ``analyse`` embed
    first. Their vectors are returned for the caller to store with the run."""
    from deliberate.analysis.topics import fit_topics

    embedder = embedder or embeddings.current_embedder()
    fingerprint = embedder.fingerprint
    statements = topic_statements(consultation_id)
    ids = [sid for sid, _ in statements]
    missing = embeddings.missing_statements(consultation_id, fingerprint)
    new_vectors: dict[int, np.ndarray] = {}
    if missing:
        computed = embedder.embed([text for _, text in missing])
        new_vectors = {sid: computed[i] for i, (sid, _) in enumerate(missing)}
    vectors = {**embeddings.load_vectors(consultation_id, fingerprint, ids), **new_vectors}

    previous = None if refit else _reusable_fit(consultation_id, fingerprint, ids)
    if previous is not None:
        stored, fit = previous
        model, ids, n_added = _extend(stored, ids, vectors, dict(statements))
        fit["new_since_fit"] = n_added
    else:
        texts = dict(statements)
        matrix_of_vectors = (
            np.vstack([vectors[sid] for sid in ids])
            if ids
            else np.zeros((0, embedder.dimension), dtype=np.float32)
        )
        language_of = statement_languages(consultation_id)
        model = fit_topics(
            [texts[sid] for sid in ids],
            matrix_of_vectors,
            embedder=embedder,
            text_languages=[language_of.get(sid, "") for sid in ids],
        )
        # fitted_in_run None: fitted in the run these results belong to
        fit = {"fitted_in_run": None, "n_statements": len(ids), "new_since_fit": 0}

    results = {
        **model.to_dict(),
        "statement_ids": ids,
        "model_fingerprint": fingerprint,
        "model_name": embedder.name,
        "fit": fit,
        "by_topic": topic_vote_join(ids, model, matrix, read_votes(votes).opinion_group_of()),
        "languages": language_coverage(consultation_id, ids, embedder.name),
    }
    return TopicOutcome(results=results, fingerprint=fingerprint, new_vectors=new_vectors)


def _tally(agree: int, disagree: int, passed: int, voters: int) -> dict[str, Any]:
    total = agree + disagree + passed
    return {
        "agree": agree,
        "disagree": disagree,
        "pass": passed,
        "votes": total,
        "voters": voters,
        "agreement_rate": agree / total if total else None,
        "disagreement_rate": disagree / total if total else None,
    }


def topic_vote_join(
    statement_ids: list[int],
    model: TopicModel,
    matrix: VoteMatrix,
    groups: dict[int, int],
) -> list[dict[str, Any]]:
    """For each topic: how everyone, staff and citizens, and each opinion group voted on its
    statements. Agreement rate = agrees / (agrees + disagrees + passes) over those votes."""
    topic_ids = [t.id for t in model.topics]
    if OTHER not in topic_ids and OTHER in model.assignments:
        topic_ids.append(OTHER)
    index_of_topic = {tid: i for i, tid in enumerate(topic_ids)}
    topic_of_statement = {
        sid: index_of_topic[tid]
        for sid, tid in zip(statement_ids, model.assignments, strict=True)
        if tid in index_of_topic
    }
    column_topic = np.array(
        [topic_of_statement.get(sid, -1) for sid in matrix.statement_ids], dtype=np.int64
    )
    rows = np.asarray(matrix.rows, dtype=np.int64)
    cols = np.asarray(matrix.cols, dtype=np.int64)
    values = np.asarray(matrix.values, dtype=np.int64)
    topic = column_topic[cols] if len(cols) else np.zeros(0, dtype=np.int64)
    keep = topic >= 0
    rows, values, topic = rows[keep], values[keep], topic[keep]

    roles = np.array(matrix.roles or [None] * len(matrix.participant_ids), dtype=object)
    group_of_row = np.array(
        [groups.get(int(pid), -1) for pid in matrix.participant_ids], dtype=np.int64
    )
    n_topics = len(topic_ids)

    def tallies(mask: np.ndarray) -> list[dict[str, Any]]:
        t, v, r = topic[mask], values[mask], rows[mask]
        counts = np.zeros((n_topics, 3), dtype=np.int64)
        np.add.at(counts, (t, v + 1), 1)  # columns: disagree, pass, agree
        voters = np.zeros(n_topics, dtype=np.int64)
        if len(t):
            pairs = np.unique(t * (len(matrix.participant_ids) + 1) + r)
            np.add.at(voters, pairs // (len(matrix.participant_ids) + 1), 1)
        return [
            _tally(int(c[2]), int(c[0]), int(c[1]), int(n))
            for c, n in zip(counts, voters, strict=True)
        ]

    everyone = tallies(np.ones(len(topic), dtype=bool))
    row_roles = roles[rows] if len(rows) else np.zeros(0, dtype=object)
    by_role = {role: tallies(row_roles == role) for role in ROLES}
    row_groups = group_of_row[rows] if len(rows) else np.zeros(0, dtype=np.int64)
    by_group = {g: tallies(row_groups == g) for g in sorted(set(groups.values()))}

    labels = {t.id: t.label for t in model.topics}
    representatives = {
        t.id: [statement_ids[i] for i in t.representative if i < len(statement_ids)]
        for t in model.topics
    }
    members: dict[int, list[int]] = {tid: [] for tid in topic_ids}
    for sid, tid in zip(statement_ids, model.assignments, strict=True):
        if tid in members:
            members[tid].append(sid)
    joined = []
    for i, tid in enumerate(topic_ids):
        staff, citizen = by_role["staff"][i], by_role["citizen"][i]
        difference = (
            staff["agreement_rate"] - citizen["agreement_rate"]
            if staff["votes"] and citizen["votes"]
            else None
        )
        joined.append(
            {
                "topic_id": tid,
                "label": labels.get(tid, "Other"),
                "statement_ids": members[tid],
                "representative_statement_ids": representatives.get(tid, []),
                "everyone": everyone[i],
                "roles": {role: by_role[role][i] for role in ROLES},
                "staff_minus_citizen_agreement": difference,
                "groups": {str(g): by_group[g][i] for g in by_group},
            }
        )
    return joined


def statement_topics(
    consultation_id: int, run: AnalysisRun | None = None
) -> dict[int, tuple[int, str]]:
    """Statement id -> (topic id, label) from the newest run; statements written since the run
    that have a vector take the nearest topic of its model at once, without a refit."""
    stored = _stored_topics(run or latest_run(consultation_id))
    if stored is None or not stored.statement_ids:
        return {}
    placed = stored.topic_of_statements()
    if not stored.ok:
        return placed
    newer = [sid for sid, _ in topic_statements(consultation_id) if sid not in placed]
    if newer:
        from deliberate.analysis.topics import assign_topic

        model = _model_from(stored)
        vectors = embeddings.load_vectors(consultation_id, stored.model_fingerprint, newer)
        for sid in newer:
            if sid in vectors:
                tid = assign_topic(model, vectors[sid])
                placed[sid] = (tid, stored.label_of(tid))
    return placed
