"""The matching API: eligibility, explainable suggestions, requests and their answers,
cohorts, the life of a pair (R9), and the audit of any proposal.

No text and no personal value crosses here: ids, vocabularies, states, scores.
A score is the sum of its criteria's contributions (weight x value), each in
[0, 1]; the weights are the platform's configuration, recorded with every
proposal so that it can be re-derived. R1: there is no price, fee or payment
field here, nor anywhere.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from contracts.api.base import Page, Request, Response
from contracts.events.matching import CRITERIA, DECLINE_REASONS, PROPOSAL_SOURCES
from contracts.fields import Boolean, Id, choice

#: What a pair can be: a pending proposal, a formed pair, or how it ended.
PAIR_STATES = ("proposed", "formed", "declined", "expired", "withdrawn", "ended")

#: Why a member ends her formed pair (R9); the platform's own reason,
#: ``counterpart_excluded`` (R2), is never a member's to give.
MEMBER_END_REASONS = ("completed", "withdrawn")

#: The most suggestions one request may ask for (``MatchingConfig``'s bound).
MAX_SUGGESTIONS = 100


# -- requests ------------------------------------------------------------------------------


class SuggestionQuery(Request):
    # A query parameter arrives as a string: marshmallow's Integer parses it (strictly).
    limit = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_SUGGESTIONS),
                    metadata={"description": "How many mentors, best first (default: the "
                              "platform's configured number)."})


class RequestMentor(Request):
    """The mentee asks one mentor (one of her suggestions); asking is accepting on her
    side, and the mentor has the configured number of days to answer."""

    mentor_id = Id(required=True, metadata={"description": "The mentor she asks for."})


class DeclineProposal(Request):
    """R9: either member may decline a proposal she has not accepted (a reason code,
    never a text)."""

    reason = choice(DECLINE_REASONS, required=True)


class EndPair(Request):
    """R9: either member ends the pair."""

    reason = choice(MEMBER_END_REASONS, required=True)


class ProposeCohort(Request):
    """The organisation's whole intake: every eligible mentee of it without an active
    or pending pair, assigned for the greatest total score under mentor capacities."""

    dry_run = Boolean(load_default=False, metadata={
        "description": "Only compute and show the assignment; propose nothing."})


class PairQuery(Page):
    state = choice(PAIR_STATES)


# -- responses -----------------------------------------------------------------------------


def _share(**kwargs: Any) -> fields.Float:
    return fields.Float(required=True, validate=validate.Range(min=0, max=1), **kwargs)


class CriterionPart(Response):
    weight = _share(metadata={"description": "Its weight (the weights sum to 1)."})
    value = _share(metadata={"description": "How well the pair meets it, in [0, 1]."})
    contribution = _share(metadata={"description": "weight x value: its part of the score."})


def _criteria_schema() -> type[Response]:
    """One ``CriterionPart`` per criterion, by name, in the order they are summed."""
    attributes: dict[str, Any] = {c: fields.Nested(CriterionPart, required=True)
                                  for c in CRITERIA}
    return type("Criteria", (Response,), attributes)


Criteria = _criteria_schema()


class Suggestion(Response):
    mentor_id = fields.String(required=True)
    score = _share()
    algorithm_version = fields.Integer(required=True)
    criteria = fields.Nested(Criteria, required=True)


class Suggestions(Response):
    mentee_id = fields.String(required=True)
    suggestions = fields.List(fields.Nested(Suggestion), required=True, metadata={
        "description": "Best first; ties broken by mentor id."})
    considered = fields.Integer(required=True, metadata={
        "description": "Eligible mentors looked at: her organisation's and those of "
                       "organisations open to others."})
    excluded = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "How many mentors each hard constraint "
                                     "ruled out (a mentor breaking two counts twice)."})


class IneligibilityReason(Response):
    reason = fields.String(required=True)
    rule = fields.String(required=True, allow_none=True, metadata={
        "description": "The charter rule behind it (R2, R3), null for an erasure."})


class Eligibility(Response):
    """Whether the member may be suggested or paired now (R2, R3), and why not."""

    member_id = fields.String(required=True)
    role = fields.String(required=True)
    eligible = fields.Boolean(required=True)
    reasons = fields.List(fields.Nested(IneligibilityReason), required=True)
    charter_version = fields.Integer(required=True, allow_none=True,
                                     metadata={"description": "The current charter version."})
    accepted_charter = fields.Integer(required=True, allow_none=True)
    open_pairs = fields.Integer(required=True, metadata={
        "description": "Her active and pending pairs (a mentee has one at most)."})
    capacity = fields.Integer(required=True, allow_none=True)
    free_places = fields.Integer(required=True, allow_none=True)


class Pair(Response):
    """A proposal and the pair it becomes (one id): its state, no text."""

    pair_id = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": list(PAIR_STATES)})
    source = fields.String(required=True, allow_none=True,
                           metadata={"enum": [*PROPOSAL_SOURCES, None]})
    cohort_id = fields.String(required=True, allow_none=True)
    mentor_id = fields.String(required=True)
    mentee_id = fields.String(required=True)
    mentor_organisation_id = fields.String(required=True, allow_none=True)
    mentee_organisation_id = fields.String(required=True, allow_none=True)
    score = _share()
    accepted_by = fields.List(fields.String(), required=True)
    proposed_at = fields.String(required=True)
    expires_at = fields.String(required=True, metadata={
        "description": "When a pending proposal expires without an answer."})
    formed_at = fields.String(required=True, allow_none=True)
    closed_at = fields.String(required=True, allow_none=True)
    close_reason = fields.String(required=True, allow_none=True, metadata={
        "description": "A decline's reason, expired, withdrawn, completed or "
                       "counterpart_excluded."})
    version = fields.Integer(required=True)


class PairList(Response):
    items = fields.List(fields.Nested(Pair), required=True)
    total = fields.Integer(required=True)


class Rederivation(Response):
    score = _share()
    components = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    consistent = fields.Boolean(required=True, metadata={
        "description": "The recorded score and components re-derive exactly and no hard "
                       "constraint is broken."})
    findings = fields.List(fields.String(), required=True)


class Explanation(Response):
    """What a proposal recorded (inputs, weights, algorithm version, components) and
    the score re-derived from that record alone, for an audit (bias or otherwise)."""

    pair_id = fields.String(required=True)
    source = fields.String(required=True, allow_none=True)
    proposed_at = fields.String(required=True)
    score = _share()
    algorithm_version = fields.Integer(required=True, allow_none=True)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                          allow_none=True)
    components = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                             allow_none=True)
    inputs = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True,
                         allow_none=True, metadata={
                             "description": "The mentee's and the mentor's profile "
                                            "vocabularies as scored (no text)."})
    rederived = fields.Nested(Rederivation, required=True, allow_none=True, metadata={
        "description": "Null for a proposal recorded before proposals kept their inputs."})


class CohortPair(Response):
    pair_id = fields.String(required=True, allow_none=True,
                            metadata={"description": "Null on a dry run."})
    mentee_id = fields.String(required=True)
    mentor_id = fields.String(required=True)
    score = _share()


class CohortAssignment(Response):
    method = fields.String(required=True, metadata={"enum": ["optimal", "greedy"]})
    total = fields.Float(required=True, validate=validate.Range(min=0))
    pairs = fields.List(fields.Nested(CohortPair), required=True)
    unmatched = fields.List(fields.String(), required=True)


class Cohort(Response):
    cohort_id = fields.String(required=True, allow_none=True,
                              metadata={"description": "Null on a dry run."})
    dry_run = fields.Boolean(required=True)
    intake = fields.Integer(required=True, metadata={"description": "Mentees assigned for."})
    mentors = fields.Integer(required=True, metadata={"description": "Mentors considered."})
    optimal = fields.Nested(CohortAssignment, required=True, metadata={
        "description": "What was proposed: the greatest total score (scipy's assignment "
                       "on capacity-expanded mentor places)."})
    greedy = fields.Nested(CohortAssignment, required=True, metadata={
        "description": "The greedy baseline, for comparison (never proposed)."})
    ratio = fields.Float(required=True, allow_none=True, metadata={
        "description": "optimal total / greedy total (>= 1), null when greedy found none."})


class MemberExport(Response):
    """What matching holds on a member: her eligibility and every proposal and pair
    she is in (states, scores and their explanation: no text exists here)."""

    eligibility = fields.Nested(Eligibility, required=True)
    pairs = fields.List(fields.Nested(Pair), required=True)
