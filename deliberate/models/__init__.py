"""The models, split by concept. Import them from here."""

from deliberate.models._types import utcnow
from deliberate.models.analysis import AnalysisRun, RunStatus
from deliberate.models.api_token import ApiHeldComment, ApiToken
from deliberate.models.audit import AppendOnly, AuditEvent
from deliberate.models.consultation import (
    Consultation,
    ConsultationState,
    IllegalTransition,
    ModerationMode,
)
from deliberate.models.embedding import CheckStatus, SimilarityCheck, StatementEmbedding
from deliberate.models.follower import Follower
from deliberate.models.idea import Idea, IdeaStage, IdeaStageChange, IdeaSupport
from deliberate.models.indicator import IndicatorDirection, IndicatorValue, MissionIndicator
from deliberate.models.mission import Mission
from deliberate.models.participation import (
    ModerationStatus,
    Participant,
    ParticipantFlag,
    ParticipantRole,
    RemovalReason,
    Statement,
    StatementOrigin,
    Vote,
    VoteChoice,
    VoteEvent,
    normalise_statement,
)
from deliberate.models.pending_job import PendingJob
from deliberate.models.response import (
    LinkKind,
    MissionResponse,
    ResponseLink,
    ResponseStatus,
    ResponseUpdate,
)
from deliberate.models.site_text import SiteText, SiteTextKey
from deliberate.models.statement_report import ReportReason, StatementReport
from deliberate.models.translation import ConsultationTranslation, StatementTranslation
from deliberate.models.user import (
    AccountToken,
    MissionTeamMember,
    StaffVerification,
    TokenPurpose,
    User,
)

__all__ = [
    "AccountToken",
    "AnalysisRun",
    "ApiHeldComment",
    "ApiToken",
    "AppendOnly",
    "AuditEvent",
    "CheckStatus",
    "Consultation",
    "ConsultationState",
    "ConsultationTranslation",
    "Follower",
    "Idea",
    "IdeaStage",
    "IdeaStageChange",
    "IdeaSupport",
    "IllegalTransition",
    "IndicatorDirection",
    "IndicatorValue",
    "LinkKind",
    "Mission",
    "MissionIndicator",
    "MissionResponse",
    "MissionTeamMember",
    "ModerationMode",
    "ModerationStatus",
    "Participant",
    "ParticipantFlag",
    "ParticipantRole",
    "PendingJob",
    "RemovalReason",
    "ReportReason",
    "ResponseLink",
    "ResponseStatus",
    "ResponseUpdate",
    "RunStatus",
    "SimilarityCheck",
    "SiteText",
    "SiteTextKey",
    "StaffVerification",
    "Statement",
    "StatementEmbedding",
    "StatementOrigin",
    "StatementReport",
    "StatementTranslation",
    "TokenPurpose",
    "User",
    "Vote",
    "VoteChoice",
    "VoteEvent",
    "normalise_statement",
    "utcnow",
]
