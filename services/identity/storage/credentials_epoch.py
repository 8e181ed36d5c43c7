"""The credentials epoch: a counter advanced by every change of who may act.

A key revoked, a member excluded (R2) or erased: each advances it in the
change's own transaction, so its committed value moves exactly when such a change
commits, in commit order (the row lock serialises the writers). Identity
announces it every second (``credentials_epoch``); a gateway that hears a value
other than the last one it heard forgets everything it remembers, so a change
whose own ``credentials_changed`` broadcast was lost still reaches every
gateway within about a second (``services/gateway/actors.py``).

Not a projection: it counts changes, it holds no fact, and a rebuilt database
starting it again at 0 is simply another value (gateways compare, not order).
"""

from __future__ import annotations

import psycopg

DDL = """
CREATE TABLE IF NOT EXISTS credentials_epoch (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch       bigint NOT NULL
);
INSERT INTO credentials_epoch (epoch) VALUES (0) ON CONFLICT DO NOTHING;
"""


def install(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def advance(conn: psycopg.Connection) -> int:
    """Advance the epoch in the caller's transaction; its new value."""
    (epoch,) = conn.execute(
        "UPDATE credentials_epoch SET epoch = epoch + 1 RETURNING epoch").fetchone()
    return int(epoch)


def current(conn: psycopg.Connection) -> int:
    (epoch,) = conn.execute("SELECT epoch FROM credentials_epoch").fetchone()
    return int(epoch)
