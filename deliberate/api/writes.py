"""Taking part with a personal API token: answering a statement and adding one, as the token's
owner, through the very services the site's forms use (``participation.cast_vote``, the comment
path with its moderation and similar-statement check), under the site's rate limits, counted for
the same person as their browser's.

A comment the site would hold back while the similar-statement check runs is held here too: the
answer is 202 with ``status: checking`` and ``held_url``. GET that address until the status
changes: nothing close found, the statement is posted (``live`` or ``awaiting_moderation``, as the
site would have); close statements found, ``similar`` lists them, to vote on one of them instead
or to POST to ``held_url`` to post anyway. POSTing there while it is still ``checking`` posts
without waiting, as the site's button does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from deliberate.api.auth import acting_user, person_key, token_required
from deliberate.api.blueprint import BEARER_DOC, blp
from deliberate.api.errors import ApiError, error_response
from deliberate.api.reads import public_consultation, statement_dict
from deliberate.api.schemas import (
    StatementRequest,
    SubmissionSchema,
    VoteRequest,
    VoteSchema,
)
from deliberate.consultations.views import (
    ADDRESS_LIMIT,
    COMMENT_LIMIT,
    HELD_COMMENT_LIMIT,
    VOTE_LIMIT,
)
from deliberate.extensions import db, limiter
from deliberate.models import CheckStatus, Consultation, SimilarityCheck, Statement, VoteChoice
from deliberate.services import (
    analysis_runs,
    api_tokens,
    embeddings,
    participation,
    public_api,
    similar_statements,
)
from deliberate.services.errors import Refused
from deliberate.services.participation import CommentOutcome, Visitor
from deliberate.services.statements import DuplicateStatement, clean_statement_text
from deliberate.unit_of_work import once_more_on_conflict, rollback

CHOICES = {"agree": VoteChoice.AGREE, "disagree": VoteChoice.DISAGREE, "pass": VoteChoice.PASS}


def _accepting(consultation_id: int) -> Consultation:
    """A public consultation that takes answers now; else 404, or 409 saying why not."""
    consultation = public_consultation(consultation_id)
    reason = participation.why_not_accepting(consultation)
    if reason:
        raise ApiError(409, "consultation_closed", reason + ".")
    return consultation


def _refused(refusal: Refused) -> ApiError:
    """A service's refusal in the API's words."""
    if isinstance(refusal, DuplicateStatement):
        return ApiError(
            409,
            "duplicate_statement",
            refusal.message + ".",
            {"statement_id": refusal.original.id},
        )
    if refusal.field == "statement_id":
        return ApiError(409, "statement_not_votable", refusal.message + ".")
    if refusal.field == "text":  # the text itself passed: it repeats one that is not votable
        return ApiError(409, "duplicate_statement", refusal.message + ".")
    return ApiError(409, "refused", refusal.message + ".")


def _write(action: Callable[[], Any]) -> Any:
    """Run a service's write once more if an identical request raced it; refusals become the
    API's errors (raised: the unit of work then saves nothing)."""
    try:
        return once_more_on_conflict(action)
    except Refused as refusal:
        raise _refused(refusal) from None


def _visitor() -> Visitor:
    return Visitor(user=acting_user())


def as_on_the_site(endpoint: str, limit: str):
    """The site's rate limit of ``endpoint``, counted in the very same bucket for the same person.
    Flask-Limiter keys a route's limit by who (``user:<id>`` for a signed-in person, as
    ``auth.person_key`` is for a token's owner) and the route's endpoint; a shared limit scoped by
    that endpoint name adds to the same count, so a person has one allowance, site and API
    together."""
    return limiter.shared_limit(limit, scope=endpoint, key_func=person_key)


# -- answering -------------------------------------------------------------------------------------


@blp.route("/consultations/<int:consultation_id>/votes", methods=["POST"], tags=["Taking part"])
@token_required
@as_on_the_site("consultations.vote", VOTE_LIMIT)
@limiter.limit(ADDRESS_LIMIT)
@blp.arguments(VoteRequest)
@blp.response(200, VoteSchema)
@blp.doc(security=BEARER_DOC)
def vote(body: dict[str, Any], consultation_id: int):
    """Answer a statement (or change your answer)

    As you, with your role (staff or citizen) as your account has it now. Answering again
    with the same choice changes nothing."""
    consultation = _accepting(consultation_id)
    statement = db.session.get(Statement, body["statement_id"])
    if statement is None or statement.consultation_id != consultation.id:
        raise ApiError(
            404, "statement_not_found", "That statement is not part of this consultation."
        )
    outcome = _write(
        lambda: participation.cast_vote(
            consultation, _visitor(), statement.id, CHOICES[body["choice"]]
        )
    )
    analysis_runs.request_analysis(consultation.id)
    return {"statement_id": statement.id, "choice": body["choice"], "changed": outcome.changed}


# -- adding a statement ----------------------------------------------------------------------------


def _held_url(consultation: Consultation, check_id: int) -> str:
    return url_for(
        "api.held_statement", consultation_id=consultation.id, check_id=check_id, _external=True
    )


def _held(consultation: Consultation, held: SimilarityCheck, similar: list) -> dict[str, Any]:
    export_ids = public_api.statement_export_ids(consultation) if similar else {}
    return {
        "status": "checking" if held.status is CheckStatus.CHECKING else "similar",
        "statement_id": None,
        "held_id": held.id,
        "held_url": _held_url(consultation, held.id),
        "similar": [statement_dict(statement, export_ids) for statement, _ in similar],
    }


def _posted(consultation: Consultation, outcome: CommentOutcome, embed: bool) -> dict[str, Any]:
    """As the site's confirmation: a (debounced) analysis asked for, and the new statement's
    embedding unless the similarity check already made it."""
    analysis_runs.request_analysis(consultation.id)
    if embed:
        embeddings.request_embedding(consultation.id)
    return {
        "status": "live" if outcome.is_live else "awaiting_moderation",
        "statement_id": outcome.statement.id,
        "held_id": None,
        "held_url": None,
        "similar": [],
    }


@blp.route(
    "/consultations/<int:consultation_id>/statements", methods=["POST"], tags=["Taking part"]
)
@token_required
@as_on_the_site("consultations.comment", COMMENT_LIMIT)
@limiter.limit(ADDRESS_LIMIT)
@blp.arguments(StatementRequest)
@blp.response(201, SubmissionSchema, description="Posted: live, or awaiting moderation")
@blp.alt_response(
    202,
    schema=SubmissionSchema,
    description="Held while it is compared with the statements already made: follow held_url",
)
@blp.doc(security=BEARER_DOC)
def add_statement(body: dict[str, Any], consultation_id: int):
    """Add a statement

    As the site's comment form: you agree with it; it goes live at once, or after a moderator,
    as the consultation's moderation says; an exact repeat of a statement is refused with the
    statement's id; one close in meaning to a statement already made is held for a moment
    (202) while that is checked."""
    consultation = _accepting(consultation_id)
    try:  # what the schema cannot say (a statement that is all spaces once trimmed, say)
        clean_statement_text(body["text"])
    except Refused as refusal:
        raise ApiError(
            422, "invalid_request", refusal.message + ".", {"json": {"text": [refusal.message]}}
        ) from None
    user = acting_user()
    held = similar_statements.hold_for_check(consultation, _visitor(), body["text"])
    if held is not None:
        api_tokens.hold_for(user, held)
        similar_statements.request_check(held)
        url = _held_url(consultation, held.id)
        return _held(consultation, held, []), 202, {"Location": url}
    outcome = _write(lambda: participation.add_comment(consultation, _visitor(), body["text"]))
    return _posted(consultation, outcome, embed=True), 201


def _own_held(consultation: Consultation, check_id: int) -> SimilarityCheck:
    held = None
    if api_tokens.held_by(acting_user(), check_id):
        held = similar_statements.held_comment(consultation, check_id)
    if held is None:
        raise ApiError(
            404, "not_found", "No statement of yours is held here: it was posted, or dropped."
        )
    return held


def _post_held(consultation: Consultation, check_id: int):
    """Post the held statement as its author; a refusal (the consultation closed meanwhile, or
    someone made the very same statement) drops it, as the site does, and says why."""
    try:
        outcome = once_more_on_conflict(
            lambda: similar_statements.post_held_comment(consultation, _visitor(), check_id)
        )
    except Refused as refusal:
        rollback()
        similar_statements.drop_held_comment(check_id)
        return error_response(_refused(refusal))
    if outcome is None:  # posted a moment ago by another request
        raise ApiError(404, "not_found", "This statement was posted already.")
    return _posted(consultation, outcome, embed=False)


@blp.route(
    "/consultations/<int:consultation_id>/held-statements/<int:check_id>",
    methods=["GET"],
    tags=["Taking part"],
)
@token_required
@blp.response(200, SubmissionSchema)
@blp.doc(security=BEARER_DOC)
def held_statement(consultation_id: int, check_id: int):
    """Where a held statement stands

    ``checking`` while the comparison runs; once nothing close was found it is posted (as you
    asked when you sent it) and this says ``live`` or ``awaiting_moderation``; ``similar`` lists
    the close statements you may vote on instead."""
    consultation = public_consultation(consultation_id)
    held = _own_held(consultation, check_id)
    similar = similar_statements.similar_statements(held)
    if held.status is CheckStatus.CLEAR or (held.status is CheckStatus.SIMILAR and not similar):
        return _post_held(consultation, check_id)
    return _held(consultation, held, similar)


@blp.route(
    "/consultations/<int:consultation_id>/held-statements/<int:check_id>",
    methods=["POST"],
    tags=["Taking part"],
)
@token_required
@as_on_the_site("consultations.post_held_comment", HELD_COMMENT_LIMIT)
@limiter.limit(ADDRESS_LIMIT)
@blp.response(201, SubmissionSchema)
@blp.doc(security=BEARER_DOC)
def post_held_statement(consultation_id: int, check_id: int):
    """Post a held statement anyway

    Whether close statements were found or the check is still running."""
    consultation = public_consultation(consultation_id)
    _own_held(consultation, check_id)
    result = _post_held(consultation, check_id)
    return result if not isinstance(result, dict) else (result, 201)
