"""Reads over sessions' read models.

Every pair query is scoped by who asks: a member sees the pairs she is in, an
organisation the pairs one of its members is in. Anything else reads exactly
like a pair that does not exist (R8, tenant isolation).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from services.servicekit.actor import Actor


def _rows(conn: psycopg.Connection, query: str, params: Any = ()) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _scope(actor: Actor) -> tuple[str, list[Any]]:
    """The condition on ``pairs p`` that keeps what ``actor`` may see."""
    if actor.kind == "member":
        return "(p.mentor_id = %s OR p.mentee_id = %s)", [actor.member_id, actor.member_id]
    organisation_id = actor.in_organisation()
    return ("(p.mentor_organisation_id = %s OR p.mentee_organisation_id = %s)",
            [organisation_id, organisation_id])


# -- pairs -----------------------------------------------------------------------------


def visible_pair(conn: psycopg.Connection, actor: Actor, pair_id: str) -> dict[str, Any] | None:
    where, params = _scope(actor)
    found = _rows(conn, f"SELECT p.* FROM pairs p WHERE p.pair_id = %s AND {where}",
                  [pair_id, *params])
    return found[0] if found else None


def pairs(conn: psycopg.Connection, actor: Actor, status: str | None, overdue: bool | None,
          limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    where, params = _scope(actor)
    conditions = [where]
    if status is not None:
        conditions.append("p.status = %s")
        params.append(status)
    if overdue is not None:
        conditions.append("p.overdue = %s")
        params.append(overdue)
    clause = " WHERE " + " AND ".join(conditions)
    rows = _rows(conn, "SELECT p.* FROM pairs p" + clause +
                 " ORDER BY p.formed_at, p.pair_id LIMIT %s OFFSET %s", [*params, limit, offset])
    total = conn.execute("SELECT count(*) FROM pairs p" + clause, params).fetchone()[0]
    return rows, total


def member_organisation(conn: psycopg.Connection, member_id: str) -> str | None:
    """The organisation identity registered her in (sessions' directory)."""
    row = conn.execute("SELECT organisation_id::text FROM members WHERE member_id = %s",
                       (member_id,)).fetchone()
    return row[0] if row else None


def charter_is_current(conn: psycopg.Connection, member_id: str) -> bool:
    """R3: she accepted the latest charter version identity published (a version she
    accepted that sessions has not seen published yet counts as the latest)."""
    row = conn.execute(
        "SELECT m.accepted_charter IS NOT NULL AND m.accepted_charter >= "
        "coalesce((SELECT max(charter_version) FROM charter_versions), 0) "
        "FROM members m WHERE m.member_id = %s", (member_id,)).fetchone()
    return bool(row and row[0])


def open_pairs_of(conn: psycopg.Connection, member_id: str) -> list[str]:
    """The open pairs a member is in (R2: all closed when she is excluded)."""
    found = conn.execute("SELECT pair_id::text FROM pairs WHERE status = 'open' "
                         "AND (mentor_id = %s OR mentee_id = %s) ORDER BY pair_id",
                         (member_id, member_id)).fetchall()
    return [r[0] for r in found]


def pairs_of(conn: psycopg.Connection, member_id: str) -> list[str]:
    """Every pair a member is or was in, whatever its state (her erasure reaches all)."""
    found = conn.execute("SELECT pair_id::text FROM pairs WHERE mentor_id = %s "
                         "OR mentee_id = %s ORDER BY pair_id", (member_id, member_id)).fetchall()
    return [r[0] for r in found]


def plan_history(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT * FROM meeting_plans WHERE pair_id = %s ORDER BY revision",
                 (pair_id,))


def sessions(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT * FROM pair_sessions WHERE pair_id = %s "
                 "ORDER BY coalesce(started_at, starts_at), session_id", (pair_id,))


def counts(conn: psycopg.Connection, pair_id: str) -> dict[str, int]:
    """What anyone who sees the pair may count (R8: numbers, never text)."""
    row = conn.execute(
        """
        SELECT
          (SELECT count(*) FROM pair_sessions WHERE pair_id = %(p)s AND state = 'scheduled'),
          (SELECT count(*) FROM pair_sessions WHERE pair_id = %(p)s AND state = 'held'),
          (SELECT count(*) FROM pair_sessions WHERE pair_id = %(p)s
             AND confirmed_by IS NOT NULL),
          (SELECT count(*) FROM pair_sessions WHERE pair_id = %(p)s AND state = 'cancelled'),
          (SELECT count(*) FROM objectives WHERE pair_id = %(p)s),
          (SELECT count(*) FROM objectives WHERE pair_id = %(p)s AND achieved_at IS NOT NULL),
          (SELECT count(*) FROM action_items WHERE pair_id = %(p)s AND state = 'open'),
          (SELECT count(*) FROM action_items WHERE pair_id = %(p)s AND state = 'done'),
          (SELECT count(*) FROM action_items WHERE pair_id = %(p)s AND state = 'dropped'),
          (SELECT count(*) FROM notes WHERE pair_id = %(p)s),
          (SELECT count(*) FROM feedback WHERE pair_id = %(p)s),
          (SELECT count(*) FROM solicitation_reports WHERE pair_id = %(p)s)
        """, {"p": pair_id},
    ).fetchone()
    names = ("sessions_scheduled", "sessions_held", "sessions_confirmed", "sessions_cancelled",
             "objectives", "objectives_achieved", "action_items_open", "action_items_done",
             "action_items_dropped", "notes", "feedback", "reports")
    return dict(zip(names, row, strict=True))


# -- what only the pair reads (sealed here, opened by the service) ----------------------


def notes(conn: psycopg.Connection, pair_id: str, limit: int | None = None,
          offset: int = 0) -> list[dict[str, Any]]:
    """The pair's notes, oldest first: every one (an export), or a page of them."""
    return _rows(conn, "SELECT * FROM notes WHERE pair_id = %s ORDER BY added_at, note_id "
                 "LIMIT %s OFFSET %s", (pair_id, limit, offset))


def feedback(conn: psycopg.Connection, pair_id: str, limit: int | None = None,
             offset: int = 0) -> list[dict[str, Any]]:
    """The pair's feedback, oldest first: every one (an export), or a page of it."""
    return _rows(conn, "SELECT * FROM feedback WHERE pair_id = %s "
                 "ORDER BY given_at, feedback_id LIMIT %s OFFSET %s", (pair_id, limit, offset))


_COUNTS = {"notes": "SELECT count(*) FROM notes WHERE pair_id = %s",
           "feedback": "SELECT count(*) FROM feedback WHERE pair_id = %s"}


def count(conn: psycopg.Connection, texts: Literal["notes", "feedback"], pair_id: str) -> int:
    """How many notes, or how much feedback, the pair holds (for a page's ``total``)."""
    return int(conn.execute(_COUNTS[texts], (pair_id,)).fetchone()[0])


def objectives(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT * FROM objectives WHERE pair_id = %s "
                 "ORDER BY stated_at, objective_id", (pair_id,))


def objective_revisions(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT r.* FROM objective_revisions r JOIN objectives o "
                 "USING (objective_id) WHERE o.pair_id = %s ORDER BY r.objective_id, "
                 "r.revision", (pair_id,))


def objective_comments(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT * FROM objective_comments WHERE pair_id = %s "
                 "ORDER BY commented_at, comment_id", (pair_id,))


def action_items(conn: psycopg.Connection, pair_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT * FROM action_items WHERE pair_id = %s "
                 "ORDER BY added_at, action_item_id", (pair_id,))


# -- R7: cadence -------------------------------------------------------------------------


def cadence_candidates(conn: psycopg.Connection, today: date) -> list[str]:
    """Open, on-time pairs whose due day is past: the ones a check may flag.
    (An overdue pair is restored by a session, not by a check.)"""
    found = conn.execute("SELECT pair_id::text FROM pairs WHERE status = 'open' "
                         "AND NOT overdue AND due_on < %s ORDER BY due_on, pair_id",
                         (today,)).fetchall()
    return [r[0] for r in found]


def overdue_by_organisation(conn: psycopg.Connection) -> dict[str, int]:
    """Overdue open pairs per organisation with open pairs (0 included); a pair of
    two organisations counts for each."""
    found = conn.execute(
        """
        SELECT organisation_id::text, count(*) FILTER (WHERE overdue) FROM (
          SELECT mentor_organisation_id AS organisation_id, overdue FROM pairs
            WHERE status = 'open'
          UNION ALL
          SELECT mentee_organisation_id, overdue FROM pairs
            WHERE status = 'open' AND mentee_organisation_id <> mentor_organisation_id
        ) per_organisation GROUP BY organisation_id
        """).fetchall()
    return {organisation: n for organisation, n in found}


# -- the programme report's rows ----------------------------------------------------------


def report_pairs(conn: psycopg.Connection, organisation_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT pair_id::text, mentor_organisation_id::text, "
                 "mentee_organisation_id::text, status, overdue FROM pairs "
                 "WHERE mentor_organisation_id = %s OR mentee_organisation_id = %s",
                 (organisation_id, organisation_id))


def report_held_sessions(conn: psycopg.Connection,
                         organisation_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT s.pair_id::text, s.started_at FROM pair_sessions s "
                 "JOIN pairs p USING (pair_id) WHERE s.state = 'held' "
                 "AND (p.mentor_organisation_id = %s OR p.mentee_organisation_id = %s)",
                 (organisation_id, organisation_id))


def report_objectives(conn: psycopg.Connection, organisation_id: str) -> list[dict[str, Any]]:
    """Objectives proper (needs and expectations are not achieved, R4)."""
    return _rows(conn, "SELECT o.pair_id::text, o.achieved_at IS NOT NULL AS achieved "
                 "FROM objectives o JOIN pairs p USING (pair_id) WHERE o.kind = 'objective' "
                 "AND (p.mentor_organisation_id = %s OR p.mentee_organisation_id = %s)",
                 (organisation_id, organisation_id))


# -- the member directory (identity's members, for PairFormed) -------------------------------


def member_organisations(conn: psycopg.Connection, member_ids: list[str]) -> dict[str, str]:
    found = conn.execute("SELECT member_id::text, organisation_id::text FROM members "
                         "WHERE member_id = ANY(%s::uuid[])", (member_ids,)).fetchall()
    return {member: organisation for member, organisation in found}


def await_members(conn: psycopg.Connection, pair_id: str, mentor_id: str, mentee_id: str,
                  formed_at: Any) -> None:
    conn.execute("INSERT INTO pairs_awaiting_members (pair_id, mentor_id, mentee_id, "
                 "formed_at) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                 (pair_id, mentor_id, mentee_id, formed_at))


def awaiting_member(conn: psycopg.Connection, member_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT pair_id::text, mentor_id::text, mentee_id::text, formed_at "
                 "FROM pairs_awaiting_members WHERE mentor_id = %s OR mentee_id = %s "
                 "ORDER BY pair_id FOR UPDATE", (member_id, member_id))


def stop_awaiting(conn: psycopg.Connection, pair_id: str) -> bool:
    return bool(conn.execute("DELETE FROM pairs_awaiting_members WHERE pair_id = %s",
                             (pair_id,)).rowcount)
