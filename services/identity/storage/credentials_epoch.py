"""The credentials epoch: a counter advanced by every change of who may act.

A key revoked, a member excluded (R2) or erased: each advances it in the
change's own transaction, so its committed value moves exactly when such a change
commits, in commit order (the row lock serialises the writers; each change takes
it last, just before its commit, so that it is held for no longer than that).
Identity announces it every second (``credentials_epoch``); a gateway that hears a
value other than the last one it heard forgets everything, so a change whose own
``credentials_changed`` broadcast was lost still reaches every gateway within
about a second (``services/gateway/actors.py``).

The value announced is the database's incarnation (drawn when the row is first
written) with the counter: a database created anew, whose counter starts again
at 0, never announces a value a gateway heard from the old one. Not a projection:
it counts changes and holds no fact; a projection rebuild does not rebuild it, it
advances it (``storage/projections.py``: ``AFTER_REBUILD``).
"""

from __future__ import annotations

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS credentials_epoch (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    incarnation  uuid NOT NULL DEFAULT gen_random_uuid(),
    epoch        bigint NOT NULL
);
INSERT INTO credentials_epoch (epoch) VALUES (0) ON CONFLICT DO NOTHING;
"""


def install(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def advance(conn: psycopg.Connection) -> None:
    """Advance the epoch in the caller's transaction (the row written if missing:
    an exclusion must never fail for want of it)."""
    conn.execute("INSERT INTO credentials_epoch (epoch) VALUES (1) ON CONFLICT (singleton) "
                 "DO UPDATE SET epoch = credentials_epoch.epoch + 1")


def current(conn: psycopg.Connection) -> str:
    """``incarnation/epoch``, as announced: compared by gateways, never ordered."""
    row = conn.execute("SELECT incarnation::text || '/' || epoch FROM credentials_epoch"
                       ).fetchone()
    return row[0] if row else "none"
