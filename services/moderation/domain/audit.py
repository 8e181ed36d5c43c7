"""The audit trail of a case: who did what, when and why, read from its events.

Every event of a case stream becomes one entry, in stream order: the reports
(by their reporters), each moderator's vote or dismissal with its reason code,
the confirmation with the concurring moderators and the quorum in force, and
the platform's own consequences (exclusion, flag). The rationale stays sealed
(R8): the entry carries the sealed text as stored, for the moderators' API to
open for moderators only. ``position`` and ``event_id`` tie each entry to the
hash-chained log (``chain``), so an entry can be proven against it.

An event the audit does not know is an error, not a silent gap: a new
moderation event must be given its entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.eventcore.events import RecordedEvent


class Action(StrEnum):
    CASE_OPENED = "case_opened"
    REPORT_JOINED = "report_joined"
    VOTED_TO_CONFIRM = "voted_to_confirm"
    CASE_CONFIRMED = "case_confirmed"
    CASE_DISMISSED = "case_dismissed"
    MEMBER_EXCLUDED = "member_excluded"
    PROFILE_FLAGGED = "profile_flagged"


class ActorRole(StrEnum):
    REPORTER = "reporter"
    MODERATOR = "moderator"
    PLATFORM = "platform"  # consequences the platform records, no person acting


@dataclass(frozen=True)
class AuditEntry:
    case_id: str
    stream_version: int
    position: int
    event_id: str
    action: Action
    actor_role: ActorRole
    #: The reporter, the moderator; ``None`` for the platform (or a v1 case's reporter).
    actor_id: str | None
    member_id: str | None  # the reported member, where the event names her
    #: When it happened as the command saw it; ``recorded_at`` is the store's.
    at: str
    recorded_at: datetime
    reason: str | None = None
    rationale: str | None = None  # sealed (R8), as stored
    report_id: str | None = None
    moderator_ids: tuple[str, ...] = ()  # a confirmation's concurring moderators
    quorum: int | None = None


_Fields = dict[str, Any]


def _opened(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.CASE_OPENED, actor_role=ActorRole.REPORTER,
                actor_id=d.get("reporter_id"), member_id=d["reported_member_id"],
                at=d["opened_at"], report_id=d["report_id"])


def _joined(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.REPORT_JOINED, actor_role=ActorRole.REPORTER,
                actor_id=d["reporter_id"], member_id=None, at=d["joined_at"],
                report_id=d["report_id"])


def _voted(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.VOTED_TO_CONFIRM, actor_role=ActorRole.MODERATOR,
                actor_id=d["moderator_id"], member_id=None, at=d["confirmed_at"],
                reason=d.get("reason"), rationale=d["rationale"])


def _confirmed(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.CASE_CONFIRMED, actor_role=ActorRole.MODERATOR,
                actor_id=d["moderator_ids"][-1], member_id=d["member_id"],
                at=d["confirmed_at"], reason=d["reason"],
                moderator_ids=tuple(d["moderator_ids"]), quorum=d["quorum"])


def _dismissed(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.CASE_DISMISSED, actor_role=ActorRole.MODERATOR,
                actor_id=d["moderator_id"], member_id=None, at=d["dismissed_at"],
                reason=d["reason"], rationale=d["rationale"],
                moderator_ids=(d["moderator_id"],))


def _excluded(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.MEMBER_EXCLUDED, actor_role=ActorRole.PLATFORM, actor_id=None,
                member_id=d["member_id"], at=d["excluded_at"])


def _flagged(d: Mapping[str, Any]) -> _Fields:
    return dict(action=Action.PROFILE_FLAGGED, actor_role=ActorRole.PLATFORM, actor_id=None,
                member_id=d["member_id"], at=d["flagged_at"], reason=d["flag"])


#: One entry maker per moderation event (every one: see the module docstring).
ENTRIES: dict[str, Callable[[Mapping[str, Any]], _Fields]] = {
    "CaseOpened": _opened,
    "ReportJoinedCase": _joined,
    "ExclusionConfirmed": _voted,
    "CaseConfirmed": _confirmed,
    "CaseDismissed": _dismissed,
    "MemberExcluded": _excluded,
    "ProfileFlagged": _flagged,
}


def entry(event: RecordedEvent) -> AuditEntry:
    """The audit entry of one stored moderation event (data upcast, as loaded)."""
    make = ENTRIES.get(event.name)
    if make is None:
        raise ValueError(f"no audit entry for {event.name}: give it one in audit.ENTRIES")
    return AuditEntry(case_id=event.stream_id, stream_version=event.stream_version,
                      position=event.position, event_id=str(event.event_id),
                      recorded_at=event.recorded_at, **make(event.data))


def audit_trail(history: Iterable[RecordedEvent]) -> list[AuditEntry]:
    """One case's trail, from its stream (``store.load(case_id)``), in order."""
    events = sorted(history, key=lambda e: e.stream_version)
    streams = {e.stream_id for e in events}
    if len(streams) > 1:
        raise ValueError(f"one case's events expected, got streams {sorted(streams)}")
    versions = [e.stream_version for e in events]
    if versions != list(range(1, len(versions) + 1)):
        # A trail with a hole would be a false account: say so, do not skip.
        raise ValueError(f"the case's events are not versions 1..{len(versions)}: {versions}")
    return [entry(e) for e in events]


def audit_trails(events: Iterable[RecordedEvent]) -> dict[str, list[AuditEntry]]:
    """Every case's trail, from the whole log (``store.read_all``), by case id."""
    by_case: dict[str, list[RecordedEvent]] = {}
    for event in events:
        by_case.setdefault(event.stream_id, []).append(event)
    return {case_id: audit_trail(history) for case_id, history in by_case.items()}
