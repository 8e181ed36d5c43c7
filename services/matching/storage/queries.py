"""Reads over matching's read models, and the locks that make its limits hold.

Eligibility is the domain's (``domain.eligibility``): the queries return
``Candidate`` values built from the pool's facts and the callers decide with
them. SQL only narrows what is read (a mentor with no acceptance of the current
charter cannot be eligible, so she is not even loaded); it never decides alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from services.matching.domain.candidate import Candidate
from services.matching.storage.projections import OPEN

_CANDIDATE = """
SELECT m.member_id::text AS member_id, m.organisation_id::text AS organisation_id, m.role,
       m.fingerprint, m.languages, m.topics, m.preferred_modality, m.region, m.capacity,
       m.accepted_charter, m.erased, COALESCE(o.matching_scope, 'own') AS matching_scope,
       (EXISTS (SELECT 1 FROM pool_exclusions x WHERE x.fingerprint = m.fingerprint)
        OR EXISTS (SELECT 1 FROM pool_exclusions x WHERE x.member_id = m.member_id))
           AS excluded
FROM pool_members m
LEFT JOIN pool_organisations o ON o.organisation_id = m.organisation_id
"""

#: The open states as SQL (the partial indexes of ``pairs`` are on the same list).
_OPEN = "state IN (" + ", ".join(f"'{state}'" for state in OPEN) + ")"


def _candidate(row: dict[str, Any]) -> Candidate:
    return Candidate(
        member_id=row["member_id"], organisation_id=row["organisation_id"], role=row["role"],
        fingerprint=row["fingerprint"], languages=frozenset(row["languages"]),
        topics=frozenset(row["topics"]), preferred_modality=row["preferred_modality"],
        region=row["region"], capacity=row["capacity"], matching_scope=row["matching_scope"],
        accepted_charter=row["accepted_charter"], excluded=row["excluded"],
        erased=row["erased"],
    )


# -- the pool ----------------------------------------------------------------------------


def current_charter(conn: psycopg.Connection) -> int | None:
    """The last published charter version matching has read (R3)."""
    return conn.execute("SELECT max(charter_version) FROM pool_charter_versions").fetchone()[0]


def candidate(conn: psycopg.Connection, member_id: str) -> Candidate | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_CANDIDATE + "WHERE m.member_id = %s", (member_id,))
        row = cur.fetchone()
    return _candidate(row) if row else None


def same_person(conn: psycopg.Connection, fingerprint: str) -> list[str]:
    """Every registration of one person (one per role and organisation), by id."""
    rows = conn.execute("SELECT member_id::text FROM pool_members WHERE fingerprint = %s "
                        "ORDER BY member_id", (fingerprint,)).fetchall()
    return [r[0] for r in rows]


def visible_mentors(conn: psycopg.Connection, organisation_id: str,
                    charter: int | None) -> list[tuple[Candidate, int]]:
    """Mentors a mentee of ``organisation_id`` may be matched with, as candidates with
    their load (active and pending pairs): her organisation's, and those of
    organisations open to others (the index then keeps them only if hers is open
    too, and counts them under ``organisation_not_open`` otherwise). Only those who
    accepted the current charter are read; eligibility is the caller's to decide."""
    if charter is None:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "WITH loads AS (SELECT mentor_id, count(*) AS n FROM pairs WHERE " + _OPEN +
            " GROUP BY mentor_id) SELECT c.*, COALESCE(l.n, 0) AS load FROM (" + _CANDIDATE +
            "WHERE m.role = 'mentor' AND NOT m.erased AND m.capacity IS NOT NULL "
            "AND m.accepted_charter >= %s AND (m.organisation_id = %s "
            "OR o.matching_scope = 'open')) c LEFT JOIN loads l ON l.mentor_id = "
            "c.member_id::uuid ORDER BY c.member_id",
            (charter, organisation_id),
        )
        return [(_candidate(row), int(row["load"])) for row in cur.fetchall()]


def organisation_mentees(conn: psycopg.Connection, organisation_id: str) -> list[Candidate]:
    """The organisation's mentees, eligible or not (``cohort.intake`` decides)."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_CANDIDATE + "WHERE m.organisation_id = %s AND m.role = 'mentee' "
                    "AND NOT m.erased ORDER BY m.member_id", (organisation_id,))
        return [_candidate(row) for row in cur.fetchall()]


def pool_sizes(conn: psycopg.Connection) -> dict[tuple[str, str], int]:
    """``{(organisation_id, role): eligible members}``, for the pool-size gauge: the
    rules of ``domain.eligibility`` (not erased, not excluded, current charter)."""
    rows = conn.execute(
        "SELECT m.organisation_id::text, m.role, count(*) FROM pool_members m "
        "WHERE NOT m.erased AND m.accepted_charter >= "
        "(SELECT max(charter_version) FROM pool_charter_versions) "
        "AND NOT EXISTS (SELECT 1 FROM pool_exclusions x WHERE x.fingerprint = m.fingerprint) "
        "AND NOT EXISTS (SELECT 1 FROM pool_exclusions x WHERE x.member_id = m.member_id) "
        "GROUP BY 1, 2").fetchall()
    return {(org, role): n for org, role, n in rows}


# -- locks: what makes "one pair per mentee" and "never over capacity" hold ----------------


def lock(conn: psycopg.Connection, member_ids: Iterable[str]) -> None:
    """Transaction locks on these members, always taken in id order (two
    transactions locking overlapping sets never wait on each other in a cycle).

    Held until commit: a second proposal for the same mentor (or mentee) waits, then
    counts the first one, which is committed by then (READ COMMITTED reads anew at
    each statement). An advisory lock, not a unique index: a projection must replay
    any history, including one written before a rule.
    """
    for member_id in sorted(set(member_ids)):
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                     (f"matching:member:{member_id}",))


def open_loads(conn: psycopg.Connection) -> dict[str, int]:
    """Every mentor's active and pending pairs, for those who have any."""
    rows = conn.execute("SELECT mentor_id::text, count(*) FROM pairs WHERE " + _OPEN +
                        " GROUP BY 1").fetchall()
    return {mentor: int(n) for mentor, n in rows}


def mentor_loads(conn: psycopg.Connection, mentor_ids: Iterable[str]) -> dict[str, int]:
    """Each mentor's active and pending pairs (0 when none)."""
    ids = sorted(set(mentor_ids))
    rows = conn.execute("SELECT mentor_id::text, count(*) FROM pairs WHERE " + _OPEN +
                        " AND mentor_id = ANY(%s::uuid[]) GROUP BY 1", (ids,)).fetchall()
    found = dict(rows)
    return {m: int(found.get(m, 0)) for m in ids}


def mentee_open_pairs(conn: psycopg.Connection, mentee_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(mentee_ids))
    rows = conn.execute("SELECT mentee_id::text, count(*) FROM pairs WHERE " + _OPEN +
                        " AND mentee_id = ANY(%s::uuid[]) GROUP BY 1", (ids,)).fetchall()
    found = dict(rows)
    return {m: int(found.get(m, 0)) for m in ids}


def busy_mentees(conn: psycopg.Connection, organisation_id: str) -> list[str]:
    """The organisation's mentees with an active or pending pair."""
    rows = conn.execute("SELECT DISTINCT mentee_id::text FROM pairs WHERE " + _OPEN +
                        " AND mentee_organisation_id = %s", (organisation_id,)).fetchall()
    return [r[0] for r in rows]


# -- pairs -------------------------------------------------------------------------------


def open_pairs_of(conn: psycopg.Connection, member_ids: Iterable[str]) -> list[str]:
    ids = sorted(set(member_ids))
    rows = conn.execute("SELECT pair_id::text FROM pairs WHERE " + _OPEN +
                        " AND (mentor_id = ANY(%s::uuid[]) OR mentee_id = ANY(%s::uuid[])) "
                        "ORDER BY pair_id", (ids, ids)).fetchall()
    return [r[0] for r in rows]


def due_proposals(conn: psycopg.Connection, now: datetime, limit: int) -> list[str]:
    """Pending proposals whose answer time is over, oldest first."""
    rows = conn.execute("SELECT pair_id::text FROM pairs WHERE state = 'proposed' "
                        "AND expires_at <= %s ORDER BY expires_at, pair_id LIMIT %s",
                        (now, limit)).fetchall()
    return [r[0] for r in rows]


_PAIR = """
SELECT pair_id::text, mentor_id::text, mentee_id::text,
       mentor_organisation_id::text, mentee_organisation_id::text, source,
       cohort_id::text, score, state, accepted_by::text[] AS accepted_by, proposed_at,
       expires_at, formed_at, closed_at, close_reason, closed_by::text, version
FROM pairs
"""


def pair(conn: psycopg.Connection, pair_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_PAIR + "WHERE pair_id = %s", (pair_id,))
        return cur.fetchone()


def pairs(conn: psycopg.Connection, *, organisation_id: str, member_id: str | None,
          state: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The pairs a member is in, or those of an organisation's members (either side)."""
    if member_id is not None:
        conditions = ["(mentor_id = %s OR mentee_id = %s)"]
        params: list[Any] = [member_id, member_id]
    else:
        conditions = ["(mentee_organisation_id = %s OR mentor_organisation_id = %s)"]
        params = [organisation_id, organisation_id]
    if state:
        conditions.append("state = %s")
        params.append(state)
    where = " WHERE " + " AND ".join(conditions)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_PAIR + where + " ORDER BY proposed_at DESC, pair_id LIMIT %s OFFSET %s",
                    (*params, limit, offset))
        rows = cur.fetchall()
        cur.execute("SELECT count(*) AS n FROM pairs" + where, params)
        total = cur.fetchone()["n"]
    return rows, total
