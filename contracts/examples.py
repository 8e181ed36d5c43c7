"""One valid example of every event version, in JSON form, deterministic.

Used by the tests (each schema is exercised from its example), by the
generated AsyncAPI document, and by services' tests that need a realistic
event. The ids are fixed (uuid5) so the generated documents do not change
from one run to the next.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from typing import Any

from contracts import catalogue, charter, sealed
from contracts.envelope import CloudEvent

_NAMESPACE = uuid.UUID("6f0a3f5e-2f4b-4c59-9a43-3c1d8e1b7a10")


def example_id(label: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, label))


def sealed_example(key_id: str, label: str) -> str:
    """A value in the sealed format (the payload is not real ciphertext: the
    catalogue only checks the shape; services encrypt for real)."""
    return sealed.seal_format(key_id, hashlib.sha256(label.encode()).digest() + bytes(12))


ORG = example_id("organisation")
MENTOR = example_id("mentor")
MENTEE = example_id("mentee")
PAIR = example_id("pair")
SESSION = example_id("session")
OBJECTIVE = example_id("objective")
CASE = example_id("case")
REPORT = example_id("report")
MODERATOR = example_id("moderator")
FINGERPRINT = "fp:v1:platform-1:" + hashlib.sha256(b"mentor@example.org").hexdigest()
AT = "2025-03-04T10:00:00+00:00"
PAIR_KEY = f"pair-{PAIR}"
MODERATORS_KEY = "moderators-1"

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    # -- identity ------------------------------------------------------------
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
    # -- matching ------------------------------------------------------------
    ("MatchProposed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "score": 0.82,
        "proposed_at": AT,
        "expires_at": "2025-03-11T10:00:00+00:00",
    },
    ("MatchAccepted", 1): {"pair_id": PAIR, "member_id": MENTEE, "accepted_at": AT},
    ("MatchDeclined", 1): {
        "pair_id": PAIR,
        "member_id": MENTOR,
        "reason": "unavailable",
        "declined_at": AT,
    },
    ("MatchExpired", 1): {"pair_id": PAIR, "expired_at": AT},
    ("PairFormed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "formed_at": AT,
    },
    ("PairEnded", 1): {
        "pair_id": PAIR,
        "reason": "completed",
        "ended_by": MENTEE,
        "ended_at": AT,
    },
    # -- sessions ------------------------------------------------------------
    ("MeetingPlanRecorded", 1): {
        "pair_id": PAIR,
        "interval_days": 30,
        "preferred_modality": "remote",
        "first_meeting_on": "2025-03-04",
        "recorded_by": MENTEE,
        "recorded_at": AT,
    },
    ("SessionScheduled", 1): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "starts_at": "2025-04-01T17:30:00+02:00",
        "planned_minutes": 90,
        "modality": "in_person",
        "scheduled_by": MENTOR,
    },
    ("SessionHeld", 1): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "started_at": AT,
        "duration_hours": 1.5,
        "mode": "online",
        "recorded_by": MENTOR,
    },
    ("SessionHeld", 2): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "started_at": AT,
        "duration_minutes": 90,
        "modality": "remote",
        "held_by": MENTOR,
    },
    ("SessionConfirmed", 1): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "confirmed_by": MENTEE,
        "confirmed_at": AT,
    },
    ("SessionCancelled", 1): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "cancelled_by": MENTEE,
        "reason": "rescheduled",
        "cancelled_at": AT,
    },
    ("PairBecameOverdue", 1): {
        "pair_id": PAIR,
        "interval_days": 30,
        "last_session_at": AT,
        "due_on": "2025-04-03",
        "detected_at": "2025-04-04T00:00:00+00:00",
    },
    ("PairCadenceRestored", 1): {
        "pair_id": PAIR,
        "session_id": example_id("session-2"),
        "overdue_days": 6,
        "restored_at": "2025-04-09T18:00:00+00:00",
    },
    ("ObjectiveStated", 1): {
        "pair_id": PAIR,
        "objective_id": OBJECTIVE,
        "mentee_id": MENTEE,
        "text": sealed_example(PAIR_KEY, "Move into data engineering within a year"),
        "stated_at": AT,
    },
    ("ObjectiveRevised", 1): {
        "pair_id": PAIR,
        "objective_id": OBJECTIVE,
        "mentee_id": MENTEE,
        "revision": 2,
        "text": sealed_example(PAIR_KEY, "Move into data engineering within 18 months"),
        "revised_at": AT,
    },
    ("ObjectiveCommented", 1): {
        "pair_id": PAIR,
        "objective_id": OBJECTIVE,
        "comment_id": example_id("comment"),
        "author_id": MENTOR,
        "text": sealed_example(PAIR_KEY, "Start with SQL"),
        "commented_at": AT,
    },
    ("ActionItemAdded", 1): {
        "pair_id": PAIR,
        "objective_id": OBJECTIVE,
        "action_item_id": example_id("action-item"),
        "owner_id": MENTEE,
        "added_by": MENTOR,
        "text": sealed_example(PAIR_KEY, "Finish the SQL course"),
        "due_on": "2025-05-01",
        "added_at": AT,
    },
    ("ActionItemStateChanged", 1): {
        "pair_id": PAIR,
        "objective_id": OBJECTIVE,
        "action_item_id": example_id("action-item"),
        "previous_state": "open",
        "state": "done",
        "changed_by": MENTEE,
        "changed_at": AT,
    },
    ("NoteAdded", 1): {
        "pair_id": PAIR,
        "note_id": example_id("note"),
        "session_id": SESSION,
        "author_id": MENTEE,
        "text": sealed_example(PAIR_KEY, "Talked about interviews"),
        "added_at": AT,
    },
    ("FeedbackGiven", 1): {
        "pair_id": PAIR,
        "session_id": SESSION,
        "feedback_id": example_id("feedback"),
        "from_member_id": MENTEE,
        "to_member_id": MENTOR,
        "text": sealed_example(PAIR_KEY, "Very helpful, thank you"),
        "given_at": AT,
    },
    ("CommercialSolicitationReported", 1): {
        "pair_id": PAIR,
        "report_id": REPORT,
        "reporter_id": MENTEE,
        "reported_member_id": MENTOR,
        "session_id": SESSION,
        "details": sealed_example(MODERATORS_KEY, "She offered paid coaching"),
        "reported_at": AT,
    },
    # -- moderation ----------------------------------------------------------
    ("CaseOpened", 1): {
        "case_id": CASE,
        "reported_member_id": MENTOR,
        "report_id": REPORT,
        "opened_at": AT,
    },
    ("ReportJoinedCase", 1): {
        "case_id": CASE,
        "report_id": example_id("report-2"),
        "reporter_id": example_id("another-mentee"),
        "joined_at": AT,
    },
    ("ExclusionConfirmed", 1): {
        "case_id": CASE,
        "moderator_id": MODERATOR,
        "rationale": sealed_example(MODERATORS_KEY, "Screenshots of a paid offer"),
        "confirmed_at": AT,
    },
    ("CaseDismissed", 1): {
        "case_id": CASE,
        "moderator_id": MODERATOR,
        "reason": "not_commercial",
        "rationale": sealed_example(MODERATORS_KEY, "A free book recommendation"),
        "dismissed_at": AT,
    },
    ("MemberExcluded", 1): {
        "case_id": CASE,
        "member_id": MENTOR,
        "identity_fingerprint": FINGERPRINT,
        "permanent": True,
        "excluded_at": AT,
    },
    ("ProfileFlagged", 1): {
        "case_id": CASE,
        "member_id": MENTOR,
        "identity_fingerprint": FINGERPRINT,
        "flag": "commercial_solicitation",
        "flagged_at": AT,
    },
}

#: Which data field holds the aggregate id (the subject, the Kafka key),
#: first match wins: a member's events before her organisation's.
_AGGREGATE_FIELDS = ("case_id", "pair_id", "member_id", "charter_id", "organisation_id")

#: Platform-level events carry no partner organisation.
PLATFORM_LEVEL = frozenset({"CharterPublished"})


def example(name: str, version: int) -> dict[str, Any]:
    """A fresh copy of the example data of ``name`` v``version``."""
    return copy.deepcopy(EXAMPLES[(name, version)])


def example_event(name: str, version: int, aggregate_version: int = 1) -> CloudEvent:
    """The example data in its envelope, as it would be on Kafka."""
    data = example(name, version)
    subject = next(data[f] for f in _AGGREGATE_FIELDS if f in data)
    return CloudEvent.new(
        context=catalogue.context_of(name),
        name=name,
        version=version,
        subject=subject,
        data=data,
        aggregate_version=aggregate_version,
        partner_org=None if name in PLATFORM_LEVEL else ORG,
        event_id=example_id(f"event {name} v{version}"),
        time="2025-03-04T10:00:00.000123Z",
    )
