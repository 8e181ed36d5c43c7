"""The life of a mentor-mentee pair, as an event-sourced aggregate.

Stream id = pair id (the subject of every matching event), given when the pair
is proposed, so the proposal and the pair it becomes are one stream::

    proposed ──both accepted──▶ formed ──end (R9: either member)──▶ ended
       │                                 └─member excluded (R2)──▶ ended
       ├─declined (R9: either member)──▶ declined
       ├─expired (no answer in time)──▶ expired
       └─withdrawn (by the member who had accepted, or her counterpart excluded)
                                       ──▶ withdrawn

A proposal comes from a mentee's request (``request``: she picked one of her
suggestions, so she has accepted already; the mentor answers) or from a cohort
(``propose_for_cohort``: both answer). ``proposed`` and ``formed`` are *open*:
they hold the mentee's one pair and one of the mentor's places
(``capacity.OPEN_STATES``); every other state is final and frees them.

What the aggregate cannot see (other pairs, the pool) the service passes in:
the mentee's open pairs and the mentor's load, counted under their locks
(``capacity``), and the members' ``Eligibility`` when one accepts. Eligibility
at proposal time is ``proposal.propose``'s check (a request) or the intake's
(``cohort.intake`` and a ``MentorIndex`` built from eligible mentors only).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from contracts.events.matching import DECLINE_REASONS
from services.eventcore.aggregate import Aggregate
from services.matching.domain.capacity import (
    OPEN_STATES,
    assert_capacity,
    assert_mentee_free,
)
from services.matching.domain.eligibility import INELIGIBILITY, Eligibility
from services.matching.domain.proposal import Proposal
from services.matching.domain.scoring import Unmatchable, exclusions
from services.servicekit.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation

__all__ = ["MEMBER_END_REASONS", "Pair"]

#: Why a member ends a formed pair herself (R9); ``counterpart_excluded`` is the
#: platform's (``close_for_exclusion``).
MEMBER_END_REASONS = ("completed", "withdrawn")


def _when(value: Any) -> datetime:
    """A timestamp from event data: ISO text as stored, or a datetime if loaded."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _aware(at: datetime, field: str = "at") -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise Invalid("A time must carry its time zone.", field=field)
    return at


class Pair(Aggregate):
    """A proposal and, once both accepted, the pair (see the module's doc)."""

    kind = "pair"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.state: str | None = None
        self.mentor_id = ""
        self.mentee_id = ""
        #: Each member's organisation, from the proposal's recorded inputs (None for a
        #: proposal made as v1, which recorded none); ``PairFormed`` v2 names both.
        self.mentor_organisation_id: str | None = None
        self.mentee_organisation_id: str | None = None
        self.source: str | None = None
        self.accepted: set[str] = set()
        self.expires_at: datetime | None = None
        self.end_reason: str | None = None

    # -- reading -------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Proposed or formed: it holds the mentee's one pair and a mentor's place."""
        return self.state in OPEN_STATES

    @property
    def members(self) -> tuple[str, str]:
        return (self.mentee_id, self.mentor_id)

    @property
    def organisations(self) -> frozenset[str]:
        """The organisations of its members (one, or two across open ones)."""
        return frozenset(o for o in (self.mentee_organisation_id, self.mentor_organisation_id)
                         if o is not None)

    def counterpart(self, member_id: str) -> str:
        self._member(member_id)
        return self.mentor_id if member_id == self.mentee_id else self.mentee_id

    def is_due(self, at: datetime) -> bool:
        """A pending proposal whose answer time is over."""
        return self.state == "proposed" and self.expires_at is not None and at >= self.expires_at

    # -- proposing -----------------------------------------------------------------------

    @classmethod
    def request(cls, pair_id: str, proposal: Proposal, *, at: datetime, expiry_days: int,
                mentee_open_pairs: int, mentor_load: int) -> Pair:
        """A mentee asks the mentor of one of her suggestions; asking is accepting
        on her side, so ``MatchAccepted`` (hers) follows ``MatchProposed`` at once.
        The mentor has ``expiry_days`` to answer."""
        pair = cls._propose(pair_id, proposal, source="request", cohort_id=None, at=at,
                            expiry_days=expiry_days, mentee_open_pairs=mentee_open_pairs,
                            mentor_load=mentor_load)
        pair.record("MatchAccepted", {"pair_id": pair_id, "member_id": pair.mentee_id,
                                      "accepted_at": at.isoformat()})
        return pair

    @classmethod
    def propose_for_cohort(cls, pair_id: str, proposal: Proposal, *, cohort_id: str,
                           at: datetime, expiry_days: int, mentee_open_pairs: int,
                           mentor_load: int) -> Pair:
        """A cohort assignment proposes the pair; both members must accept."""
        return cls._propose(pair_id, proposal, source="cohort", cohort_id=cohort_id, at=at,
                            expiry_days=expiry_days, mentee_open_pairs=mentee_open_pairs,
                            mentor_load=mentor_load)

    @classmethod
    def _propose(cls, pair_id: str, proposal: Proposal, *, source: str, cohort_id: str | None,
                 at: datetime, expiry_days: int, mentee_open_pairs: int,
                 mentor_load: int) -> Pair:
        _aware(at)
        if isinstance(expiry_days, bool) or not isinstance(expiry_days, int) or expiry_days < 1:
            raise Invalid("A proposal stays open at least one day.", field="expiry_days")
        # The hard constraints once more, on what is recorded (a proposal built by
        # hand cannot slip past them); capacity is checked on the load now, below.
        broken = tuple(r for r in exclusions(proposal.mentee, proposal.mentor)
                       if r != "no_free_capacity")
        if proposal.mentee.member_id == proposal.mentor.member_id:
            broken = ("same_person",)
        if broken:
            raise Unmatchable(broken)
        assert_mentee_free(mentee_open_pairs)
        assert_capacity(mentor_load, proposal.mentor.capacity)
        pair = cls(pair_id)
        pair.partner_org = proposal.mentee.organisation_id  # the pair is the mentee's tenant's
        pair.record("MatchProposed", {
            "pair_id": pair_id,
            "mentor_id": proposal.mentor.member_id,
            "mentee_id": proposal.mentee.member_id,
            "source": source,
            "requested_by": proposal.mentee.member_id if source == "request" else None,
            "cohort_id": cohort_id,
            **proposal.explanation(),
            "proposed_at": at.isoformat(),
            "expires_at": (at + timedelta(days=expiry_days)).isoformat(),
        })
        return pair

    # -- answering -----------------------------------------------------------------------

    def _member(self, member_id: str) -> None:
        # Not hers: as if the pair did not exist (ids must not leak).
        if self.state is None or member_id not in self.members:
            raise NotFound("No such pair.", field="pair_id")

    def _pending(self, at: datetime) -> None:
        if self.state != "proposed":
            raise Conflict(f"This proposal is no longer open (it is {self.state}).",
                           field="pair_id")
        if self.is_due(at):
            raise Conflict("This proposal has expired.", field="pair_id")

    def accept(self, member_id: str, at: datetime, *, mentee: Eligibility,
               mentor: Eligibility) -> bool:
        """``member_id`` accepts; when both have, ``PairFormed``. Returns whether the
        pair formed.

        R3 and R2: the accepting member must be eligible now, and for the pair to
        form the other one too (a charter published since the proposal must be
        accepted first; ``mentee``/``mentor`` are both members' eligibility now).
        """
        _aware(at)
        self._member(member_id)
        self._pending(at)
        if member_id in self.accepted:
            raise Conflict("She has already accepted this proposal.", field="pair_id")
        if (mentee.member_id, mentor.member_id) != self.members:
            raise Invalid("Eligibility of other members than this pair's.", field="member_id")
        own, other = (mentee, mentor) if member_id == self.mentee_id else (mentor, mentee)
        own.require(field="member_id")  # R3, R2
        completes = other.member_id in self.accepted
        if completes and not other.eligible:
            rule = INELIGIBILITY[other.reasons[0]]
            if rule is None:  # her data was erased: she left, the proposal is moot
                raise Conflict("The other member has left the programme.", field="pair_id")
            hint = " (she must first accept the current charter)" if rule == "R3" else ""
            raise RuleViolation(rule, f"The other member cannot be paired at the moment{hint}.",
                                field="pair_id")
        self.record("MatchAccepted", {"pair_id": self.id, "member_id": member_id,
                                      "accepted_at": at.isoformat()})
        if completes:
            self.record("PairFormed", {"pair_id": self.id, "mentor_id": self.mentor_id,
                                       "mentee_id": self.mentee_id,
                                       "mentor_organisation_id": self.mentor_organisation_id,
                                       "mentee_organisation_id": self.mentee_organisation_id,
                                       "formed_at": at.isoformat()})
        return completes

    def decline(self, member_id: str, reason: str, at: datetime) -> None:
        """R9: either member may decline a proposal she has not accepted."""
        _aware(at)
        self._member(member_id)
        self._pending(at)
        if reason not in DECLINE_REASONS:
            raise Invalid(f"A reason is one of {', '.join(DECLINE_REASONS)}.", field="reason")
        if member_id in self.accepted:
            raise Conflict("She accepted this proposal: she withdraws it rather than "
                           "declines it.", field="pair_id")
        self.record("MatchDeclined", {"pair_id": self.id, "member_id": member_id,
                                      "reason": reason, "declined_at": at.isoformat()})

    def withdraw(self, member_id: str, at: datetime) -> None:
        """R9: a member who accepted (a mentee who requested) takes it back before the
        pair forms."""
        _aware(at)
        self._member(member_id)
        self._pending(at)
        if member_id not in self.accepted:
            raise Conflict("She has not accepted this proposal: she declines it rather "
                           "than withdraws it.", field="pair_id")
        self.record("ProposalWithdrawn", {"pair_id": self.id, "reason": "withdrawn",
                                          "withdrawn_by": member_id,
                                          "withdrawn_at": at.isoformat()})

    def expire(self, at: datetime) -> bool:
        """``MatchExpired`` if the proposal is still pending and its time is over;
        False (nothing recorded) otherwise, so a sweeper may call it on any pair."""
        _aware(at)
        if not self.is_due(at):
            return False
        self.record("MatchExpired", {"pair_id": self.id, "expired_at": at.isoformat()})
        return True

    # -- ending --------------------------------------------------------------------------

    def end(self, member_id: str, reason: str, at: datetime) -> None:
        """R9: either member ends a formed pair, ``completed`` or ``withdrawn``."""
        _aware(at)
        self._member(member_id)
        if reason not in MEMBER_END_REASONS:
            if reason == "counterpart_excluded":
                raise Forbidden("Only the platform ends a pair for an exclusion (R2).",
                                field="reason")
            raise Invalid(f"A reason is one of {', '.join(MEMBER_END_REASONS)}.",
                          field="reason")
        if self.state != "formed":
            raise Conflict(f"Only a formed pair can end (this one is {self.state}).",
                           field="pair_id")
        self.record("PairEnded", {"pair_id": self.id, "reason": reason, "ended_by": member_id,
                                  "ended_at": at.isoformat()})

    def close_for_exclusion(self, excluded_member_id: str, at: datetime) -> str | None:
        """R2: a member was excluded; her open pair closes at once, by the platform:
        a pending proposal is withdrawn, a formed pair ends, both with reason
        ``counterpart_excluded``. Returns the other member (back in the pool), or
        None when the pair was already closed (a redelivered exclusion changes
        nothing). The service calls it for every open pair of every member id the
        exclusion took out of the pool (``PoolChange.left``: one person may be
        registered as a mentor and as a mentee)."""
        _aware(at)
        self._member(excluded_member_id)
        if self.state == "proposed":
            self.record("ProposalWithdrawn", {"pair_id": self.id,
                                              "reason": "counterpart_excluded",
                                              "withdrawn_by": None,
                                              "withdrawn_at": at.isoformat()})
        elif self.state == "formed":
            self.record("PairEnded", {"pair_id": self.id, "reason": "counterpart_excluded",
                                      "ended_by": None, "ended_at": at.isoformat()})
        else:
            return None
        return self.counterpart(excluded_member_id)

    def close_for_erasure(self, erased_member_id: str, at: datetime) -> str | None:
        """A member's personal data was erased: she has left the programme, so her
        open pair closes as if she withdrew (R9): a pending proposal is withdrawn by
        her, a formed pair ended by her with reason ``withdrawn``. Returns the other
        member (back in the pool), or None when the pair was already closed."""
        _aware(at)
        self._member(erased_member_id)
        if self.state == "proposed":
            self.record("ProposalWithdrawn", {"pair_id": self.id, "reason": "withdrawn",
                                              "withdrawn_by": erased_member_id,
                                              "withdrawn_at": at.isoformat()})
        elif self.state == "formed":
            self.record("PairEnded", {"pair_id": self.id, "reason": "withdrawn",
                                      "ended_by": erased_member_id, "ended_at": at.isoformat()})
        else:
            return None
        return self.counterpart(erased_member_id)

    # -- apply ---------------------------------------------------------------------------

    def when_match_proposed(self, data: dict[str, Any]) -> None:
        self.state = "proposed"
        self.mentor_id = str(data["mentor_id"])
        self.mentee_id = str(data["mentee_id"])
        self.source = data.get("source")
        self.expires_at = _when(data["expires_at"])
        inputs = data.get("inputs")
        if inputs is not None:
            self.mentor_organisation_id = str(inputs["mentor"]["organisation_id"])
            self.mentee_organisation_id = str(inputs["mentee"]["organisation_id"])

    def when_match_accepted(self, data: dict[str, Any]) -> None:
        self.accepted.add(str(data["member_id"]))

    def when_match_declined(self, data: dict[str, Any]) -> None:
        self.state = "declined"

    def when_match_expired(self, data: dict[str, Any]) -> None:
        self.state = "expired"

    def when_proposal_withdrawn(self, data: dict[str, Any]) -> None:
        self.state = "withdrawn"

    def when_pair_formed(self, data: dict[str, Any]) -> None:
        self.state = "formed"

    def when_pair_ended(self, data: dict[str, Any]) -> None:
        self.state = "ended"
        self.end_reason = data["reason"]
