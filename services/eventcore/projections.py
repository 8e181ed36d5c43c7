"""Read models built from events, which can be dropped and rebuilt from the store.

A projection owns its tables and knows how to apply one event to them. It is
fed live by a ``@domain_event_handler`` (from Kafka, in the handler's tracked
transaction) and rebuilt here from the event store, in one transaction, so a
reader never sees it half-built; the rebuilt tables equal the live ones because
both apply the same events, in each aggregate's order, through the same code.
"""

from __future__ import annotations

from typing import Protocol

import psycopg
from psycopg import sql

from services.eventcore.events import DomainEvent
from services.eventcore.store import EventStore


class Projection(Protocol):
    #: Tables the projection owns (dropped on rebuild).
    tables: tuple[str, ...]

    def create(self, conn: psycopg.Connection) -> None:
        """Create the projection's tables if missing."""

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        """Apply one event; events it does not care about are ignored."""


def drop(conn: psycopg.Connection, projection: Projection) -> None:
    for table in projection.tables:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))


def rebuild(conn: psycopg.Connection, projection: Projection, store: EventStore) -> int:
    """Drop the projection and replay every event of ``store`` into it; returns how many.

    Runs in the caller's transaction: commit to swap the rebuilt tables in.
    """
    drop(conn, projection)
    projection.create(conn)
    count = 0
    for recorded in store.read_all(conn):
        projection.apply(conn, DomainEvent.from_recorded(store.context, recorded))
        count += 1
    return count
