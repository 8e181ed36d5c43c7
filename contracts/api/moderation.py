"""The moderator API (services/moderation, its own port and OpenAPI): cases, evidence,
decisions (R1, R2), audit, the hash chain, and the view as of a moment.

Moderators authenticate with their own credentials (``md_...``), never a
partner's key. Report details and rationales are sealed for moderators (R8):
the API opens them for moderators only; everything else sees states.
"""

from __future__ import annotations

from marshmallow import fields, validate

from contracts.api.base import Page, Request, Response, text
from contracts.events.moderation import CONFIRMATION_REASONS, DISMISSAL_REASONS
from contracts.fields import Integer, Timestamp, choice

CASE_STATUSES = ("open", "confirmed", "dismissed")


class EnrolModerator(Request):
    """Operator only: a moderator joins; her credential is returned once."""

    display_name = text(100, required=True)


class ModeratorEnrolled(Response):
    moderator_id = fields.String(required=True)
    credential = fields.String(required=True, allow_none=True, metadata={
        "description": "Shown once: only its hash is kept. Send as 'Authorization: Bearer'. "
                       "null when the request is sent again under its Idempotency-Key: "
                       "it is never kept for a retry (a lost one: revoke it by "
                       "moderator_id, and enrol her again)."})


class ModeratorRevoked(Response):
    """Operator only: a moderator's credential stops working at once (she left the
    platform, or it was lost or leaked); what she decided stays, signed with her id."""

    moderator_id = fields.String(required=True)
    revoked_at = Timestamp(required=True)


class CaseQuery(Page):
    status = choice(CASE_STATUSES)
    member_id = fields.UUID()


class CaseSummary(Response):
    case_id = fields.String(required=True)
    member_id = fields.String(required=True)
    organisation_id = fields.String(required=True, allow_none=True)
    sequence = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(CASE_STATUSES)})
    version = fields.Integer(required=True, metadata={
        "description": "Send it back as seen_version with a decision."})
    reports = fields.Integer(required=True)
    votes = fields.Integer(required=True)
    opened_at = fields.String(required=True)
    decided_at = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, allow_none=True)


class CaseList(Response):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    total = fields.Integer(required=True)


class Evidence(Response):
    report_id = fields.String(required=True)
    reporter_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    session_ids = fields.List(fields.String(), required=True)
    details = fields.String(required=True, allow_none=True, metadata={
        "description": "The reporter's words, opened for moderators only (R8)."})
    reported_at = fields.String(required=True)


class VoteOut(Response):
    moderator_id = fields.String(required=True)
    reason = fields.String(required=True, allow_none=True)
    rationale = fields.String(required=True, allow_none=True)
    at = fields.String(required=True)


class Case(CaseSummary):
    evidence = fields.List(fields.Nested(Evidence), required=True)
    votes_cast = fields.List(fields.Nested(VoteOut), required=True)
    decided_by = fields.List(fields.String(), required=True)
    quorum = fields.Integer(required=True, allow_none=True)
    excluded = fields.Boolean(required=True)
    flagged = fields.Boolean(required=True)


class Confirm(Request):
    """One moderator's vote that the solicitation happened (R1); the exclusion takes
    effect when a second, different moderator concurs (four eyes, R2)."""

    reason = choice(CONFIRMATION_REASONS, required=True)
    rationale = text(5000, required=True, metadata={"description": "Sealed for moderators."})
    seen_version = Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "The case version you read: a decision on a case that changed since "
                       "is refused (409), read it again."})


class Dismiss(Request):
    reason = choice(DISMISSAL_REASONS, required=True)
    rationale = text(5000, required=True)
    seen_version = Integer(required=True, validate=validate.Range(min=1))


class Reinstate(Request):
    """There is no reinstatement (R2): this is always refused, naming the rule."""

    rationale = text(5000, load_default=None, allow_none=True)


class Decision(Response):
    case_id = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    votes = fields.Integer(required=True)
    quorum = fields.Integer(required=True)
    excluded = fields.Boolean(required=True)


class AuditEntry(Response):
    stream_version = fields.Integer(required=True)
    position = fields.Integer(required=True)
    event_id = fields.String(required=True)
    action = fields.String(required=True)
    actor_role = fields.String(required=True)
    actor_id = fields.String(required=True, allow_none=True)
    at = fields.String(required=True)
    reason = fields.String(required=True, allow_none=True)
    rationale = fields.String(required=True, allow_none=True)
    report_id = fields.String(required=True, allow_none=True)
    moderator_ids = fields.List(fields.String(), required=True)
    quorum = fields.Integer(required=True, allow_none=True)


class Audit(Response):
    case_id = fields.String(required=True)
    entries = fields.List(fields.Nested(AuditEntry), required=True)


class AsOfQuery(Request):
    at = Timestamp(required=True, metadata={"description": "The moment (RFC 3339, with zone)."})


class PairAsOf(Response):
    pair_id = fields.String(required=True)
    mentor_id = fields.String(required=True)
    mentee_id = fields.String(required=True)
    state = fields.String(required=True)
    interval_days = fields.Integer(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    end_reason = fields.String(required=True, allow_none=True)
    since = fields.String(required=True)


class SessionAsOf(Response):
    session_id = fields.String(required=True)
    pair_id = fields.String(required=True)
    state = fields.String(required=True)
    at = fields.String(required=True)
    modality = fields.String(required=True, allow_none=True)
    minutes = fields.Integer(required=True, allow_none=True)
    confirmed = fields.Boolean(required=True)
    cancel_reason = fields.String(required=True, allow_none=True)


class CaseAsOf(Response):
    at = fields.String(required=True)
    case = fields.Nested(CaseSummary, required=True, allow_none=True)
    pairs = fields.List(fields.Nested(PairAsOf), required=True)
    sessions = fields.List(fields.Nested(SessionAsOf), required=True)


class ChainFinding(Response):
    position = fields.Integer(required=True)
    kind = fields.String(required=True)
    detail = fields.String(required=True)


class ChainVerification(Response):
    intact = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    first_broken = fields.Integer(required=True, allow_none=True)
    findings = fields.List(fields.Nested(ChainFinding), required=True)


