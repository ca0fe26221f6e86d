"""Pure analysis: numpy / scipy / scikit-learn in, frozen dataclasses out (no Flask, no models).

Votes: ``analyse_votes(VoteMatrix.from_triples(...))`` gives opinion groups, representative,
consensus and divisive statements and the staff / citizen comparison as one ``VoteAnalysis``.
"""

from deliberate.analysis.opinion_groups import (
    GroupParameters,
    NotEnoughData,
    OpinionGroups,
    VoteMatrix,
    compute_opinion_groups,
)
from deliberate.analysis.statement_stats import (
    ConsensusStatement,
    DivisiveStatement,
    RepresentativeStatement,
    RoleComparison,
    RoleStatementStats,
    benjamini_hochberg,
)
from deliberate.analysis.vote_analysis import (
    AnalysisParameters,
    OpinionGroup,
    OpinionMap,
    StatementTable,
    VoteAnalysis,
    analyse_votes,
)

__all__ = [
    "AnalysisParameters",
    "ConsensusStatement",
    "DivisiveStatement",
    "GroupParameters",
    "NotEnoughData",
    "OpinionGroup",
    "OpinionGroups",
    "OpinionMap",
    "RepresentativeStatement",
    "RoleComparison",
    "RoleStatementStats",
    "StatementTable",
    "VoteAnalysis",
    "VoteMatrix",
    "analyse_votes",
    "benjamini_hochberg",
    "compute_opinion_groups",
]
