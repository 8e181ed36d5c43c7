"""The pair aggregate: one stream per pair (stream id = pair id), opened from
matching's ``PairFormed`` and closed by ``PairEnded`` or ``MemberExcluded``.

How a stream starts: when the service consumes ``PairFormed`` it calls
``Pair.open(...)``, which records ``PairOpened`` (both members, both
organisations, formation time) as the stream's first event. From then on the
stream alone rebuilds the pair (``Pair.replay(pair_id, history)``): no other
context's events are needed. If the stream already exists the ``PairFormed``
was already consumed; the service skips it (``Pair.exists``).

Reactions (the service calls them from its consumers):

- ``on_pair_ended``: matching ended the pair (R9: either member, or the
  platform when the counterpart was excluded);
- ``on_member_excluded``: moderation excluded one of its members (R2); the
  service calls it on every pair of that member.

Both record ``PairClosed`` and cancel every session still scheduled (neither
held nor cancelled), reason ``pair_ended`` or ``member_excluded``: a closed
pair can no longer hold or record them. Held and already-cancelled sessions
are history and stay as they are. Both are idempotent: a pair already closed
records nothing (both events may arrive for one exclusion).
"""

from __future__ import annotations

from datetime import datetime

from contracts import charter
from services.servicekit.errors import Conflict, Invalid
from services.sessions.domain.cadence import CadenceMixin
from services.sessions.domain.checks import aware, canonical_id, iso
from services.sessions.domain.notes import NotesMixin
from services.sessions.domain.objectives import ObjectivesMixin
from services.sessions.domain.reports import ReportsMixin


class Pair(CadenceMixin, ObjectivesMixin, NotesMixin, ReportsMixin):
    """Everything a pair does in the sessions context; see each mixin's module."""

    @classmethod
    def open(cls, pair_id: str, mentor_id: str, mentee_id: str,
             mentor_organisation_id: str, mentee_organisation_id: str,
             formed_at: datetime) -> Pair:
        """The pair's stream starts (from ``PairFormed``, with each member's
        organisation, which the service knows from identity's members)."""
        pair = cls(canonical_id(pair_id, "pair_id"))
        mentor = canonical_id(mentor_id, "mentor_id")
        mentee = canonical_id(mentee_id, "mentee_id")
        if mentor == mentee:
            raise Invalid("The mentee cannot be her own mentor.", field="mentee_id")
        pair.record("PairOpened", {
            "pair_id": pair.id, "mentor_id": mentor, "mentee_id": mentee,
            "mentor_organisation_id": canonical_id(mentor_organisation_id,
                                                   "mentor_organisation_id"),
            "mentee_organisation_id": canonical_id(mentee_organisation_id,
                                                   "mentee_organisation_id"),
            "formed_at": iso(aware(formed_at, "formed_at")),
        })
        return pair

    def on_pair_ended(self, reason: str, ended_by: str | None, ended_at: datetime) -> bool:
        """Matching's ``PairEnded``: close, cancel what is still scheduled.
        Returns False (and records nothing) if the pair was already closed."""
        self._require_opened()
        if self.closed:
            return False
        if reason not in charter.PAIR_END_REASONS:
            raise Invalid(f"reason must be one of {', '.join(charter.PAIR_END_REASONS)}.",
                          field="reason")
        by = None if ended_by is None else canonical_id(ended_by, "ended_by")
        if (reason == "counterpart_excluded") != (by is None):
            raise Invalid("ended_by is null exactly when the counterpart was excluded.",
                          field="ended_by")
        if by is not None and by not in self.members:
            raise Invalid("ended_by is a member of the pair.", field="ended_by")
        self._close("pair_ended", aware(ended_at, "ended_at"), end_reason=reason, ended_by=by)
        return True

    def on_member_excluded(self, member_id: str, excluded_at: datetime) -> bool:
        """Moderation's ``MemberExcluded`` (R2), for a pair of that member: close,
        cancel what is still scheduled. False if already closed."""
        self._require_opened()
        member = canonical_id(member_id, "member_id")
        if member not in self.members:
            raise Invalid("The excluded member is not in this pair.", field="member_id")
        if self.closed:
            return False
        self._close("member_excluded", aware(excluded_at, "excluded_at"),
                    excluded_member_id=member)
        return True

    def _close(self, cause: str, at: datetime, end_reason: str | None = None,
               ended_by: str | None = None, excluded_member_id: str | None = None) -> None:
        if self.closed:  # guarded by both callers; kept so _close alone is safe
            raise Conflict("This pair is already closed.", field="pair_id")
        # Cancel first, while the pair is open: the cancellations are the
        # consequence of the closing that immediately follows them.
        for session in self.pending_sessions:
            self._cancel(session, None, cause, at)
        self.record("PairClosed", {
            "pair_id": self.id, "cause": cause, "end_reason": end_reason,
            "ended_by": ended_by, "excluded_member_id": excluded_member_id,
            "closed_at": iso(at),
        })
