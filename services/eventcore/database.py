"""Connections to a service's database, and the unit of work a nameko worker gets.

A command handler does ``with self.uow() as uow: ...``: everything it appends
and writes commits together or not at all. A Kafka event handler gets, through
the same call, the transaction its entrypoint opened to record the event as
processed, so that the projection write and the idempotency mark are one
commit (see ``consumer``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from nameko.extensions import DependencyProvider, SharedExtension
from psycopg_pool import ConnectionPool

from services.eventcore import schema, service_config
from services.eventcore.events import NewEvent, RecordedEvent
from services.eventcore.store import Catalogue, EventStore


class Database:
    """A pool of connections to one database, safe under eventlet.

    Its waits go through ``wait_select`` (set in ``services.eventcore``), so a
    slow query parks only its own green thread.
    """

    def __init__(self, conninfo: str, max_size: int = 10) -> None:
        self.conninfo = conninfo
        self._pool = ConnectionPool(
            conninfo, min_size=1, max_size=max_size, open=False, timeout=30,
            kwargs={"autocommit": False},
        )

    def open(self) -> None:
        self._pool.open(wait=True, timeout=30)
        with self._pool.connection() as conn:
            conn.autocommit = True
            try:
                schema.install(conn)
            finally:
                conn.autocommit = False

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside a transaction: committed on exit, rolled back on error."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn


class UnitOfWork:
    """One transaction on a service's database, with its event store at hand."""

    def __init__(self, conn: psycopg.Connection, store: EventStore) -> None:
        self.conn = conn
        self.store = store

    def append(
        self, stream_id: str, expected_version: int, events: list[NewEvent],
        partner_org: str | None = None,
    ) -> list[RecordedEvent]:
        return self.store.append(self.conn, stream_id, expected_version, events, partner_org)

    def load(self, stream_id: str) -> list[RecordedEvent]:
        return self.store.load(self.conn, stream_id)

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor:
        return self.conn.execute(query, params)


class DatabasePools(SharedExtension):
    """One pool per database URL per service container, shared by its extensions."""

    def __init__(self) -> None:
        self._pools: dict[str, Database] = {}
        self._lock = threading.Lock()

    def get(self, conninfo: str) -> Database:
        with self._lock:
            database = self._pools.get(conninfo)
            if database is None:
                database = Database(conninfo)
                database.open()
                self._pools[conninfo] = database
            return database

    def stop(self) -> None:
        with self._lock:
            for database in self._pools.values():
                database.close()
            self._pools.clear()

    def kill(self) -> None:
        self.stop()


class UnitOfWorkProvider(DependencyProvider):
    """``uow = UnitOfWorkProvider(catalogue)``; in a worker: ``with self.uow() as uow:``."""

    pools = DatabasePools()

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def setup(self) -> None:
        self.config = service_config.from_container(
            self.container.config, self.container.service_name
        )
        self.store = EventStore(
            self.config.context, self.catalogue, topic=self.config.topic(self.config.context)
        )

    def start(self) -> None:
        self.database = self.pools.get(self.config.database_url)

    def get_dependency(self, worker_ctx: Any) -> Any:
        tracked = getattr(worker_ctx.entrypoint, "tracked_transaction", None)

        @contextmanager
        def unit_of_work() -> Iterator[UnitOfWork]:
            conn = tracked(worker_ctx) if tracked is not None else None
            if conn is not None:
                # Inside a Kafka event handler: its entrypoint commits, together
                # with the idempotency mark (``consumer``).
                yield UnitOfWork(conn, self.store)
                return
            with self.database.transaction() as conn:
                yield UnitOfWork(conn, self.store)

        return unit_of_work
