"""Connections to a service's database, and the unit of work a nameko worker gets.

A command handler does ``with self.uow() as uow: ...``: everything it appends
and writes commits together or not at all. A Kafka event handler gets, through
the same call, the transaction its entrypoint opened to record the event as
processed, so that the projection write and the idempotency mark are one
commit (see ``consumer``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import eventlet.event
import psycopg
from nameko.extensions import DependencyProvider, SharedExtension
from psycopg_pool import ConnectionPool

from services.eventcore import commands, schema, service_config
from services.eventcore.aggregate import Aggregate
from services.eventcore.aggregate_cache import AggregateCache
from services.eventcore.events import DomainEvent, NewEvent, RecordedEvent
from services.eventcore.projections import Projection
from services.eventcore.store import Catalogue, ConcurrencyConflict, EventStore

log = logging.getLogger("eventcore.database")

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


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


class AppendHook(Protocol):
    """Something a service does around every append, in the append's transaction
    (moderation hash-chains its log: it locks the chain's head before the store
    allocates positions, and links the recorded events after)."""

    def create(self, conn: psycopg.Connection) -> None:
        """Create the hook's tables if missing (at service start)."""

    def before_append(self, conn: psycopg.Connection) -> None: ...

    def after_append(self, conn: psycopg.Connection, recorded: list[RecordedEvent]) -> None: ...


class UnitOfWork:
    """One transaction on a service's database, with its event store at hand.

    Events appended here are applied, in the same transaction, to the service's
    own projections: a command's read model is never behind its commit, and the
    same ``apply`` rebuilds it from the store (``projections.rebuild``).
    """

    def __init__(
        self, conn: psycopg.Connection, store: EventStore,
        projections: Sequence[Projection] = (), hooks: Sequence[AppendHook] = (),
        cache: AggregateCache | None = None,
    ) -> None:
        self.conn = conn
        self.store = store
        self.projections = projections
        self.hooks = hooks
        self.cache = cache
        self.committed: list[Callable[[], None]] = []
        #: The aggregates this unit of work loaded or saved (by ``id()``), with the
        #: id of the last event each holds: kept in the cache once committed.
        self._held: dict[int, tuple[Aggregate, str]] = {}

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this unit of work has committed (never if it rolls back):
        what tells the world about a change must not outrun it."""
        self.committed.append(action)

    def append(
        self, stream_id: str, expected_version: int, events: list[NewEvent],
        partner_org: str | None = None,
    ) -> list[RecordedEvent]:
        for hook in self.hooks:
            hook.before_append(self.conn)
        recorded = self.store.append(self.conn, stream_id, expected_version, events, partner_org)
        for hook in self.hooks:
            hook.after_append(self.conn, recorded)
        for event in recorded:
            domain_event = DomainEvent.from_recorded(self.store.context, event)
            for projection in self.projections:
                projection.apply(self.conn, domain_event)
        return recorded

    def load(self, stream_id: str) -> list[RecordedEvent]:
        return self.store.load(self.conn, stream_id)

    def get(self, kind: type[A], aggregate_id: str) -> A | None:
        """The aggregate as its stream leaves it, ``None`` if it has no event: a kept
        state brought up to date when the cache has one (``aggregate_cache``), the
        whole stream replayed otherwise."""
        cache = self.cache
        found = cache.find(kind, aggregate_id) if cache is not None else None
        if found is not None:
            aggregate, kept = found
            # From the kept version itself: its event must still be there, the same.
            since = self.store.load(self.conn, aggregate_id, after_version=kept.version - 1)
            if since and since[0].stream_version == kept.version \
                    and str(since[0].event_id) == kept.last_event_id:
                aggregate.catch_up(since[1:])
                cache.count(kind, "fast_forwarded")
                if len(since) > 1:  # else what is kept is this already (``save`` holds it)
                    self._hold(aggregate, str(since[-1].event_id))
                return aggregate
            cache.forget(kind, aggregate_id)
            cache.count(kind, "stale")
        history = self.store.load(self.conn, aggregate_id)
        if not history:
            return None
        if cache is not None and found is None:
            cache.count(kind, "replayed")
        aggregate = kind.replay(aggregate_id, history)
        self._hold(aggregate, str(history[-1].event_id))
        return aggregate

    def save(self, aggregate: Aggregate) -> list[RecordedEvent]:
        """Append what the aggregate decided, expecting the version it was loaded at
        (``ConcurrencyConflict`` if another writer got there first)."""
        events = aggregate.collect()
        if not events:
            return []
        try:
            recorded = self.append(aggregate.id, aggregate.version, events,
                                   aggregate.partner_org)
        except BaseException:
            # Its state holds the decisions, the log does not, nor its pending list any
            # more: a caller that catches this and commits must not have it kept.
            aggregate.diverged = True
            raise
        aggregate.version = recorded[-1].stream_version
        self._hold(aggregate, str(recorded[-1].event_id))
        return recorded

    def _hold(self, aggregate: Aggregate, last_event_id: str) -> None:
        """Keep ``aggregate`` in the cache once this unit of work commits, as it is then."""
        if self.cache is None:
            return
        if id(aggregate) not in self._held:
            cache = self.cache
            self.on_commit(lambda: cache.keep(*self._held[id(aggregate)]))
        self._held[id(aggregate)] = (aggregate, last_event_id)

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor:
        return self.conn.execute(query, params)


def run_committed(actions: Sequence[Callable[[], None]]) -> None:
    """The on-commit actions of a committed unit of work. One that fails is logged:
    the change is committed whatever it says."""
    for action in actions:
        try:
            action()
        except Exception:
            log.exception("an action after commit failed (the commit stands)")


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
    """``uow = UnitOfWorkProvider(catalogue, projections)``; in a worker::

        with self.uow() as uow:            # one transaction
            ...
        self.uow.run(decide)               # decide(uow) in a transaction, retried
                                           # on a concurrency conflict
    """

    pools = DatabasePools()

    def __init__(self, catalogue: Catalogue, projections: Sequence[Projection] = (),
                 hooks: Sequence[AppendHook] = (),
                 tables: Sequence[Callable[[psycopg.Connection], None]] = ()) -> None:
        """``tables``: installers of what the service keeps besides events and
        projections (accounts, reference texts), run at start like the rest."""
        self.catalogue = catalogue
        self.projections = tuple(projections)
        self.hooks = tuple(hooks)
        self.tables = tuple(tables)

    def setup(self) -> None:
        self.config = service_config.from_container(
            self.container.config, self.container.service_name
        )
        self.store = EventStore(
            self.config.context, self.catalogue, topic=self.config.topic(self.config.context)
        )
        self.cache = AggregateCache(self.config.context, self.config.aggregate_cache_mib * 2**20)
        # nameko starts every extension at once: an RPC consumer may hand a worker a
        # call before this provider has opened its pool. Workers wait for it.
        self.ready = eventlet.event.Event()

    def start(self) -> None:
        self.database = self.pools.get(self.config.database_url)
        self._install()
        self.ready.send(True)

    def _install(self) -> None:
        with self.database.transaction() as conn:
            for projection in self.projections:
                projection.create(conn)
            for hook in self.hooks:
                hook.create(conn)
            for install in self.tables:
                install(conn)
            commands.prune(conn)

    def unit_of_work(self, conn: psycopg.Connection) -> UnitOfWork:
        return UnitOfWork(conn, self.store, self.projections, self.hooks, self.cache)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return _UnitsOfWork(self, worker_ctx)


class _UnitsOfWork:
    """What a worker gets: a factory of units of work, and ``run`` with retries."""

    def __init__(self, provider: UnitOfWorkProvider, worker_ctx: Any) -> None:
        self._provider = provider
        self._worker_ctx = worker_ctx
        # The command this worker applies, until one of its units of work committed
        # the mark (later ones in the same worker are part of the same command). Asked
        # of the entrypoint at the first unit of work, in the service method: a fault
        # there is the method's to answer, where during injection it would leave its
        # caller waiting for an answer that never comes.
        self._unmarked_command: commands.Command | None = None
        self._command_asked = False

    def _tracked(self) -> psycopg.Connection | None:
        """The Kafka handler's transaction this worker runs in, if it is one."""
        tracked = getattr(self._worker_ctx.entrypoint, "tracked_transaction", None)
        return tracked(self._worker_ctx) if tracked is not None else None

    @contextmanager
    def __call__(self) -> Iterator[UnitOfWork]:
        provider = self._provider
        provider.ready.wait()
        conn = self._tracked()
        if conn is not None:
            # Inside a Kafka event handler: its entrypoint commits, together
            # with the idempotency mark, then runs the on-commit actions (``consumer``).
            uow = provider.unit_of_work(conn)
            yield uow
            self._worker_ctx.entrypoint.defer_until_commit(self._worker_ctx, uow.committed)
            return
        if not self._command_asked:
            self._unmarked_command = commands.command_of(self._worker_ctx)
            self._command_asked = True
        command = self._unmarked_command
        with provider.database.transaction() as conn:
            if command is not None:
                commands.mark_applied(conn, command)  # first: nothing decided twice
            uow = provider.unit_of_work(conn)
            yield uow
            if command is not None and command.keyed:
                commands.stamp_committing(conn, command)
        self._unmarked_command = None
        if command is not None and command.keyed:
            self._worker_ctx.entrypoint.keep_reply(
                self._worker_ctx, lambda answer: self._keep_reply(command, answer))
        run_committed(uow.committed)

    def _keep_reply(self, command: commands.Command, answer: Any) -> None:
        """A keyed command's answer, for its retries. Not kept (an answer that is not
        JSON), it is said lost; the database gone, ``ANSWER_DEADLINE`` will say it."""
        for kept in (answer, commands.ANSWER_LOST):
            try:
                with self._provider.database.transaction() as conn:
                    commands.keep_reply(conn, command, kept)
                return
            except Exception:
                log.exception("the answer of command %s was not kept", command.id)

    @contextmanager
    def aside(self) -> Iterator[UnitOfWork]:
        """A unit of work beside the command this worker applies: it neither takes nor
        uses up the command's mark (``commands``). For reading or keeping reference
        data before the command decides; a redelivery must still decide afresh."""
        provider = self._provider
        provider.ready.wait()
        with provider.database.transaction() as conn:
            uow = provider.unit_of_work(conn)
            yield uow
        run_committed(uow.committed)

    def run(self, decide: Callable[[UnitOfWork], T], attempts: int = 3) -> T:
        """``decide(uow)`` in a fresh transaction, again from scratch (reloading
        every aggregate) when another writer got there first; the last conflict
        is raised if every attempt lost. Inside a Kafka handler, each attempt is a
        savepoint of the handler's transaction: a lost attempt leaves nothing."""
        in_handler = self._tracked() is not None
        for attempt in range(1, attempts + 1):
            try:
                with self() as uow:
                    if not in_handler:
                        return decide(uow)
                    with uow.conn.transaction():
                        return decide(uow)
            except ConcurrencyConflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")
