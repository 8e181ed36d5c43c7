"""Reads over moderation's read models."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row


def cases(conn: psycopg.Connection, status: str | None, member_id: str | None,
          limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    conditions, params = [], []
    if status:
        conditions.append("status = %s")
        params.append(status)
    if member_id:
        conditions.append("member_id = %s")
        params.append(member_id)
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT * FROM cases{where} ORDER BY opened_at, case_id LIMIT %s OFFSET %s",
                    (*params, limit, offset))
        rows = cur.fetchall()
        cur.execute(f"SELECT count(*) AS n FROM cases{where}", params)
        total = cur.fetchone()["n"]
    return rows, total


def case_row(conn: psycopg.Connection, case_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM cases WHERE case_id = %s", (case_id,))
        return cur.fetchone()


def open_cases(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM cases WHERE status = 'open'").fetchone()[0]


def member(conn: psycopg.Connection, member_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT member_id::text, organisation_id::text, role, fingerprint "
                    "FROM member_directory WHERE member_id = %s", (member_id,))
        return cur.fetchone()


def evidence(conn: psycopg.Connection, report_ids: list[str]) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT report_id::text, reporter_id::text, pair_id::text, session_ids, "
                    "details, reported_at FROM evidence WHERE report_id = ANY(%s::uuid[]) "
                    "ORDER BY reported_at", (report_ids,))
        return cur.fetchall()


def activity_of(conn: psycopg.Connection, member_id: str) -> list[dict[str, Any]]:
    """The state events of every pair she is in, as ``domain.as_of`` folds them."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT name, recorded_at, data FROM matching_activity "
            "WHERE pair_id IN (SELECT pair_id FROM pair_members WHERE member_id = %s) "
            "UNION ALL SELECT name, recorded_at, data FROM sessions_activity "
            "WHERE pair_id IN (SELECT pair_id FROM pair_members WHERE member_id = %s) "
            "ORDER BY recorded_at", (member_id, member_id))
        return [{"name": r["name"], "recorded_at": r["recorded_at"].isoformat(),
                 "data": r["data"]} for r in cur]
