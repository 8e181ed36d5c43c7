"""The pair as the sessions context knows it: its two members, their
organisations, and whether it still takes commands.

One aggregate per pair; stream id = pair id (the subject of every sessions
event). The stream starts with ``PairOpened`` (recorded when matching's
``PairFormed`` is consumed, see ``pair.Pair.open``) and stops taking commands
at ``PairClosed``. Every idea of the context (plan, sessions, cadence,
objectives, notes, reports) is a mixin on this base, composed in ``pair.Pair``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.eventcore.aggregate import Aggregate
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.domain.checks import canonical_id, moment_of


def no_such_pair() -> NotFound:
    """What a caller gets for a pair that does not exist *or* that she is not in
    (R8, R9): the two must be indistinguishable, or pair ids would leak. The
    service raises this same error for a missing stream."""
    return NotFound("No such pair.", field="pair_id")


class PairBase(Aggregate):
    kind = "pair"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        #: Set by ``PairOpened``, whether saved yet or not (``exists`` needs the
        #: unit of work to have set ``version``; the rules only need the event).
        self.opened = False
        self.mentor_id = ""
        self.mentee_id = ""
        self.mentor_organisation_id = ""
        self.mentee_organisation_id = ""
        self.formed_at: datetime | None = None
        self.closed = False
        #: ``pair_ended`` or ``member_excluded`` once closed.
        self.close_cause: str | None = None
        self.closed_at: datetime | None = None

    # -- who is in the pair ----------------------------------------------------------

    @property
    def members(self) -> tuple[str, str]:
        return (self.mentor_id, self.mentee_id)

    @property
    def organisation_ids(self) -> frozenset[str]:
        """One organisation, or two when the members come from different ones:
        the pair counts for each (programme report, R7's per-organisation view)."""
        return frozenset({self.mentor_organisation_id, self.mentee_organisation_id})

    def is_member(self, member_id: str) -> bool:
        return self.opened and member_id in self.members

    def other(self, member_id: str) -> str:
        """The other member of the pair (R9: the relationship is symmetric)."""
        return self.mentee_id if member_id == self.mentor_id else self.mentor_id

    # -- guards every command goes through --------------------------------------------

    def _require_opened(self) -> None:
        if not self.opened:
            raise no_such_pair()

    def _member(self, by: object) -> str:
        """R9: only the two members act on their pair, and each may do what the
        other may (unless a rule names a role, e.g. R4). Anyone else gets what a
        missing pair gets."""
        self._require_opened()
        try:
            member_id = canonical_id(by, "by")
        except Invalid:
            raise no_such_pair() from None
        if member_id not in self.members:
            raise no_such_pair()
        return member_id

    def _require_open(self) -> None:
        if self.closed:
            raise Conflict(
                f"This pair is closed ({self.close_cause}): it takes no more commands.",
                field="pair_id",
            )

    def _acting(self, by: object) -> str:
        """The member acting on an open pair (checked in that order: an outsider
        learns nothing, not even that the pair is closed)."""
        member_id = self._member(by)
        self._require_open()
        return member_id

    def _mentee(self, by: object, rule: str, field: str, what: str) -> str:
        """A command only the mentee may give (R4: her objectives; R10: her items)."""
        member_id = self._acting(by)
        if member_id != self.mentee_id:
            raise RuleViolation(rule, f"Only the mentee {what} ({rule}).", field=field)
        return member_id

    # -- apply -------------------------------------------------------------------------

    def when_pair_opened(self, data: dict[str, Any]) -> None:
        self.opened = True
        self.mentor_id = data["mentor_id"]
        self.mentee_id = data["mentee_id"]
        self.mentor_organisation_id = data["mentor_organisation_id"]
        self.mentee_organisation_id = data["mentee_organisation_id"]
        self.formed_at = moment_of(data["formed_at"])
        # The CloudEvents ``partnerorg`` of the stream: the mentee's organisation
        # (the programme is hers); both organisations are in the events' data.
        self.partner_org = data["mentee_organisation_id"]

    def when_pair_closed(self, data: dict[str, Any]) -> None:
        self.closed = True
        self.close_cause = data["cause"]
        self.closed_at = moment_of(data["closed_at"])
