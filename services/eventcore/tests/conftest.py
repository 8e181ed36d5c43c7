"""Fixtures of the event-core tests: a projecting nameko service on a test topic."""

from __future__ import annotations

import uuid

import eventlet
import psycopg
import pytest
from kafka import KafkaProducer

from contracts import catalogue
from services.eventcore import schema
from services.eventcore.consumer import domain_event_handler
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.events import DomainEvent
from services.eventcore.store import EventStore
from services.eventcore.testing import read_topic


class HeldSessions:
    """A projection: sessions held per pair, and the minutes they lasted."""

    tables = ("held_sessions",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS held_sessions ("
            " pair_id text PRIMARY KEY, sessions int NOT NULL, minutes int NOT NULL)"
        )

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        if event.name != "SessionHeld":
            return
        conn.execute(
            "INSERT INTO held_sessions (pair_id, sessions, minutes) VALUES (%s, 1, %s) "
            "ON CONFLICT (pair_id) DO UPDATE SET sessions = held_sessions.sessions + 1, "
            "minutes = held_sessions.minutes + EXCLUDED.minutes",
            (event.stream_id, event.data["duration_minutes"]),
        )


def _sessions_seen_from_outside(pair: str) -> int:
    """The projected session count of ``pair``, as another connection sees it."""
    with psycopg.connect(ProjectingService.watched_database) as conn:
        exists = conn.execute("SELECT to_regclass('held_sessions')").fetchone()[0]
        row = conn.execute("SELECT sessions FROM held_sessions WHERE pair_id = %s",
                           (pair,)).fetchone() if exists else None
    return row[0] if row else 0


class ProjectingService:
    name = "projecting"
    uow = UnitOfWorkProvider(catalogue)
    projection = HeldSessions()
    busy_seconds = 0.0
    cannot_cope_with_119 = True
    #: Set by a test: the database whose projection the on-commit action reads from a
    #: connection of its own; what it saw, per pair, is appended to ``seen_after_commit``.
    watched_database: str | None = None
    seen_after_commit: list[tuple[str, int]] = []

    @domain_event_handler("sessions", "SessionHeld")
    def on_session_held(self, event: DomainEvent) -> None:
        if event.data.get("duration_minutes") == 119 and ProjectingService.cannot_cope_with_119:
            raise RuntimeError("this handler cannot cope with 119 minutes")
        if ProjectingService.watched_database:
            with self.uow() as uow:
                uow.on_commit(lambda: ProjectingService.seen_after_commit.append(
                    (event.stream_id, _sessions_seen_from_outside(event.stream_id))))
                if event.data.get("duration_minutes") == 118:
                    raise RuntimeError("fails after asking for an action on commit")
        if ProjectingService.busy_seconds:
            eventlet.sleep(ProjectingService.busy_seconds)  # a slow, but alive, handler
        if event.data.get("duration_minutes") == 61:
            eventlet.sleep(1.5)  # one slow record: the next poll gets a full batch
        with self.uow() as uow:
            self.projection.create(uow.conn)
            self.projection.apply(uow.conn, event)


@pytest.fixture
def conn(database_url: str):
    """A connection to a fresh database with the event core's tables (not autocommit)."""
    with psycopg.connect(database_url, autocommit=True) as c:
        schema.install(c)
        c.autocommit = False
        yield c


@pytest.fixture
def store() -> EventStore:
    """The sessions context's store, on a topic nobody reads."""
    return EventStore("sessions", catalogue, topic="unused.events")


@pytest.fixture
def harness(settings, make_topic, database_url, container_factory):
    topic = make_topic("sessions-test", partitions=3)
    group = f"projecting-{uuid.uuid4().hex[:8]}"
    dead_letters = make_topic(name=f"{group}.dead-letter", partitions=1)
    config = {
        "AMQP_URI": settings.amqp_uri,
        "EVENTCORE": {
            "context": "sessions",
            "database_url": database_url,
            "consumer_group": group,
            "topics": {"sessions": topic},
            "max_attempts": 3,
            "retry_backoff": 0.05,
        },
    }
    container = container_factory(ProjectingService, config)
    container.start()
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")

    class Harness:
        def send(self, value: bytes, key: bytes = b"k", partition: int | None = None) -> None:
            producer.send(topic, key=key, value=value, partition=partition).get(timeout=10)

        def projection(self) -> dict[str, tuple[int, int]]:
            with psycopg.connect(database_url) as conn:
                exists = conn.execute("SELECT to_regclass('held_sessions')").fetchone()[0]
                if not exists:
                    return {}
                rows = conn.execute("SELECT pair_id, sessions, minutes FROM held_sessions")
                return {pair: (n, m) for pair, n, m in rows}

        def dead_letters(self, count: int):
            return read_topic(settings, dead_letters, until=lambda rs: len(rs) >= count)

    h = Harness()
    h.group, h.topic, h.container = group, topic, container
    yield h
    producer.close()
    ProjectingService.busy_seconds = 0.0
    ProjectingService.cannot_cope_with_119 = True
    ProjectingService.watched_database = None
    ProjectingService.seen_after_commit = []
