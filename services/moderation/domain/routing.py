"""Which case a report belongs to: open a new one, join the open one, or none
because it is already in one (a replayed or duplicated report).

The service probes the reported member's case streams in order
(``case_ids.case_ids_of``) until the first with no event, summarises each
(``Case.summary()``), and asks :func:`route_report`. Reading the streams, not a
projection, keeps the decision on the same data the append is checked against:
the case stream's version is the lock (see ``case_ids``)::

    cases = []
    for sequence, case_id in case_ids_of(report.reported_member_id):
        case = uow.get(Case, case_id)
        if case is None:
            break
        cases.append(case)
    route = route_report(report.reported_member_id, report.report_id,
                         [c.summary() for c in cases])
    if route.kind is RouteKind.OPEN:
        uow.save(Case.open(report, route.sequence, now, partner_org))
    elif route.kind is RouteKind.JOIN:
        cases[-1].add_report(report, now)
        uow.save(cases[-1])
    # RouteKind.ALREADY: nothing to write.

Run it in ``uow.run`` (retried on a concurrency conflict): two first reports
race for the same new stream, one opens it, the other's retry joins it; a
report racing a decision joins the case or, if the decision won, opens the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.moderation.domain.case_ids import case_id_for


class CaseStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"  # the quorum concurred: the member is excluded (R2)
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class CaseSummary:
    """What routing needs of a case (``Case.summary()``, or ``CaseIndex``)."""

    case_id: str
    member_id: str
    sequence: int | None  # null only for a case opened as CaseOpened v1
    status: CaseStatus
    report_ids: frozenset[str]

    @property
    def is_open(self) -> bool:
        return self.status is CaseStatus.OPEN


class RouteKind(StrEnum):
    OPEN = "open"  # open case ``sequence`` (``case_id``)
    JOIN = "join"  # join the member's open case
    ALREADY = "already"  # the report is already in ``case_id``: record nothing


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    case_id: str
    sequence: int


def route_report(member_id: str, report_id: str, cases: Sequence[CaseSummary]) -> Route:
    """Where report ``report_id`` against ``member_id`` goes, given all her cases in
    sequence order (case 1 first, as probed).

    A report already in any of her cases, open or decided, goes nowhere new:
    redelivery and replays never open a second case nor join twice. Otherwise
    it joins her open case, or opens the next one when every case is decided
    (a report after a dismissal, or one that was in flight when she was
    excluded, is a new matter: moderators may dismiss it as ``duplicate``).
    """
    for index, case in enumerate(cases, start=1):
        if case.member_id != member_id:
            raise ValueError(f"case {case.case_id} is {case.member_id}'s, not {member_id}'s")
        if case.sequence is not None and case.sequence != index:
            raise ValueError(f"case {case.case_id} is number {case.sequence}, found at {index}: "
                             "pass the member's cases in sequence order, none missing")
    for index, case in enumerate(cases, start=1):
        if report_id in case.report_ids:
            return Route(RouteKind.ALREADY, case.case_id, index)
    open_cases = [c for c in cases if c.is_open]
    if len(open_cases) > 1:
        raise ValueError(f"member {member_id} has {len(open_cases)} open cases; at most one")
    if cases and cases[-1].is_open:
        return Route(RouteKind.JOIN, cases[-1].case_id, len(cases))
    if open_cases:
        raise ValueError(f"an earlier case of member {member_id} is open but not her last")
    sequence = len(cases) + 1
    return Route(RouteKind.OPEN, case_id_for(member_id, sequence), sequence)
