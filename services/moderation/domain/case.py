"""A moderation case: the reports against one member, and their outcome (R1, R2).

One case is one stream (its id from ``case_ids``): reports join it while it is
open; moderators vote to confirm or dismiss; a decision is final. When the
quorum of different moderators has voted to confirm, the same command records
``CaseConfirmed``, ``MemberExcluded`` (permanent) and ``ProfileFlagged``, so
the exclusion and its flag are appended together or not at all (R2).

Pure: the service passes ``now``, the policy (quorum) and, for a vote, the
reported member's identity fingerprint (from its directory of identity's
``MemberRegistered``), and saves what the case recorded with optimistic
concurrency on the case stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from services.eventcore.aggregate import Aggregate
from services.moderation.domain.case_ids import case_id_for
from services.moderation.domain.decision import (
    CONFIRMATION_REASONS,
    DISMISSAL_REASONS,
    DecisionPolicy,
    Tally,
    Vote,
    check_fingerprint,
    check_four_eyes,
    check_rationale,
    check_reason,
    check_seen_version,
    moderator,
)
from services.moderation.domain.moments import iso
from services.moderation.domain.report import Report
from services.moderation.domain.routing import CaseStatus, CaseSummary
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation

__all__ = ["Case", "CaseSnapshot", "CaseStatus", "ReportRef", "refuse_reinstatement"]

#: R2: the flag every exclusion carries (``charter.PROFILE_FLAGS``).
FLAG = "commercial_solicitation"


@dataclass(frozen=True)
class ReportRef:
    """A report in a case: who reported, when it reached the case (no content)."""

    report_id: str
    reporter_id: str | None  # null only for the first report of a v1 case
    at: str


@dataclass(frozen=True)
class CaseSnapshot:
    """A case as a moderator reads it (the API's body, the as-of view)."""

    case_id: str
    member_id: str
    sequence: int | None
    version: int
    status: CaseStatus
    partner_org: str | None
    opened_at: str
    reports: tuple[ReportRef, ...]
    votes: tuple[Vote, ...]  # votes to confirm, in order
    decided_at: str | None
    decided_by: tuple[str, ...]  # the concurring moderators, or the one who dismissed
    reason: str | None  # the outcome's reason code
    quorum: int | None  # in force at the confirmation
    excluded: bool
    flagged: bool

    @property
    def decision_latency(self) -> timedelta | None:
        """From the first report to the decision (a metric), ``None`` while open."""
        if self.decided_at is None:
            return None
        return datetime.fromisoformat(self.decided_at) - datetime.fromisoformat(self.opened_at)


def refuse_reinstatement(member_id: str) -> NoReturn:
    """R2: there is no reinstatement, for anyone, by anyone. The command exists
    so the attempt gets a clear refusal (and the service can log who tried);
    it records nothing, and there is no event it could record."""
    raise RuleViolation(
        "R2",
        f"Member {member_id} cannot be reinstated: whoever breaks R1 is excluded "
        "systematically and permanently, and her profile stays flagged.",
        field="member_id",
    )


class Case(Aggregate):
    kind = "case"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.member_id = ""
        self.sequence: int | None = None
        self.status = CaseStatus.OPEN
        self.opened_at = ""
        self.reports: dict[str, ReportRef] = {}  # in arrival order
        self.votes: list[Vote] = []
        self.decided_at: str | None = None
        self.decided_by: tuple[str, ...] = ()
        self.reason: str | None = None
        self.quorum: int | None = None
        self.excluded = False
        self.flagged = False

    # -- commands ------------------------------------------------------------------

    @classmethod
    def open(cls, report: Report, sequence: int, now: datetime,
             partner_org: str | None = None) -> Case:
        """The member's ``sequence``-th case, opened by ``report`` (the id follows:
        ``case_id_for``). ``partner_org``: the organisation the case's events are
        tagged with (the report's). Saving it at version 0 fails if a concurrent
        report opened the same case first: the retry joins it."""
        case = cls(case_id_for(report.reported_member_id, sequence))
        case.partner_org = partner_org
        case.record("CaseOpened", {
            "case_id": case.id,
            "reported_member_id": report.reported_member_id,
            "report_id": report.report_id,
            "reporter_id": report.reporter_id,
            "sequence": sequence,
            "opened_at": iso(now),
        })
        return case

    def add_report(self, report: Report, now: datetime) -> bool:
        """A further report against the member joins her open case. ``False``, and
        nothing recorded, if the report is already in the case (a redelivered or
        replayed report never joins twice, even after the decision)."""
        self._must_exist()
        if report.report_id in self.reports:
            return False
        if report.reported_member_id != self.member_id:
            raise Invalid("This report is against another member: it belongs to her case.",
                          field="reported_member_id")
        if self.decided:
            raise Conflict(f"Case {self.id} is {self.status}: a new report opens the "
                           "member's next case.", field="case_id")
        self.record("ReportJoinedCase", {
            "case_id": self.id,
            "report_id": report.report_id,
            "reporter_id": report.reporter_id,
            "joined_at": iso(now),
        })
        return True

    def confirm(self, moderator_id: str, reason: str, rationale: str, *, seen_version: int,
                identity_fingerprint: str, now: datetime,
                policy: DecisionPolicy | None = None) -> Tally:
        """One moderator's vote that the solicitation happened (R1).

        When the votes of different moderators reach ``policy.quorum`` (four
        eyes), the same command records ``CaseConfirmed``, ``MemberExcluded``
        (permanent) and ``ProfileFlagged`` (R2). ``seen_version``: the case
        version the moderator read. ``identity_fingerprint``: the reported
        member's, used if this vote completes the quorum. Returns the tally.
        """
        policy = policy or DecisionPolicy()
        moderator_id = self._decidable(moderator_id, seen_version)
        check_reason(reason, CONFIRMATION_REASONS)
        check_rationale(rationale)
        check_fingerprint(identity_fingerprint)
        check_four_eyes(moderator_id, self.votes)
        at = iso(now)
        self.record("ExclusionConfirmed", {
            "case_id": self.id,
            "moderator_id": moderator_id,
            "reason": reason,
            "rationale": rationale,
            "confirmed_at": at,
        })
        tally = self.tally(policy)
        if tally.reached:
            # R2: a confirmed report always ends in MemberExcluded + ProfileFlagged,
            # in this one append.
            first_reason = next(v.reason for v in self.votes if v.reason is not None)
            self.record("CaseConfirmed", {
                "case_id": self.id,
                "member_id": self.member_id,
                "reason": first_reason,
                "moderator_ids": list(tally.moderator_ids),
                "quorum": policy.quorum,
                "confirmed_at": at,
            })
            self.record("MemberExcluded", {
                "case_id": self.id,
                "member_id": self.member_id,
                "identity_fingerprint": identity_fingerprint,
                "permanent": True,
                "excluded_at": at,
            })
            self.record("ProfileFlagged", {
                "case_id": self.id,
                "member_id": self.member_id,
                "identity_fingerprint": identity_fingerprint,
                "flag": FLAG,
                "flagged_at": at,
            })
        return tally

    def dismiss(self, moderator_id: str, reason: str, rationale: str, *, seen_version: int,
                now: datetime) -> None:
        """One moderator dismisses the case (no exclusion, so no second pair of
        eyes): it closes, pending votes to confirm lapse, a later report opens a
        new case."""
        moderator_id = self._decidable(moderator_id, seen_version)
        check_reason(reason, DISMISSAL_REASONS)
        check_rationale(rationale)
        self.record("CaseDismissed", {
            "case_id": self.id,
            "moderator_id": moderator_id,
            "reason": reason,
            "rationale": rationale,
            "dismissed_at": iso(now),
        })

    def reinstate(self, moderator_id: str) -> NoReturn:
        """R2: refused, always, whatever the case's state; records nothing."""
        self._must_exist()
        refuse_reinstatement(self.member_id)

    # -- reading --------------------------------------------------------------------

    @property
    def decided(self) -> bool:
        return self.status is not CaseStatus.OPEN

    @property
    def current_version(self) -> int:
        """The version the case has with what this command recorded."""
        return self.version + len(self.pending)

    def tally(self, policy: DecisionPolicy | None = None) -> Tally:
        policy = policy or DecisionPolicy()
        return Tally(tuple(v.moderator_id for v in self.votes), policy.quorum)

    def summary(self) -> CaseSummary:
        return CaseSummary(self.id, self.member_id, self.sequence, self.status,
                           frozenset(self.reports))

    def snapshot(self) -> CaseSnapshot:
        self._must_exist()
        return CaseSnapshot(
            case_id=self.id, member_id=self.member_id, sequence=self.sequence,
            version=self.current_version, status=self.status, partner_org=self.partner_org,
            opened_at=self.opened_at, reports=tuple(self.reports.values()),
            votes=tuple(self.votes), decided_at=self.decided_at, decided_by=self.decided_by,
            reason=self.reason, quorum=self.quorum, excluded=self.excluded,
            flagged=self.flagged,
        )

    # -- checks ---------------------------------------------------------------------

    def _must_exist(self) -> None:
        if not self.exists:
            raise NotFound(f"No case {self.id}.", field="case_id")

    def _decidable(self, moderator_id: str, seen_version: int) -> str:
        """What every decision needs: an open case, seen as it is now."""
        self._must_exist()
        if self.decided:
            # A decision is final; undoing a confirmation would be a reinstatement (R2).
            raise Conflict(
                f"Case {self.id} was already {self.status} on {self.decided_at} by "
                f"{', '.join(self.decided_by)}: a decided case takes no further decision.",
                field="case_id", rule="R2" if self.status is CaseStatus.CONFIRMED else None,
            )
        check_seen_version(seen_version, self.current_version)
        return moderator(moderator_id)

    # -- apply ----------------------------------------------------------------------

    def when_case_opened(self, data: Mapping[str, Any]) -> None:
        self.member_id = data["reported_member_id"]
        self.sequence = data.get("sequence")
        self.opened_at = data["opened_at"]
        self.reports[data["report_id"]] = ReportRef(
            data["report_id"], data.get("reporter_id"), data["opened_at"])

    def when_report_joined_case(self, data: Mapping[str, Any]) -> None:
        self.reports[data["report_id"]] = ReportRef(
            data["report_id"], data["reporter_id"], data["joined_at"])

    def when_exclusion_confirmed(self, data: Mapping[str, Any]) -> None:
        self.votes.append(Vote(data["moderator_id"], data.get("reason"), data["rationale"],
                               data["confirmed_at"]))

    def when_case_confirmed(self, data: Mapping[str, Any]) -> None:
        self.status = CaseStatus.CONFIRMED
        self.decided_at = data["confirmed_at"]
        self.decided_by = tuple(data["moderator_ids"])
        self.reason = data["reason"]
        self.quorum = data["quorum"]

    def when_case_dismissed(self, data: Mapping[str, Any]) -> None:
        self.status = CaseStatus.DISMISSED
        self.decided_at = data["dismissed_at"]
        self.decided_by = (data["moderator_id"],)
        self.reason = data["reason"]

    def when_member_excluded(self, data: Mapping[str, Any]) -> None:
        self.excluded = True

    def when_profile_flagged(self, data: Mapping[str, Any]) -> None:
        self.flagged = True
