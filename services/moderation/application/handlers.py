"""What each moderation command does, in one transaction: load, decide, seal, save.

Reports arrive from Kafka (sessions' ``CommercialSolicitationReported``) and are
routed to the reported member's case; decisions arrive from the moderator API.
Everything here runs inside ``uow.run`` (or a Kafka handler's tracked
transaction), so a command commits whole or leaves nothing behind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.eventcore.database import UnitOfWork
from services.eventcore.events import DomainEvent
from services.moderation.domain.case import Case
from services.moderation.domain.case_ids import case_ids_of
from services.moderation.domain.decision import DecisionPolicy
from services.moderation.domain.report import Report
from services.moderation.domain.routing import RouteKind, route_report
from services.moderation.storage import queries
from services.servicekit.crypto import MODERATORS_KEY_ID, Keyring, box_seal
from services.servicekit.errors import Conflict, NotFound


def member_cases(uow: UnitOfWork, member_id: str) -> list[Case]:
    """Her cases, in sequence order, read from their streams (the lock is the stream)."""
    found: list[Case] = []
    for _, case_id in case_ids_of(member_id):
        case = uow.get(Case, case_id)
        if case is None:
            return found
        found.append(case)
    return found


def file_report(uow: UnitOfWork, now: datetime, event: DomainEvent) -> RouteKind:
    """R1: a report opens the member's case, joins her open one, or (a redelivery or a
    replay) changes nothing."""
    report = Report.from_event(event.data)
    cases = member_cases(uow, report.reported_member_id)
    route = route_report(report.reported_member_id, report.report_id,
                         [c.summary() for c in cases])
    if route.kind is RouteKind.OPEN:
        reported = queries.member(uow.conn, report.reported_member_id)
        organisation = reported["organisation_id"] if reported else event.partner_org
        uow.save(Case.open(report, route.sequence, now, organisation))
    elif route.kind is RouteKind.JOIN:
        cases[-1].add_report(report, now)
        uow.save(cases[-1])
    return route.kind


def _case(uow: UnitOfWork, case_id: str) -> Case:
    case = uow.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.", field="case_id")
    return case


def _sealed_rationale(uow: UnitOfWork, keyring: Keyring, text: str) -> str:
    # R8: sealed for moderators, like report details: ops and logs never read it.
    return box_seal(keyring.box_public_key(uow.conn), MODERATORS_KEY_ID, text)


def confirm(uow: UnitOfWork, keyring: Keyring, now: datetime, policy: DecisionPolicy,
            moderator_id: str, case_id: str, payload: dict[str, Any]) -> Case:
    """One moderator's vote to confirm; the quorum's last vote excludes (R2)."""
    case = _case(uow, case_id)
    member = queries.member(uow.conn, case.member_id)
    if member is None:
        raise Conflict("Identity has not told moderation who this member is yet; "
                       "try again in a moment.", field="case_id")
    case.confirm(moderator_id, payload["reason"],
                 _sealed_rationale(uow, keyring, payload["rationale"]),
                 seen_version=payload["seen_version"],
                 identity_fingerprint=member["fingerprint"], now=now, policy=policy)
    uow.save(case)
    return case


def dismiss(uow: UnitOfWork, keyring: Keyring, now: datetime, moderator_id: str,
            case_id: str, payload: dict[str, Any]) -> Case:
    case = _case(uow, case_id)
    case.dismiss(moderator_id, payload["reason"],
                 _sealed_rationale(uow, keyring, payload["rationale"]),
                 seen_version=payload["seen_version"], now=now)
    uow.save(case)
    return case


def reinstate(uow: UnitOfWork, moderator_id: str, case_id: str) -> None:
    """R2: always refused, naming the rule; nothing is recorded."""
    _case(uow, case_id).reinstate(moderator_id)
