"""Examples of the moderation context's events (see ``contracts.examples``)."""

from __future__ import annotations

from typing import Any

from contracts.examples.base import (
    AT,
    CASE,
    FINGERPRINT,
    MENTEE,
    MENTOR,
    MODERATOR,
    MODERATORS_KEY,
    REPORT,
    example_id,
    sealed_example,
)

SECOND_MODERATOR = example_id("second-moderator")

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    ("CaseOpened", 1): {
        "case_id": CASE,
        "reported_member_id": MENTOR,
        "report_id": REPORT,
        "opened_at": AT,
    },
    ("CaseOpened", 2): {
        "case_id": CASE,
        "reported_member_id": MENTOR,
        "report_id": REPORT,
        "reporter_id": MENTEE,
        "sequence": 1,
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
    ("ExclusionConfirmed", 2): {
        "case_id": CASE,
        "moderator_id": MODERATOR,
        "reason": "services_offered",
        "rationale": sealed_example(MODERATORS_KEY, "Screenshots of a paid coaching offer"),
        "confirmed_at": AT,
    },
    ("CaseConfirmed", 1): {
        "case_id": CASE,
        "member_id": MENTOR,
        "reason": "services_offered",
        "moderator_ids": [MODERATOR, SECOND_MODERATOR],
        "quorum": 2,
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
