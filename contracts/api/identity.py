"""Identity's API: organisations and their keys, members, the charter (R3), erasure.

Requests take plaintext (names, e-mails, a mentee's expectations) over TLS from
the partner's back end; identity seals it under the member's key before it
becomes an event (R8), so the schemas here are the only place it is plain.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import charter
from contracts.api.base import Page, Request, Response, languages, text, topics
from contracts.events.identity import (
    MATCHING_SCOPES,
    MAX_MENTOR_CAPACITY,
    ORGANISATION_KINDS,
    PREFERRED_MODALITIES,
    REGION_PATTERN,
)
from contracts.fields import Integer, choice, role

MEMBER_STATUSES = ("active", "erased", "excluded")


def _region(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(
        REGION_PATTERN, error="Not a region code like 'fr-idf' (ISO 3166-2, lower case)."),
        **kwargs)


# -- organisations -------------------------------------------------------------------


class RegisterOrganisation(Request):
    """Operator only: a partner organisation joins; its first API key is returned once."""

    name = text(200, required=True)
    kind = choice(ORGANISATION_KINDS, required=True)
    contact_email = fields.Email(required=True, validate=validate.Length(max=254))
    matching_scope = choice(MATCHING_SCOPES, load_default="own")


class OrganisationRegistered(Response):
    organisation_id = fields.String(required=True)
    api_key = fields.String(required=True, allow_none=True, metadata={
        "description": "Shown once: only its hash is kept. Send as 'Authorization: Bearer'. "
                       "Null when the request was sent again under its Idempotency-Key (a "
                       "lost key: issue another with the operator's credential, and revoke "
                       "the lost one by its key_id)."})
    key_id = fields.String(required=True)


class ApiKeyInfo(Response):
    key_id = fields.String(required=True)
    prefix = fields.String(required=True)
    issued_at = fields.String(required=True)
    revoked_at = fields.String(required=True, allow_none=True)
    revoked_reason = fields.String(required=True, allow_none=True)


class IssuedApiKey(Response):
    key_id = fields.String(required=True)
    api_key = fields.String(required=True, allow_none=True, metadata={
        "description": "Shown once. Null when the request was sent again under its "
                       "Idempotency-Key (a lost key: revoke it by its key_id, issue another)."})


class RevokeApiKey(Request):
    reason = choice(("rotated", "compromised", "organisation_request"),
                    load_default="organisation_request")


class SetMatchingPolicy(Request):
    matching_scope = choice(MATCHING_SCOPES, required=True)


class Organisation(Response):
    organisation_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True)
    matching_scope = fields.String(required=True)
    registered_at = fields.String(required=True)
    members = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "Counts by role and status."})
    api_keys = fields.List(fields.Nested(ApiKeyInfo), required=True)


# -- members ---------------------------------------------------------------------------


class _ProfileRules(Request):
    @validates_schema
    def _coherent(self, data: dict[str, Any], **kwargs: Any) -> None:
        role_ = data.get("role")
        if role_ == "mentor" and data.get("capacity") is None:
            raise ValidationError("A mentor states how many mentees she takes on (1 to "
                                  f"{MAX_MENTOR_CAPACITY}).", field_name="capacity")
        if role_ == "mentee" and data.get("capacity") is not None:
            raise ValidationError("Only a mentor has a capacity.", field_name="capacity")
        if role_ == "mentor" and data.get("expectations") is not None:
            raise ValidationError("Expectations are the mentee's (R4).",
                                  field_name="expectations")
        if data.get("preferred_modality") == "in_person" and not data.get("region"):
            raise ValidationError("Meeting in person needs a region.", field_name="region")


class RegisterMember(_ProfileRules):
    """A partner registers one of its members, as mentor or mentee (a person who is
    both registers twice, once per role)."""

    role = role(required=True)
    display_name = text(100, required=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    languages = languages(required=True)
    topics = topics(load_default=list, metadata={
        "description": "A mentor's areas of expertise; a mentee's needs (one vocabulary)."})
    preferred_modality = choice(PREFERRED_MODALITIES, required=True)
    region = _region(load_default=None, allow_none=True)
    capacity = Integer(load_default=None, allow_none=True,
                       validate=validate.Range(min=1, max=MAX_MENTOR_CAPACITY))
    expectations = text(2000, load_default=None, allow_none=True,
                        metadata={"description": "The mentee's own words (R4), sealed."})
    bio = text(2000, load_default=None, allow_none=True)


class UpdateMember(Request):
    """Only what changes; at least one field. The e-mail is not here: it is the
    person's identity (R2 recognises an excluded person by it), fixed at registration."""

    display_name = text(100)
    languages = languages()
    topics = topics()
    preferred_modality = choice(PREFERRED_MODALITIES)
    region = _region(allow_none=True)
    capacity = Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_MENTOR_CAPACITY))
    expectations = text(2000, allow_none=True)
    bio = text(2000, allow_none=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Name at least one field to change.")


class MemberQuery(Page):
    role = role()
    status = choice(MEMBER_STATUSES)


class CharterStatus(Response):
    accepted_version = fields.Integer(required=True, allow_none=True)
    current_version = fields.Integer(required=True)
    up_to_date = fields.Boolean(required=True)


class MemberSummary(Response):
    """What an organisation's listing shows: states, no personal data."""

    member_id = fields.String(required=True)
    role = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(MEMBER_STATUSES)})
    charter = fields.Nested(CharterStatus, required=True)
    flag = fields.String(required=True, allow_none=True,
                         metadata={"description": "R2: commercial_solicitation once excluded."})
    registered_at = fields.String(required=True)


class MemberList(Response):
    items = fields.List(fields.Nested(MemberSummary), required=True)
    total = fields.Integer(required=True)


class Member(MemberSummary):
    """A member's profile, for her organisation and herself; personal fields are
    null once erased."""

    organisation_id = fields.String(required=True)
    display_name = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    languages = fields.List(fields.String(), required=True)
    topics = fields.List(fields.String(), required=True)
    preferred_modality = fields.String(required=True)
    region = fields.String(required=True, allow_none=True)
    capacity = fields.Integer(required=True, allow_none=True)
    expectations = fields.String(required=True, allow_none=True)
    bio = fields.String(required=True, allow_none=True)


class MemberRegisteredResponse(Response):
    member_id = fields.String(required=True)
    version = fields.Integer(required=True)


# -- charter (R3) -------------------------------------------------------------------------


class AcceptCharter(Request):
    """R3: the member names every commitment of her role in the version she accepts."""

    charter_version = Integer(required=True, validate=validate.Range(min=1))
    commitments = fields.List(fields.String(validate=validate.Regexp(
        charter.COMMITMENT_ID_PATTERN, error="Not a commitment id like 'mentee.confidentiality'.")),
        required=True, validate=validate.Length(min=1, max=50))


class CharterAcceptance(Response):
    member_id = fields.String(required=True)
    charter_version = fields.Integer(required=True)
    accepted_at = fields.String(required=True)


class Charter(Response):
    charter_version = fields.Integer(required=True)
    text = fields.String(required=True)
    text_sha256 = fields.String(required=True)
    commitments = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                              required=True, metadata={"description": "Ids by role."})
    published_at = fields.String(required=True)


class PublishCharter(Request):
    """Operator only: a new charter version; every member must accept it again (R3)."""

    text = text(100_000, required=True)
    mentor_commitments = fields.List(fields.String(validate=validate.Regexp(
        r"^mentor\.[a-z][a-z0-9_]{0,62}$")), required=True, validate=validate.Length(min=1, max=50))
    mentee_commitments = fields.List(fields.String(validate=validate.Regexp(
        r"^mentee\.[a-z][a-z0-9_]{0,62}$")), required=True, validate=validate.Length(min=1, max=50))


# -- erasure and access ------------------------------------------------------------------


class EraseMember(Request):
    """Crypto-shredding: the member's key is destroyed; her events stay, unreadable."""

    confirm = fields.Boolean(required=True, validate=validate.Equal(
        True, error="Erasure cannot be undone: send confirm: true."))


class Erasure(Response):
    member_id = fields.String(required=True)
    erased_at = fields.String(required=True)


class ExportedEvent(Response):
    event_id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    recorded_at = fields.String(required=True)
    data = fields.Dict(required=True, metadata={
        "description": "As stored: personal values are ciphertext (sealed)."})


class IdentityExport(Response):
    """Everything identity holds on a member (right of access)."""

    member = fields.Nested(Member, required=True)
    charter_acceptances = fields.List(fields.Nested(CharterAcceptance), required=True)
    exclusion = fields.Dict(required=True, allow_none=True)
    events = fields.List(fields.Nested(ExportedEvent), required=True)


class Health(Response):
    status = fields.String(required=True)
    service = fields.String(required=True)
