"""Pure analysis: numpy / scipy / scikit-learn in, frozen dataclasses out (no Flask, no models).

Votes: ``analyse_votes(VoteMatrix.from_triples(...))`` gives opinion groups, representative,
consensus and divisive statements and the staff / citizen comparison as one ``VoteAnalysis``.
Groups are published only when they separate better than on shuffled answers (``GroupsTest``),
and claims about groups are tested against groups found without the statement (``held_out_counts``).
"""

from deliberate.analysis.group_evidence import (
    GroupsTest,
    SeparationAtK,
    groups_beyond_chance,
    shuffle_answers,
)
from deliberate.analysis.held_out_groups import (
    HELD_OUT_STATEMENTS,
    SAME_VOTES,
    HeldOutCounts,
    held_out_counts,
)
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
    "HELD_OUT_STATEMENTS",
    "SAME_VOTES",
    "AnalysisParameters",
    "ConsensusStatement",
    "DivisiveStatement",
    "GroupParameters",
    "GroupsTest",
    "HeldOutCounts",
    "NotEnoughData",
    "OpinionGroup",
    "OpinionGroups",
    "OpinionMap",
    "RepresentativeStatement",
    "RoleComparison",
    "RoleStatementStats",
    "SeparationAtK",
    "StatementTable",
    "VoteAnalysis",
    "VoteMatrix",
    "analyse_votes",
    "benjamini_hochberg",
    "compute_opinion_groups",
    "groups_beyond_chance",
    "held_out_counts",
    "shuffle_answers",
]
