"""What identity's queries return: read-model rows shaped for ``contracts.api.identity``.

Personal values are opened here, for the member and her organisation only, and
come back null once her key is destroyed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from services.identity.domain.charter import CharterVersion
from services.servicekit.crypto import Keyring


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status(row: dict[str, Any]) -> str:
    if row["erased_at"] is not None:
        return "erased"
    if row.get("excluded"):
        return "excluded"
    return "active"


def charter_status(row: dict[str, Any], current: CharterVersion) -> dict[str, Any]:
    accepted = row["accepted_version"]
    return {"accepted_version": accepted, "current_version": current.version,
            "up_to_date": accepted == current.version}


def member_summary(row: dict[str, Any], current: CharterVersion) -> dict[str, Any]:
    return {
        "member_id": str(row["member_id"]),
        "role": row["role"],
        "status": status(row),
        "charter": charter_status(row, current),
        "flag": row.get("flag"),
        "registered_at": row["registered_at"].isoformat(),
    }


def member(conn: psycopg.Connection, keyring: Keyring, row: dict[str, Any],
           current: CharterVersion) -> dict[str, Any]:
    def opened(name: str) -> str | None:
        return keyring.open_or_none(conn, row[name])

    return {
        **member_summary(row, current),
        "organisation_id": str(row["organisation_id"]),
        "display_name": opened("display_name"),
        "email": opened("email"),
        "languages": list(row["languages"]),
        "topics": list(row["topics"]),
        "preferred_modality": row["preferred_modality"],
        "region": row["region"],
        "capacity": row["capacity"],
        "expectations": opened("expectations"),
        "bio": opened("bio"),
    }


def api_key(row: dict[str, Any]) -> dict[str, Any]:
    return {"key_id": row["key_id"], "prefix": row["prefix"],
            "issued_at": row["issued_at"].isoformat(), "revoked_at": _iso(row["revoked_at"]),
            "revoked_reason": row["revoked_reason"]}


def without_api_key(answer: dict[str, Any]) -> dict[str, Any]:
    """What is kept of an answer that issued an API key, for the request sent again
    under its Idempotency-Key (``eventcore.commands``): all but the key, shown once
    and stored only as a hash."""
    return {**answer, "api_key": None}
