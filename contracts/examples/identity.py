"""Examples of the identity context's events (see ``contracts.examples``)."""

from __future__ import annotations

import hashlib
from typing import Any

from contracts import charter
from contracts.examples.base import AT, FINGERPRINT, MENTEE, MENTOR, ORG, example_id, sealed_example

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    ("OrganisationRegistered", 1): {
        "organisation_id": ORG,
        "name": sealed_example(f"org-{ORG}", "Elles Codent"),
        "kind": "association",
        "contact_email": sealed_example(f"org-{ORG}", "contact@example.org"),
        "registered_at": AT,
    },
    ("ApiKeyIssued", 1): {
        "organisation_id": ORG,
        "key_id": example_id("api-key"),
        "prefix": "mk7Q2xPa",
        "secret_sha256": hashlib.sha256(b"the secret").hexdigest(),
        "issued_at": AT,
        "expires_at": "2026-03-04T10:00:00+00:00",
    },
    ("ApiKeyRevoked", 1): {
        "organisation_id": ORG,
        "key_id": example_id("api-key"),
        "reason": "rotated",
        "revoked_at": AT,
    },
    ("MemberRegistered", 1): {
        "member_id": MENTOR,
        "organisation_id": ORG,
        "role": "mentor",
        "identity_fingerprint": FINGERPRINT,
        "display_name": sealed_example(f"member-{MENTOR}", "Ada"),
        "email": sealed_example(f"member-{MENTOR}", "mentor@example.org"),
        "languages": ["fr", "en"],
        "topics": ["software", "career-change"],
        "registered_at": AT,
    },
    ("MemberProfileUpdated", 1): {
        "member_id": MENTOR,
        "bio": sealed_example(f"member-{MENTOR}", "Engineer, 20 years"),
        "topics": ["software", "leadership"],
        "updated_at": AT,
    },
    ("MemberRegistered", 2): {
        "member_id": MENTOR,
        "organisation_id": ORG,
        "role": "mentor",
        "identity_fingerprint": FINGERPRINT,
        "display_name": sealed_example(f"member-{MENTOR}", "Ada"),
        "email": sealed_example(f"member-{MENTOR}", "mentor@example.org"),
        "expectations": None,
        "bio": sealed_example(f"member-{MENTOR}", "Engineer, 20 years"),
        "languages": ["fr", "en"],
        "topics": ["software", "career-change"],
        "preferred_modality": "either",
        "region": "fr-idf",
        "capacity": 2,
        "registered_at": AT,
    },
    ("MemberProfileUpdated", 2): {
        "member_id": MENTOR,
        "topics": ["software", "leadership"],
        "preferred_modality": "in_person",
        "region": "fr-69",
        "capacity": 3,
        "updated_at": AT,
    },
    ("OrganisationPolicyChanged", 1): {
        "organisation_id": ORG,
        "matching_scope": "open",
        "changed_at": AT,
    },
    ("CharterPublished", 1): {
        "charter_id": example_id("charter"),
        "charter_version": 1,
        "text_sha256": hashlib.sha256(b"charte").hexdigest(),
        "mentor_commitments": list(charter.COMMITMENTS["mentor"]),
        "mentee_commitments": list(charter.COMMITMENTS["mentee"]),
        "published_at": AT,
    },
    ("CharterAccepted", 1): {
        "member_id": MENTEE,
        "role": "mentee",
        "charter_version": 1,
        "commitments": list(charter.COMMITMENTS["mentee"]),
        "accepted_at": AT,
    },
    ("PersonalDataErased", 1): {
        "member_id": MENTEE,
        "key_id": f"member-{MENTEE}",
        "requested_by": "member",
        "erased_at": AT,
    },
}
