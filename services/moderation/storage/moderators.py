"""Moderator accounts: platform staff, each with her own credential (``md_...``).

Not domain events: who may log in is not part of the charter's history; what a
moderator *decides* is (the case streams, hash-chained). The name is sealed
under the moderator's own key, the credential kept as a hash only.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS moderators (
    moderator_id   uuid PRIMARY KEY,
    display_name   text NOT NULL,          -- sealed
    prefix         text NOT NULL UNIQUE,
    secret_sha256  text NOT NULL,
    enrolled_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz
);
"""


def install(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def enrol(conn: psycopg.Connection, moderator_id: str, sealed_name: str, prefix: str,
          secret_sha256: str) -> None:
    conn.execute("INSERT INTO moderators (moderator_id, display_name, prefix, secret_sha256) "
                 "VALUES (%s, %s, %s, %s)", (moderator_id, sealed_name, prefix, secret_sha256))


def by_prefix(conn: psycopg.Connection, prefix: str) -> tuple[str, str] | None:
    """``(moderator_id, secret_sha256)`` of the active account with ``prefix``: a
    revoked one reads no report detail again (R8)."""
    row = conn.execute("SELECT moderator_id::text, secret_sha256 FROM moderators "
                       "WHERE prefix = %s AND revoked_at IS NULL", (prefix,)).fetchone()
    return (row[0], row[1]) if row else None


def revoke(conn: psycopg.Connection, moderator_id: str) -> datetime | None:
    """When the account's credential was revoked (now, or earlier: revoking twice is
    the same state), or ``None`` if there is no such account."""
    row = conn.execute("UPDATE moderators SET revoked_at = coalesce(revoked_at, now()) "
                       "WHERE moderator_id = %s RETURNING revoked_at", (moderator_id,)).fetchone()
    return row[0] if row else None
