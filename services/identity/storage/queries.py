"""Reads over identity's read models. Every member query is scoped by organisation:
an id of another organisation reads exactly like an id that does not exist."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from services.identity.domain.charter import CharterVersion

_MEMBER = """
SELECT m.*, f.flag, (x.fingerprint IS NOT NULL) AS excluded
FROM members m
LEFT JOIN profile_flags f ON f.member_id = m.member_id
LEFT JOIN excluded_identities x ON x.fingerprint = m.fingerprint
"""


def member(conn: psycopg.Connection, member_id: str,
           organisation_id: str | None) -> dict[str, Any] | None:
    """The member, if she exists in ``organisation_id`` (``None``: any organisation)."""
    with conn.cursor(row_factory=dict_row) as cur:
        if organisation_id is None:
            cur.execute(_MEMBER + "WHERE m.member_id = %s", (member_id,))
        else:
            cur.execute(_MEMBER + "WHERE m.member_id = %s AND m.organisation_id = %s",
                        (member_id, organisation_id))
        return cur.fetchone()


def members(conn: psycopg.Connection, organisation_id: str, role: str | None,
            status: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    conditions = ["m.organisation_id = %s"]
    params: list[Any] = [organisation_id]
    if role:
        conditions.append("m.role = %s")
        params.append(role)
    if status == "erased":
        conditions.append("m.erased_at IS NOT NULL")
    elif status == "excluded":
        conditions.append("x.fingerprint IS NOT NULL")
    elif status == "active":
        conditions.append("m.erased_at IS NULL AND x.fingerprint IS NULL")
    where = " WHERE " + " AND ".join(conditions)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_MEMBER + where + " ORDER BY m.registered_at, m.member_id LIMIT %s OFFSET %s",
                    (*params, limit, offset))
        rows = cur.fetchall()
        cur.execute("SELECT count(*) AS n FROM members m LEFT JOIN excluded_identities x "
                    "ON x.fingerprint = m.fingerprint" + where, params)
        total = cur.fetchone()["n"]
    return rows, total


def member_counts(conn: psycopg.Connection, organisation_id: str) -> dict[str, int]:
    """Counts by role and status: what an organisation sees of its programme."""
    rows = conn.execute(
        "SELECT m.role, CASE WHEN m.erased_at IS NOT NULL THEN 'erased' "
        "WHEN x.fingerprint IS NOT NULL THEN 'excluded' ELSE 'active' END AS status, count(*) "
        "FROM members m LEFT JOIN excluded_identities x ON x.fingerprint = m.fingerprint "
        "WHERE m.organisation_id = %s GROUP BY 1, 2", (organisation_id,),
    ).fetchall()
    return {f"{role}_{status}": n for role, status, n in rows}


def fingerprint_excluded(conn: psycopg.Connection, *fingerprints: str) -> bool:
    """Whether any of ``fingerprints`` (one person's, ``crypto.fingerprints_on_record``)
    is excluded."""
    return conn.execute("SELECT 1 FROM excluded_identities WHERE fingerprint = ANY(%s)",
                        (list(fingerprints),)).fetchone() is not None


def fingerprint_in_use(conn: psycopg.Connection, fingerprints: Sequence[str]) -> str | None:
    """Which of one person's ``fingerprints`` her earliest membership is on record
    under, if she has one (``crypto.fingerprints_on_record``)."""
    row = conn.execute("SELECT fingerprint FROM members WHERE fingerprint = ANY(%s) "
                       "ORDER BY registered_at LIMIT 1", (list(fingerprints),)).fetchone()
    return row[0] if row else None


def exclusion(conn: psycopg.Connection, fingerprint: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT case_id::text, excluded_at FROM excluded_identities "
                    "WHERE fingerprint = %s", (fingerprint,))
        return cur.fetchone()


def organisation(conn: psycopg.Connection, organisation_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM organisations WHERE organisation_id = %s", (organisation_id,))
        return cur.fetchone()


def api_keys(conn: psycopg.Connection, organisation_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT key_id::text, prefix, issued_at, revoked_at, revoked_reason "
                    "FROM api_keys WHERE organisation_id = %s ORDER BY issued_at",
                    (organisation_id,))
        return cur.fetchall()


def live_key(conn: psycopg.Connection, prefix: str) -> tuple[str, str, str] | None:
    """``(key_id, organisation_id, secret_sha256)`` of the unrevoked key with ``prefix``."""
    row = conn.execute(
        "SELECT key_id::text, organisation_id::text, secret_sha256 FROM api_keys "
        "WHERE prefix = %s AND revoked_at IS NULL", (prefix,),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def current_charter(conn: psycopg.Connection) -> CharterVersion | None:
    row = conn.execute(
        "SELECT charter_version, text_sha256, mentor_commitments, mentee_commitments, "
        "published_at FROM charter_versions ORDER BY charter_version DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return CharterVersion(version=row[0], text_sha256=row[1],
                          commitments={"mentor": tuple(row[2]), "mentee": tuple(row[3])},
                          published_at=row[4].isoformat())


def acceptances(conn: psycopg.Connection, member_id: str) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT member_id::text, charter_version, accepted_at "
                    "FROM charter_acceptances WHERE member_id = %s ORDER BY charter_version",
                    (member_id,))
        return cur.fetchall()


def claim_registration(conn: psycopg.Connection, organisation_id: str, role: str,
                       fingerprint: str) -> bool:
    """Whether this person may register in this role here: ``False`` if she already is.

    Takes a transaction lock on (organisation, role, person) first, so that two
    concurrent registrations of the same person queue, and the second one sees the
    first once it commits. (A unique index on the read model would do it too, but
    a projection must replay any history, including one written before a rule.)
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                 (f"register:{organisation_id}:{role}:{fingerprint}",))
    return conn.execute(
        "SELECT 1 FROM members WHERE organisation_id = %s AND role = %s AND fingerprint = %s "
        "AND erased_at IS NULL", (organisation_id, role, fingerprint),
    ).fetchone() is None
