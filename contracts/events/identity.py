"""identity: partner organisations, API keys, members, the charter (R3) and
personal data erasure. Topic ``identity.events``."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import charter, sealed
from contracts.events.base import EventData
from contracts.fields import (
    Ciphertext,
    Fingerprint,
    Id,
    Integer,
    Timestamp,
    choice,
    role,
    slug,
)
from contracts.registry import event

CONTEXT = "identity"

ORGANISATION_KINDS = ("company", "association", "school", "other")
API_KEY_REVOCATION_REASONS = (
    "rotated", "compromised", "organisation_request", "organisation_closed",
)
ERASURE_REQUESTERS = ("member", "organisation", "platform")

#: ISO 639-1 codes: matching pairs members who share a language.
LANGUAGE_PATTERN = r"^[a-z]{2}$"


def _languages(**kwargs: Any) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Regexp(LANGUAGE_PATTERN)),
        validate=validate.Length(min=1, max=10),
        **kwargs,
    )


def _topics(**kwargs: Any) -> fields.List:
    # Slugs of a controlled vocabulary, not free text (R8): matching scores on them.
    return fields.List(slug(), validate=validate.Length(max=20), **kwargs)


@event(CONTEXT, "OrganisationRegistered", version=1)
class OrganisationRegisteredV1(EventData):
    """A partner organisation joined the platform. Subject: organisation id."""

    organisation_id = Id(required=True)
    name = Ciphertext(required=True)  # R8: may name a person (a small association)
    kind = choice(ORGANISATION_KINDS, required=True)
    contact_email = Ciphertext(required=True)
    registered_at = Timestamp(required=True)


@event(CONTEXT, "ApiKeyIssued", version=1)
class ApiKeyIssuedV1(EventData):
    """An API key for the gateway. Subject: organisation id.

    Only the SHA-256 of the secret is kept (the key is 256 random bits, so its
    hash cannot be brute-forced); the prefix lets an admin recognise the key.
    """

    organisation_id = Id(required=True)
    key_id = Id(required=True)
    prefix = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{8}$"))
    secret_sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    issued_at = Timestamp(required=True)
    expires_at = Timestamp(load_default=None, allow_none=True)


@event(CONTEXT, "ApiKeyRevoked", version=1)
class ApiKeyRevokedV1(EventData):
    """Subject: organisation id."""

    organisation_id = Id(required=True)
    key_id = Id(required=True)
    reason = choice(API_KEY_REVOCATION_REASONS, required=True)
    revoked_at = Timestamp(required=True)


@event(CONTEXT, "MemberRegistered", version=1)
class MemberRegisteredV1(EventData):
    """A mentor or mentee registered through her organisation. Subject: member id.

    ``identity_fingerprint`` lets identity refuse a permanently excluded person
    (R2) under any organisation, even after her personal data is erased.
    """

    member_id = Id(required=True)
    organisation_id = Id(required=True)
    role = role(required=True)
    identity_fingerprint = Fingerprint(required=True)
    display_name = Ciphertext(required=True)
    email = Ciphertext(required=True)
    languages = _languages(required=True)
    topics = _topics(load_default=list)
    registered_at = Timestamp(required=True)


@event(CONTEXT, "MemberProfileUpdated", version=1)
class MemberProfileUpdatedV1(EventData):
    """Only the changed parts of a profile; at least one. Subject: member id."""

    member_id = Id(required=True)
    display_name = Ciphertext()
    email = Ciphertext()
    bio = Ciphertext()
    languages = _languages()
    topics = _topics()
    updated_at = Timestamp(required=True)

    @validates_schema
    def _something_changed(self, data: dict[str, Any], **kwargs: Any) -> None:
        changed = {"display_name", "email", "bio", "languages", "topics"} & set(data)
        if not changed:
            raise ValidationError("At least one profile field must change.")


@event(CONTEXT, "CharterPublished", version=1)
class CharterPublishedV1(EventData):
    """R3: a charter version and each role's commitments. Platform-level (no
    partner organisation). Subject: the charter aggregate id.

    The charter is public, so its text is not sealed; events carry its digest
    and the commitment ids, the text itself lives with the identity service.
    """

    charter_id = Id(required=True)
    charter_version = Integer(required=True, validate=validate.Range(min=1))
    text_sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    mentor_commitments = fields.List(
        fields.String(validate=validate.Regexp(r"^mentor\.[a-z][a-z0-9_]{0,62}$")),
        required=True,
        validate=validate.Length(min=1),
    )
    mentee_commitments = fields.List(
        fields.String(validate=validate.Regexp(r"^mentee\.[a-z][a-z0-9_]{0,62}$")),
        required=True,
        validate=validate.Length(min=1),
    )
    published_at = Timestamp(required=True)


@event(CONTEXT, "CharterAccepted", version=1)
class CharterAcceptedV1(EventData):
    """R3: a member accepted her role's commitments of one charter version.
    Subject: member id. Matching and sessions require it for the current version.

    That the list is the whole list of the published version is the identity
    domain's rule; the contract guarantees each id belongs to the member's role.
    """

    member_id = Id(required=True)
    role = role(required=True)
    charter_version = Integer(required=True, validate=validate.Range(min=1))
    commitments = fields.List(
        fields.String(validate=validate.Regexp(charter.COMMITMENT_ID_PATTERN)),
        required=True,
        validate=validate.Length(min=1),
    )
    accepted_at = Timestamp(required=True)

    @validates_schema
    def _commitments_of_the_role(self, data: dict[str, Any], **kwargs: Any) -> None:
        role_ = data.get("role")
        foreign = [c for c in data.get("commitments", []) if not c.startswith(f"{role_}.")]
        if role_ and foreign:
            raise ValidationError(
                f"Commitments of another role than {role_}: {', '.join(foreign)}.",
                field_name="commitments",
            )


@event(CONTEXT, "PersonalDataErased", version=1)
class PersonalDataErasedV1(EventData):
    """The member's key was destroyed: every sealed value under ``key_id`` is
    unreadable from now on (crypto-shredding; events are never rewritten).
    The identity fingerprint is kept for R2. Subject: member id."""

    member_id = Id(required=True)
    key_id = fields.String(required=True, validate=validate.Regexp(rf"^{sealed.KEY_ID_PATTERN}$"))
    requested_by = choice(ERASURE_REQUESTERS, required=True)
    erased_at = Timestamp(required=True)
