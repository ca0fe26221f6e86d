"""Reading a run's stored results: the schema version, and the whole in one typed value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deliberate.findings._json import Malformed, integer, obj
from deliberate.findings.bridging import BridgingFindings, read_bridging
from deliberate.findings.exclusions import ExclusionFindings, read_exclusions
from deliberate.findings.moderation import ModerationFindings, read_moderation
from deliberate.findings.topics import TopicFindings, read_topics
from deliberate.findings.votes import VoteFindings, read_votes

# 1: the first runs (no version stored). 2: adds ``votes.n_consensus``, the number of statements
# that passed the consensus test in all (pages never count consensus from raw votes), and
# ``bridging``, agreement across viewpoints with intervals. 3: adds ``exclusions``, the
# participants the team left out of the run and why (older runs read as leaving nobody out), and
# ``moderation``, the statements the moderators removed (by reason) or edited, among those the run
# saw.
SCHEMA_VERSION = 3
READABLE = frozenset({1, 2, 3})


class UnknownSchema(ValueError):
    """The run was stored by a version of Deliberate this one cannot read."""


@dataclass(frozen=True)
class Findings:
    schema_version: int
    votes: VoteFindings
    topics: TopicFindings | None
    bridging: BridgingFindings | None
    exclusions: ExclusionFindings
    moderation: ModerationFindings | None = None  # None: made before removals were counted


def stamp(results: dict[str, Any]) -> dict[str, Any]:
    """The results as a run stores them: with the schema version they were written in."""
    return {"schema_version": SCHEMA_VERSION, **results}


def read_findings(results: Any) -> Findings:
    """The typed findings of a run's stored ``results`` (``None`` reads as an empty run)."""
    stored = obj(results, "results")
    version = integer(stored.get("schema_version"), 1)
    if version not in READABLE:
        raise UnknownSchema(
            f"These results were stored in schema version {version}; this version of Deliberate "
            f"reads versions {', '.join(map(str, sorted(READABLE)))}: upgrade Deliberate to read "
            "them."
        )
    try:
        return Findings(
            schema_version=version,
            votes=read_votes(stored.get("votes")),
            topics=read_topics(stored.get("topics")),
            bridging=read_bridging(stored.get("bridging")),
            exclusions=read_exclusions(stored.get("exclusions")),
            moderation=read_moderation(stored.get("moderation")),
        )
    except (KeyError, TypeError, IndexError, ValueError) as error:
        if isinstance(error, Malformed):
            raise
        raise Malformed(f"Stored results are malformed: {error!r}") from error
