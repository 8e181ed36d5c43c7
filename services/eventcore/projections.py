"""Read models built from events, which can be dropped and rebuilt.

A projection owns its tables and knows how to apply one event to them. It is
fed live, either in the command's own transaction (a service's own events,
``UnitOfWork.append``) or by a ``@domain_event_handler`` (another context's
events, from Kafka, in the handler's tracked transaction). It is rebuilt here,
in one transaction so that a reader never sees it half-built, from the same
events through the same ``apply``:

- a service's own events come from its event store (``store_events``);
- another context's events come from that context's topic, read from the
  beginning to the end offsets of the moment (``topic_events``): the context
  topics keep every event (``retention.ms=-1``), they are the published log.

One aggregate's events keep their order in both sources (one stream; one
partition), which is all a projection may rely on.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.structs import TopicPartition
from psycopg import sql

from services.eventcore import topics
from services.eventcore.events import DomainEvent
from services.eventcore.store import Catalogue, EventStore


class Projection(Protocol):
    #: Tables the projection owns (dropped on rebuild).
    tables: tuple[str, ...]

    def create(self, conn: psycopg.Connection) -> None:
        """Create the projection's tables if missing."""

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        """Apply one event; events it does not care about are ignored."""


class EventProjection:
    """A projection whose ``apply`` calls its ``on_<EventName>(conn, event)`` method,
    if it has one: one method per event it cares about, the rest ignored."""

    tables: tuple[str, ...] = ()

    def create(self, conn: psycopg.Connection) -> None:
        raise NotImplementedError

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        handler = getattr(self, f"on_{event.name}", None)
        if handler is not None:
            handler(conn, event)


def drop(conn: psycopg.Connection, projection: Projection) -> None:
    for table in projection.tables:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))


def store_events(conn: psycopg.Connection, store: EventStore) -> Iterator[DomainEvent]:
    """Every event of ``store``, in global order, as consumers see them."""
    for recorded in store.read_all(conn):
        yield DomainEvent.from_recorded(store.context, recorded)


@dataclass(frozen=True)
class Consumed:
    """How far a service's consumers got: the offsets their group committed, and
    the events they marked handled (``processed_events``, never pruned; one
    database per service), which includes those handled since the last commit."""

    offsets: Mapping[TopicPartition, int]
    handled: Container[UUID]

    def includes(self, record: Any, event: DomainEvent) -> bool:
        committed = self.offsets.get(TopicPartition(record.topic, record.partition), 0)
        return record.offset < committed or event.event_id in self.handled


def consumed_by(conn: psycopg.Connection, bootstrap: str, group: str) -> Consumed:
    """What the service whose database ``conn`` is, consuming as ``group``, got to."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    offsets = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
    handled = {row[0] for row in conn.execute("SELECT DISTINCT event_id FROM processed_events")}
    return Consumed(offsets, handled)


def topic_events(
    bootstrap: str, topic: str, catalogue: Catalogue, poll_ms: int = 500,
    consumed: Consumed | None = None,
) -> Iterator[DomainEvent]:
    """Every event on ``topic`` up to its end offsets when called, each partition in
    its order, each event once: a topic may hold an event twice (the relay resends what it
    had sent when it crashed; a dead letter is replayed), and a rebuild applies it
    once, as the live consumers' idempotency does. What cannot be decoded is
    skipped (the live consumer dead-letters it).

    ``consumed`` (``consumed_by``): only what the consumers got to, before their
    committed offsets (a projection new to them is filled from there) or marked
    since. What came after is theirs to handle when they start; replayed here too,
    it was applied twice (review: a pair's minutes counted twice after a rebuild
    and a restart)."""
    from services.eventcore.consumer import decode

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    seen: set[object] = set()
    try:
        partitions = topics.partitions_of(consumer, topic)
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        for record in topics.read_until(consumer, ends, poll_ms):
            try:
                event = decode(record.value, catalogue)
            except (ValueError, TypeError, KeyError, RecursionError):
                continue
            if event.event_id in seen or (consumed is not None
                                           and not consumed.includes(record, event)):
                continue
            seen.add(event.event_id)
            yield event
    finally:
        consumer.close()


def rebuild(
    conn: psycopg.Connection, projection: Projection,
    source: EventStore | Iterable[DomainEvent],
) -> int:
    """Drop the projection and replay ``source`` into it; returns how many events.

    ``source`` is the service's own store or any iterable of events (chain
    ``store_events`` and ``topic_events`` for a projection fed by both). Runs in
    the caller's transaction: commit to swap the rebuilt tables in.
    """
    events = store_events(conn, source) if isinstance(source, EventStore) else source
    drop(conn, projection)
    projection.create(conn)
    count = 0
    for event in events:
        projection.apply(conn, event)
        count += 1
    return count
