"""What the moderator API returns, shaped for ``contracts.api.moderation``.

Report details and rationales are opened here, for moderators only (R8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from services.moderation.domain.audit import AuditEntry
from services.moderation.domain.case import CaseSnapshot
from services.moderation.domain.chain import Finding
from services.moderation.domain.decision import DecisionPolicy
from services.servicekit.crypto import Keyring, Unreadable


def _iso(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _open(conn: psycopg.Connection, keyring: Keyring, sealed: str | None) -> str | None:
    if sealed is None:
        return None
    try:
        return keyring.box_open(conn, sealed)
    except Unreadable:
        return None


def summary_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": str(row["case_id"]), "member_id": str(row["member_id"]),
        "organisation_id": str(row["organisation_id"]) if row["organisation_id"] else None,
        "sequence": row["sequence"], "status": row["status"], "version": row["version"],
        "reports": row["reports"], "votes": row["votes"],
        "opened_at": _iso(row["opened_at"]), "decided_at": _iso(row["decided_at"]),
        "reason": row["reason"],
    }


def summary(snapshot: CaseSnapshot) -> dict[str, Any]:
    return {
        "case_id": snapshot.case_id, "member_id": snapshot.member_id,
        "organisation_id": snapshot.partner_org, "sequence": snapshot.sequence,
        "status": str(snapshot.status), "version": snapshot.version,
        "reports": len(snapshot.reports), "votes": len(snapshot.votes),
        "opened_at": _iso(snapshot.opened_at), "decided_at": _iso(snapshot.decided_at),
        "reason": snapshot.reason,
    }


def case(conn: psycopg.Connection, keyring: Keyring, snapshot: CaseSnapshot,
         evidence: list[dict[str, Any]], policy: DecisionPolicy) -> dict[str, Any]:
    return {
        **summary(snapshot),
        "evidence": [{
            "report_id": e["report_id"], "reporter_id": e["reporter_id"],
            "pair_id": e["pair_id"], "session_ids": [str(s) for s in e["session_ids"]],
            "details": _open(conn, keyring, e["details"]),
            "reported_at": _iso(e["reported_at"]),
        } for e in evidence],
        "votes_cast": [{"moderator_id": v.moderator_id, "reason": v.reason,
                        "rationale": _open(conn, keyring, v.rationale), "at": _iso(v.at)}
                       for v in snapshot.votes],
        "decided_by": list(snapshot.decided_by),
        "quorum": snapshot.quorum if snapshot.quorum is not None else policy.quorum,
        "excluded": snapshot.excluded,
        "flagged": snapshot.flagged,
    }


def decision(snapshot: CaseSnapshot, policy: DecisionPolicy) -> dict[str, Any]:
    return {"case_id": snapshot.case_id, "status": str(snapshot.status),
            "version": snapshot.version, "votes": len(snapshot.votes),
            "quorum": snapshot.quorum or policy.quorum, "excluded": snapshot.excluded}


def audit_entry(conn: psycopg.Connection, keyring: Keyring, entry: AuditEntry) -> dict[str, Any]:
    return {
        "stream_version": entry.stream_version, "position": entry.position,
        "event_id": entry.event_id, "action": str(entry.action),
        "actor_role": str(entry.actor_role), "actor_id": entry.actor_id, "at": _iso(entry.at),
        "reason": entry.reason, "rationale": _open(conn, keyring, entry.rationale),
        "report_id": entry.report_id, "moderator_ids": list(entry.moderator_ids),
        "quorum": entry.quorum,
    }


def finding(item: Finding) -> dict[str, Any]:
    return {"position": item.position, "kind": str(item.kind), "detail": item.detail}
