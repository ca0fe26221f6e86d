"""The API's request and response shapes (marshmallow): they validate what comes in and write the
OpenAPI document; the views pass plain objects and these pick the public fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from deliberate.missions.catalogue import MISSIONS
from deliberate.models import ConsultationState, IdeaStage, ModerationMode, StatementOrigin
from deliberate.models.participation import STATEMENT_MAX
from deliberate.security import DATABASE_INT_MAX
from deliberate.services.public_api import DEFAULT_PAGE, MAX_PAGE

NULL = {"allow_none": True}
ID = validate.Range(min=0, max=DATABASE_INT_MAX)
CHOICES = ("agree", "disagree", "pass")
WORD = r"\w"  # a letter or a digit, in any script (Python's re, as schemathesis and jsonschema)


def _text(description: str, **kwargs: Any) -> fields.String:
    return fields.String(metadata={"description": description}, **kwargs)


def _language() -> fields.String:
    return _text('The language it was written in (BCP 47: "en", "cy"...)', required=True)


def _translations(description: str) -> fields.Dict:
    return fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": description},
    )


class Text(fields.String):
    """A string that can be stored: no unpaired surrogates (JSON can spell them, UTF-8 cannot)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Text must be valid Unicode.") from None
        return text


class UtcDateTime(fields.DateTime):
    """The site stores naive UTC times; written out with their offset, as RFC 3339 wants."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Contains(validate.Regexp):
    """A ``pattern`` as JSON Schema means it: found anywhere in the text (marshmallow's Regexp
    must match at the start)."""

    def __call__(self, value: str) -> str:
        if self.regex.search(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


# -- errors ----------------------------------------------------------------------------------------


class ErrorBodySchema(ma.Schema):
    status = fields.Integer(required=True, metadata={"description": "The HTTP status"})
    code = _text("A word a program can branch on: not_found, consultation_closed...", required=True)
    message = _text("What went wrong, for a person", required=True)
    details = fields.Dict(
        metadata={"description": "More, where there is more: the fields a request got wrong..."}
    )


class ErrorSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# -- paging ----------------------------------------------------------------------------------------


class PageQuery(ma.Schema):
    after = fields.Integer(
        load_default=0,
        validate=ID,
        metadata={"description": "The last id of the previous page (0: from the start)"},
    )
    limit = fields.Integer(
        load_default=DEFAULT_PAGE,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"How many items, at most {MAX_PAGE}"},
    )


def page_of(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page of ``item``: the items, in id order, and where the next page is."""
    return ma.Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next": fields.String(
                required=True,
                allow_none=True,
                metadata={"description": "The next page's address; null on the last page"},
            ),
        },
        name=name,
    )


# -- missions and consultations --------------------------------------------------------------------


class MissionSchema(ma.Schema):
    slug = _text("Names the mission in addresses", required=True)
    name = fields.String(required=True)
    goal = fields.String(required=True)
    page_url = fields.String(required=True, metadata={"description": "Its page on the site"})


class MissionQuery(PageQuery):
    # The five missions are fixed in the code (missions.catalogue), so the document lists them.
    mission = fields.String(
        validate=validate.OneOf([spec.slug for spec in MISSIONS]),
        metadata={"description": "Only this mission's (its slug)"},
    )


class LicenceSchema(ma.Schema):
    name = fields.String(required=True)
    url = fields.String(required=True)
    attribution = _text("Whom to credit when reusing the data", required=True)


class ConsultationSchema(ma.Schema):
    id = fields.Integer(required=True)
    mission = _text("The mission's slug", required=True)
    title = fields.String(required=True)
    context = fields.String(required=True)
    state = fields.Enum(ConsultationState, by_value=True, required=True)
    accepting_answers = fields.Boolean(
        required=True, metadata={"description": "Open, and within its dates, now"}
    )
    not_accepting_because = fields.String(required=True, **NULL)
    moderation_mode = fields.Enum(
        ModerationMode,
        by_value=True,
        required=True,
        metadata={"description": "pre: new statements wait for a moderator; post: live at once"},
    )
    allow_anonymous = fields.Boolean(required=True)
    round_number = fields.Integer(required=True)
    previous_round_id = fields.Integer(required=True, **NULL)
    opens_at = UtcDateTime(required=True, **NULL)
    closes_at = UtcDateTime(required=True, **NULL)
    opened_at = UtcDateTime(required=True, **NULL)
    closed_at = UtcDateTime(required=True, **NULL)
    published_run_id = fields.Integer(
        required=True, **NULL, metadata={"description": "The analysis the public sees, if any"}
    )
    licence = fields.Nested(LicenceSchema, required=True)
    source_url = fields.String(
        required=True, **NULL, metadata={"description": "Where an imported conversation came from"}
    )
    page_url = fields.String(required=True)


class ConsultationQuery(MissionQuery):
    state = fields.String(
        validate=validate.OneOf([ConsultationState.OPEN.value, ConsultationState.CLOSED.value]),
        metadata={"description": "Only open ones, or only closed ones (drafts are never public)"},
    )


# -- statements ------------------------------------------------------------------------------------


class StatementSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "Vote on it with this id"})
    consultation_id = fields.Integer(required=True)
    text = fields.String(required=True)
    language = _language()
    translations = _translations("The mission team's translations of it: language -> text")
    origin = fields.Enum(
        StatementOrigin,
        by_value=True,
        required=True,
        metadata={
            "description": "seed: from the mission team; participant: from someone taking part"
        },
    )
    edited = fields.Boolean(
        required=True, metadata={"description": "The moderators took words out of it"}
    )
    created_at = UtcDateTime(required=True)
    export_id = fields.Integer(
        required=True,
        metadata={"description": "Its comment-id in the open-data download (CSVs, run.json)"},
    )


# -- published runs --------------------------------------------------------------------------------


class RunSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    consultation_id = fields.Integer(required=True)
    finished_at = UtcDateTime(required=True, **NULL)
    published_at = UtcDateTime(required=True)
    current = fields.Boolean(
        required=True, metadata={"description": "The one the public sees now (published last)"}
    )
    n_participants = fields.Integer(required=True)
    n_statements = fields.Integer(required=True)
    n_votes = fields.Integer(required=True)
    report_url = fields.String(required=True)


Parameters = fields.Dict(required=True, metadata={"description": "As the run stored them"})


class GroupsTestSchema(ma.Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf(["groups", "no_clear_groups", "not_tested"])
    )
    statistic = fields.Float(required=True)
    p_value = fields.Float(required=True, **NULL)
    permutations = fields.Integer(required=True)
    k_found = fields.Integer(required=True)
    k = fields.Integer(required=True)


class VoteMethodSchema(ma.Schema):
    method_version = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["ok", "not_enough_data"]))
    message = fields.String(required=True)
    alpha = fields.Float(required=True, metadata={"description": "False-discovery rate"})
    claims_method = fields.String(required=True)
    parameters = Parameters
    groups_test = fields.Nested(GroupsTestSchema, required=True, **NULL)


class TopicMethodSchema(ma.Schema):
    status = fields.String(required=True)
    message = fields.String(required=True)
    model_name = fields.String(required=True)
    model_fingerprint = fields.String(required=True)
    language = fields.String(required=True)
    parameters = Parameters


class MethodSchema(ma.Schema):
    votes = fields.Nested(VoteMethodSchema, required=True)
    topics = fields.Nested(TopicMethodSchema, required=True, **NULL)


class RunConsultationSchema(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    report_url = fields.String(required=True)
    opened_at = fields.String(required=True, **NULL)
    closed_at = fields.String(required=True, **NULL)
    source_url = fields.String(required=True, **NULL)


class RunFactsSchema(ma.Schema):
    id = fields.Integer(required=True)
    started_at = fields.String(required=True, **NULL)
    finished_at = fields.String(required=True, **NULL)
    published_at = fields.String(required=True, **NULL)
    code_version = fields.String(required=True, **NULL)
    n_participants = fields.Integer(required=True)
    n_statements = fields.Integer(required=True)
    n_votes = fields.Integer(
        required=True, metadata={"description": "One per person and statement"}
    )
    n_left_out = fields.Integer(
        required=True, metadata={"description": "Participants the team left out of the analysis"}
    )


class GroupVotesSchema(ma.Schema):
    group_id = fields.Integer(required=True)
    agrees = fields.Integer(required=True)
    disagrees = fields.Integer(required=True)
    seen = fields.Integer(required=True)


class RunStatementSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "As in the statements endpoint"})
    export_id = fields.Integer(
        required=True, **NULL, metadata={"description": "comment-id in the open-data download"}
    )
    text = _text('As the public reads it ("[Removed by the moderators]"...)', required=True)
    language = _language()
    translations = _translations("The team's translations: language -> text (none if withheld)")
    moderated = fields.Integer(
        required=True, metadata={"description": "1 shown, 0 awaiting moderation, -1 removed"}
    )
    analysed = fields.Boolean(required=True)
    agrees = fields.Integer(required=True)
    disagrees = fields.Integer(required=True)
    passes = fields.Integer(required=True)
    seen = fields.Integer(required=True)
    topic_id = fields.Integer(required=True, **NULL)
    groups = fields.List(fields.Nested(GroupVotesSchema), required=True)


Pair = fields.List(
    fields.Integer(),
    validate=validate.Length(equal=2),
    metadata={"description": "[answered that way, voted on it]"},
)


class RepresentativeSchema(ma.Schema):
    statement_id = fields.Integer(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["agree", "disagree"]))
    in_group = Pair
    q_value = fields.Float(required=True)


class GroupSchema(ma.Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    n_assigned = fields.Integer(required=True)
    representative = fields.List(fields.Nested(RepresentativeSchema), required=True)


class QuotedConsensusSchema(ma.Schema):
    statement_id = fields.Integer(required=True)
    per_group = fields.List(Pair, required=True)
    q_value = fields.Float(required=True)


class ConsensusSideSchema(ma.Schema):
    n_passed = fields.Integer(
        required=True, **NULL, metadata={"description": "Statements that passed the test in all"}
    )
    quoted = fields.List(fields.Nested(QuotedConsensusSchema), required=True)


class ConsensusSchema(ma.Schema):
    agree = fields.Nested(ConsensusSideSchema, required=True)
    disagree = fields.Nested(ConsensusSideSchema, required=True)


class DivisiveSchema(ma.Schema):
    statement_id = fields.Integer(required=True)
    most_agreeing_group = fields.Integer(required=True)
    most_disagreeing_group = fields.Integer(required=True)
    q_value = fields.Float(required=True)


class TopicSchema(ma.Schema):
    id = fields.Integer(required=True, metadata={"description": "-1 is Other"})
    label = fields.String(required=True)
    keywords = fields.List(fields.String(), required=True)
    size = fields.Integer(required=True)
    statement_ids = fields.List(fields.Integer(), required=True)


class ModerationCountsSchema(ma.Schema):
    n_removed = fields.Integer(required=True)
    by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    n_without_reason = fields.Integer(required=True)
    n_edited = fields.Integer(required=True)


class RoleSideSchema(ma.Schema):
    agrees = fields.Integer(required=True)
    disagrees = fields.Integer(required=True)
    seen = fields.Integer(required=True)


class RoleFindingSchema(ma.Schema):
    statement_id = fields.Integer(required=True)
    staff = fields.Nested(RoleSideSchema, required=True)
    citizens = fields.Nested(RoleSideSchema, required=True)
    q_value = fields.Float(required=True, metadata={"description": "Their difference, tested"})
    both_agree_q = fields.Float(required=True)
    test = fields.String(required=True)


class RolesSchema(ma.Schema):
    n_staff = fields.Integer(required=True)
    n_citizens = fields.Integer(required=True)
    message = fields.String(required=True)
    n_compared = fields.Integer(required=True)
    differ_most = fields.List(fields.Nested(RoleFindingSchema), required=True)
    both_agree = fields.List(fields.Nested(RoleFindingSchema), required=True)


class RunSchema(ma.Schema):
    """A published analysis run: the open-data run.json with the site's statement ids."""

    consultation = fields.Nested(RunConsultationSchema, required=True)
    licence = fields.Nested(LicenceSchema, required=True)
    run = fields.Nested(RunFactsSchema, required=True)
    method = fields.Nested(MethodSchema, required=True)
    statements = fields.List(fields.Nested(RunStatementSchema), required=True)
    groups = fields.List(fields.Nested(GroupSchema), required=True)
    consensus = fields.Nested(ConsensusSchema, required=True)
    divisive = fields.List(fields.Nested(DivisiveSchema), required=True)
    topics = fields.List(fields.Nested(TopicSchema), required=True)
    moderation = fields.Nested(ModerationCountsSchema, required=True, **NULL)
    roles = fields.Nested(RolesSchema, required=True, **NULL)


# -- ideas -----------------------------------------------------------------------------------------


class SupportSchema(ma.Schema):
    staff = fields.Integer(required=True)
    citizens = fields.Integer(required=True)
    total = fields.Integer(required=True)


class StageChangeSchema(ma.Schema):
    from_stage = fields.Enum(IdeaStage, by_value=True, required=True)
    to_stage = fields.Enum(IdeaStage, by_value=True, required=True)
    reason = _text("The mission team's public reason", required=True)
    changed_at = UtcDateTime(required=True)


class IdeaSchema(ma.Schema):
    id = fields.Integer(required=True)
    mission = _text("The mission's slug", required=True)
    title = fields.String(required=True)
    problem = fields.String(required=True)
    proposal = fields.String(required=True)
    evidence = fields.String(required=True)
    stage = fields.Enum(IdeaStage, by_value=True, required=True)
    author = _text(
        'Who proposed it, without a name: "a verified member of staff..."', required=True
    )
    author_name = _text("Only when its author chose to show it", required=True, **NULL)
    trial_learning = fields.String(required=True, **NULL)
    created_at = UtcDateTime(required=True)
    support = fields.Nested(SupportSchema, required=True)
    page_url = fields.String(required=True)


class IdeaDetailsSchema(IdeaSchema):
    stages = fields.List(
        fields.Nested(StageChangeSchema),
        required=True,
        metadata={"description": "Its journey through the stages, oldest move first"},
    )


class IdeaQuery(MissionQuery):
    stage = fields.Enum(IdeaStage, by_value=True)


# -- taking part -----------------------------------------------------------------------------------


class VoteRequest(ma.Schema):
    statement_id = fields.Integer(required=True, strict=True, validate=ID)
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))


class VoteSchema(ma.Schema):
    statement_id = fields.Integer(required=True)
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))
    changed = fields.Boolean(
        required=True, metadata={"description": "False when it repeated your current answer"}
    )


class StatementRequest(ma.Schema):
    # What the site's form refuses, said so a program can check it first: at most 1,000
    # characters (as sent: the spaces around it count here) with at least one letter or digit.
    text = Text(
        required=True,
        validate=[
            validate.Length(min=1, error="Enter your statement"),
            validate.Length(
                max=STATEMENT_MAX, error=f"Statement must be {STATEMENT_MAX} characters or fewer"
            ),
            Contains(WORD, error="Statement must contain words, not only punctuation or symbols"),
        ],
        metadata={
            "description": f"Your statement: at most {STATEMENT_MAX} characters, with words in it"
        },
    )


SUBMISSION_STATUSES = ("live", "awaiting_moderation", "checking", "similar")


class SubmissionSchema(ma.Schema):
    """Where a statement you sent stands."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(SUBMISSION_STATUSES),
        metadata={
            "description": "live: others can vote on it; awaiting_moderation: a moderator checks "
            "it first; checking: held while we compare it with the statements already made "
            "(follow held_url); similar: statements close to it exist (vote on one of them, or "
            "POST to held_url to post yours anyway)"
        },
    )
    statement_id = fields.Integer(
        required=True, **NULL, metadata={"description": "Once posted (you agree with it)"}
    )
    held_id = fields.Integer(required=True, **NULL)
    held_url = fields.String(required=True, **NULL)
    similar = fields.List(
        fields.Nested(StatementSchema),
        required=True,
        metadata={"description": "Statements close in meaning that people can vote on"},
    )
