"""The one typed reader of a stored analysis run's results.

An analysis run stores what it found as JSON (``AnalysisRun.results``). Every page, download,
summary and trajectory reads it through ``read_findings``, never with hand-written ``.get``
chains, so two pages that state the same finding show the same number: they read the same field.

Pure Python: no Flask, no database, no numpy (the request path stays light). The stored shape is
versioned (``SCHEMA_VERSION``); a run written by an unknown version is refused with a clear error
rather than read wrongly.
"""

from __future__ import annotations

from deliberate.findings._json import Malformed
from deliberate.findings.bridging import BridgingFindings, StatementBridging
from deliberate.findings.exclusions import ExclusionFindings, read_exclusions
from deliberate.findings.moderation import ModerationFindings
from deliberate.findings.reader import (
    SCHEMA_VERSION,
    Findings,
    UnknownSchema,
    read_findings,
    stamp,
)
from deliberate.findings.topics import (
    TopicDescription,
    TopicFindings,
    TopicJoin,
    TopicLanguages,
    TopicTally,
)
from deliberate.findings.votes import (
    AGREE,
    DISAGREE,
    ConsensusFinding,
    DivisiveFinding,
    GroupFinding,
    GroupsTest,
    OpinionMapData,
    RepresentativeFinding,
    RoleFinding,
    RoleFindings,
    StatementCounts,
    VoteFindings,
    read_votes,
)

__all__ = [
    "AGREE",
    "DISAGREE",
    "SCHEMA_VERSION",
    "BridgingFindings",
    "ConsensusFinding",
    "DivisiveFinding",
    "ExclusionFindings",
    "Findings",
    "GroupFinding",
    "GroupsTest",
    "Malformed",
    "ModerationFindings",
    "OpinionMapData",
    "RepresentativeFinding",
    "RoleFinding",
    "RoleFindings",
    "StatementBridging",
    "StatementCounts",
    "TopicDescription",
    "TopicFindings",
    "TopicJoin",
    "TopicLanguages",
    "TopicTally",
    "UnknownSchema",
    "VoteFindings",
    "read_exclusions",
    "read_findings",
    "read_votes",
    "stamp",
]
