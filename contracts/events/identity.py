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
from contracts.registry import event, upcaster

CONTEXT = "identity"

ORGANISATION_KINDS = ("company", "association", "school", "other")
API_KEY_REVOCATION_REASONS = (
    "rotated", "compromised", "organisation_request", "organisation_closed",
)
ERASURE_REQUESTERS = ("member", "organisation", "platform")

#: ISO 639-1 codes: matching pairs members who share a language.
LANGUAGE_PATTERN = r"^[a-z]{2}$"

#: Where a member meets in person: an ISO 3166-2 subdivision, lower case ("fr-idf",
#: "fr-69", "be-bru"): a vocabulary, not an address (R8).
REGION_PATTERN = r"^[a-z]{2}-[a-z0-9]{1,3}$"

#: How a member prefers to meet (R6's modalities, or either).
PREFERRED_MODALITIES = ("remote", "in_person", "either")

#: R9/R4: how many mentees a mentor takes on at once.
MAX_MENTOR_CAPACITY = 10

#: Whose mentors an organisation's mentees may be matched with: its own only, or
#: also those of other organisations that opened theirs (and it opens its own).
MATCHING_SCOPES = ("own", "open")


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


class _Profile(EventData):
    """What matching scores on: vocabularies, never free text (R8)."""

    languages = _languages(required=True)
    #: A mentor's areas of expertise; a mentee's needs (slugs of one vocabulary,
    #: so that a need meets an expertise by name).
    topics = _topics(required=True)
    preferred_modality = choice(PREFERRED_MODALITIES, required=True)
    region = fields.String(required=True, allow_none=True,
                           validate=validate.Regexp(REGION_PATTERN))
    #: Mentors only: mentees at once (1..10). Null for a mentee.
    capacity = Integer(required=True, allow_none=True,
                       validate=validate.Range(min=1, max=MAX_MENTOR_CAPACITY))

    @validates_schema
    def _capacity_of_the_role(self, data: dict[str, Any], **kwargs: Any) -> None:
        role_ = data.get("role")
        if role_ == "mentor" and data.get("capacity") is None:
            raise ValidationError("A mentor states how many mentees she takes on.",
                                  field_name="capacity")
        if role_ == "mentee" and data.get("capacity") is not None:
            raise ValidationError("Only a mentor has a capacity.", field_name="capacity")
        if data.get("preferred_modality") == "in_person" and data.get("region") is None:
            raise ValidationError("Meeting in person needs a region.", field_name="region")


@event(CONTEXT, "MemberRegistered", version=2)
class MemberRegisteredV2(_Profile):
    """A mentor or mentee registered through her organisation, with what matching
    needs. Subject: member id. A person who is both registers twice, once per
    role, under the same fingerprint (so an exclusion bars both, R2).

    ``expectations`` (a mentee's own words, R4) is sealed under the member's key.
    """

    member_id = Id(required=True)
    organisation_id = Id(required=True)
    role = role(required=True)
    identity_fingerprint = Fingerprint(required=True)
    display_name = Ciphertext(required=True)
    email = Ciphertext(required=True)
    expectations = Ciphertext(required=True, allow_none=True)
    bio = Ciphertext(required=True, allow_none=True)
    registered_at = Timestamp(required=True)


@upcaster("MemberRegistered", from_version=1)
def member_registered_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 knew languages and topics only: such a member is open to either modality,
    has no region, stated no expectations, and (a mentor) takes one mentee."""
    upcast = dict(data)
    upcast.setdefault("topics", [])
    upcast["preferred_modality"] = "either"
    upcast["region"] = None
    upcast["capacity"] = 1 if data["role"] == "mentor" else None
    upcast["expectations"] = None
    upcast["bio"] = None
    return upcast


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


@event(CONTEXT, "MemberProfileUpdated", version=2)
class MemberProfileUpdatedV2(EventData):
    """The changed parts of a profile, at least one. Subject: member id.
    ``region``, ``capacity`` and ``expectations`` may be set to null."""

    member_id = Id(required=True)
    display_name = Ciphertext()
    email = Ciphertext()
    bio = Ciphertext()
    expectations = Ciphertext(allow_none=True)
    languages = _languages()
    topics = _topics()
    preferred_modality = choice(PREFERRED_MODALITIES)
    region = fields.String(allow_none=True, validate=validate.Regexp(REGION_PATTERN))
    capacity = Integer(allow_none=True, validate=validate.Range(min=1, max=MAX_MENTOR_CAPACITY))
    updated_at = Timestamp(required=True)

    @validates_schema
    def _something_changed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not set(data) - {"member_id", "updated_at"}:
            raise ValidationError("At least one profile field must change.")


@upcaster("MemberProfileUpdated", from_version=1)
def member_profile_updated_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 only adds optional fields: a v1 change reads as the same change."""
    return dict(data)


@event(CONTEXT, "OrganisationPolicyChanged", version=1)
class OrganisationPolicyChangedV1(EventData):
    """An organisation's matching scope (``own``: its members among themselves;
    ``open``: also with members of other organisations that are open). A new
    organisation is ``own`` until it says otherwise. Subject: organisation id."""

    organisation_id = Id(required=True)
    matching_scope = choice(MATCHING_SCOPES, required=True)
    changed_at = Timestamp(required=True)


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
