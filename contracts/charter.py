"""The charter's numbers and vocabularies, in one place for schemas and services.

Rule ids refer to /work/shared/CHARTER-RULES.md (the French charter is the source).
"""

from __future__ import annotations

#: R3: the two roles, each with its own commitments.
ROLES: tuple[str, ...] = ("mentor", "mentee")

#: R3: stable commitment ids of the first charter version, per role. A later
#: charter version publishes its own list (``CharterPublished``); these ids are
#: what the seed version contains.
COMMITMENTS: dict[str, tuple[str, ...]] = {
    "mentor": (
        "mentor.commitment",
        "mentor.confidentiality",
        "mentor.co_responsibility",
        "mentor.honesty_respect",
        "mentor.openness",
        "mentor.authentic_sharing",
        "mentor.constructive_feedback",
        "mentor.respect_personality",
        "mentor.patience",
        "mentor.self_questioning",
        "mentor.no_solicitation",
    ),
    "mentee": (
        "mentee.confidentiality",
        "mentee.commitment",
        "mentee.co_responsibility",
        "mentee.respect_honesty",
        "mentee.openness",
        "mentee.receive_feedback",
        "mentee.reflection",
        "mentee.no_solicitation",
    ),
}

#: R3: the shape of a commitment id: ``<role>.<snake_case>``.
COMMITMENT_ID_PATTERN = r"^(mentor|mentee)\.[a-z][a-z0-9_]{0,62}$"

#: R5: "at least one meeting every month to month and a half".
MAX_MEETING_INTERVAL_DAYS = 45

#: R6: "a session lasts between one and two hours".
SESSION_MIN_MINUTES = 60
SESSION_MAX_MINUTES = 120

#: R6: "remote or in person".
MODALITIES: tuple[str, ...] = ("remote", "in_person")

#: R10: the states of an action item.
ACTION_ITEM_STATES: tuple[str, ...] = ("open", "done", "dropped")

#: Why a pair ended. ``counterpart_excluded``: the other member was excluded (R2).
PAIR_END_REASONS: tuple[str, ...] = ("completed", "withdrawn", "counterpart_excluded")

#: R2: the one reason a profile is flagged: commercial solicitation (R1).
PROFILE_FLAGS: tuple[str, ...] = ("commercial_solicitation",)
