"""As of a moment: a case, and the reported member's pairs and sessions, as they
stood then, for a dispute ("was she still paired with the reporter when the
case was opened?").

A pure fold over the events recorded at or before the moment (``recorded_at
<= moment``: what the platform knew then, not what it learnt later about then).
Pairs and sessions are states, never content (R8): no note, objective,
feedback or report text is read, and only the member's own pairs are kept.

The other contexts' events come as plain dicts, as the service keeps them
(from Kafka or a rebuild): ``{"name": ..., "recorded_at": datetime or ISO text,
"data": {...}}``, data upcast to the latest version (as ``DomainEvent.data``
is), in log order per pair (events recorded at the same instant keep the
order given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.eventcore.events import RecordedEvent
from services.moderation.domain.case import Case, CaseSnapshot
from services.moderation.domain.moments import parse, require_aware


def case_as_of(case_id: str, history: Iterable[RecordedEvent],
               moment: datetime) -> CaseSnapshot | None:
    """The case as its events up to ``moment`` leave it; ``None`` if not yet opened."""
    require_aware(moment, "moment")
    known = [e for e in history if e.stream_id == case_id and e.recorded_at <= moment]
    if not known:
        return None
    return Case.replay(case_id, sorted(known, key=lambda e: e.stream_version)).snapshot()


@dataclass(frozen=True)
class PairState:
    pair_id: str
    mentor_id: str
    mentee_id: str
    #: proposed, declined, expired, formed, ended.
    state: str
    accepted_by: tuple[str, ...] = ()
    interval_days: int | None = None  # R5: the agreed meeting plan
    overdue: bool = False  # R7
    end_reason: str | None = None
    since: str = ""  # when the state last changed (recorded_at, ISO)


@dataclass(frozen=True)
class SessionState:
    session_id: str
    pair_id: str
    #: scheduled, held, cancelled.
    state: str
    at: str  # when it starts (scheduled) or started (held)
    modality: str | None = None
    minutes: int | None = None
    confirmed: bool = False  # R9: the other member confirmed it
    cancel_reason: str | None = None


@dataclass(frozen=True)
class MemberActivity:
    member_id: str
    moment: datetime
    pairs: tuple[PairState, ...]  # in the order they first appeared
    sessions: tuple[SessionState, ...]

    def pair(self, pair_id: str) -> PairState | None:
        return next((p for p in self.pairs if p.pair_id == pair_id), None)

    def session(self, session_id: str) -> SessionState | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)


class _Fold:
    """The member's pairs and sessions, one event at a time."""

    def __init__(self, member_id: str) -> None:
        self.member_id = member_id
        self.pairs: dict[str, PairState] = {}
        self.sessions: dict[str, SessionState] = {}

    def apply(self, name: str, data: Mapping[str, Any], at: str) -> None:
        handler = _HANDLERS.get(name)
        if handler is None:
            return  # content (notes, objectives, feedback...) or another context's matter
        if name in _PAIR_STARTS or data.get("pair_id") in self.pairs:
            handler(self, data, at)  # only her pairs, and their sessions

    def _pair(self, pair_id: str, at: str, **changes: Any) -> None:
        self.pairs[pair_id] = replace(self.pairs[pair_id], since=at, **changes)

    def _session(self, session_id: str, **changes: Any) -> None:
        if session_id in self.sessions:
            self.sessions[session_id] = replace(self.sessions[session_id], **changes)

    # -- matching -------------------------------------------------------------------

    def _on_match_proposed(self, d: Mapping[str, Any], at: str) -> None:
        if self.member_id in (d["mentor_id"], d["mentee_id"]):
            self.pairs[d["pair_id"]] = PairState(d["pair_id"], d["mentor_id"], d["mentee_id"],
                                                 "proposed", since=at)

    def _on_match_accepted(self, d: Mapping[str, Any], at: str) -> None:
        pair = self.pairs[d["pair_id"]]
        self._pair(pair.pair_id, at, accepted_by=(*pair.accepted_by, d["member_id"]))

    def _on_match_declined(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], at, state="declined")

    def _on_match_expired(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], at, state="expired")

    def _on_pair_formed(self, d: Mapping[str, Any], at: str) -> None:
        if self.member_id not in (d["mentor_id"], d["mentee_id"]):
            return
        known = self.pairs.get(d["pair_id"])
        if known is None:
            self.pairs[d["pair_id"]] = PairState(d["pair_id"], d["mentor_id"], d["mentee_id"],
                                                 "formed", since=at)
        else:
            self._pair(known.pair_id, at, state="formed")

    def _on_pair_ended(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], at, state="ended", end_reason=d["reason"])

    # -- sessions -------------------------------------------------------------------

    def _on_meeting_plan_recorded(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], self.pairs[d["pair_id"]].since,
                   interval_days=d["interval_days"])

    def _on_pair_became_overdue(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], self.pairs[d["pair_id"]].since, overdue=True)

    def _on_pair_cadence_restored(self, d: Mapping[str, Any], at: str) -> None:
        self._pair(d["pair_id"], self.pairs[d["pair_id"]].since, overdue=False)

    def _on_session_scheduled(self, d: Mapping[str, Any], at: str) -> None:
        self.sessions[d["session_id"]] = SessionState(
            d["session_id"], d["pair_id"], "scheduled", d["starts_at"], d["modality"],
            d["planned_minutes"])

    def _on_session_held(self, d: Mapping[str, Any], at: str) -> None:
        held = SessionState(d["session_id"], d["pair_id"], "held", d["started_at"],
                            d.get("modality"), d.get("duration_minutes"))
        known = self.sessions.get(d["session_id"])
        self.sessions[d["session_id"]] = held if known is None else replace(
            held, confirmed=known.confirmed)

    def _on_session_confirmed(self, d: Mapping[str, Any], at: str) -> None:
        self._session(d["session_id"], confirmed=True)

    def _on_session_cancelled(self, d: Mapping[str, Any], at: str) -> None:
        self._session(d["session_id"], state="cancelled", cancel_reason=d["reason"])


#: The events that say something about a pair's or a session's state.
_HANDLERS = {
    "MatchProposed": _Fold._on_match_proposed,
    "MatchAccepted": _Fold._on_match_accepted,
    "MatchDeclined": _Fold._on_match_declined,
    "MatchExpired": _Fold._on_match_expired,
    "PairFormed": _Fold._on_pair_formed,
    "PairEnded": _Fold._on_pair_ended,
    "MeetingPlanRecorded": _Fold._on_meeting_plan_recorded,
    "PairBecameOverdue": _Fold._on_pair_became_overdue,
    "PairCadenceRestored": _Fold._on_pair_cadence_restored,
    "SessionScheduled": _Fold._on_session_scheduled,
    "SessionHeld": _Fold._on_session_held,
    "SessionConfirmed": _Fold._on_session_confirmed,
    "SessionCancelled": _Fold._on_session_cancelled,
}

#: The events that bring one of her pairs to light (they name both members).
_PAIR_STARTS = frozenset({"MatchProposed", "PairFormed"})


def member_as_of(member_id: str, events: Iterable[Mapping[str, Any]],
                 moment: datetime) -> MemberActivity:
    """Her pairs and sessions as the events recorded up to ``moment`` leave them."""
    require_aware(moment, "moment")
    timed = [(parse(e["recorded_at"], "recorded_at"), i, e) for i, e in enumerate(events)]
    fold = _Fold(member_id)
    for recorded_at, _, event in sorted(timed, key=lambda t: (t[0], t[1])):
        if recorded_at <= moment:
            fold.apply(event["name"], event["data"], recorded_at.isoformat())
    return MemberActivity(member_id, moment, tuple(fold.pairs.values()),
                          tuple(fold.sessions.values()))
