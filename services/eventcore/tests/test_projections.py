"""A projection dropped and rebuilt from the event store equals the one built live."""

from __future__ import annotations

import threading
import uuid

import psycopg

from contracts import catalogue
from services.eventcore import kafka_clients, projections, schema
from services.eventcore.relay import OutboxRelay
from services.eventcore.store import EventStore
from services.eventcore.testing import wait_until
from services.eventcore.tests.conftest import HeldSessions
from services.eventcore.tests.factories import session_held


def snapshot(database_url: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT * FROM held_sessions ORDER BY pair_id").fetchall()


def test_a_projection_rebuilt_from_the_store_equals_the_live_one(settings, database_url, harness):
    # Commands append to the store; the relay publishes to the harness's topic;
    # the harness's consumer builds HeldSessions live from Kafka.
    with psycopg.connect(database_url, autocommit=True) as conn:
        schema.install(conn)
    store = EventStore("sessions", catalogue, topic=harness.topic)
    stop = threading.Event()
    relay = OutboxRelay("sessions", database_url, lambda: kafka_clients.producer(settings),
                        poll_interval=0.2)
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        pairs = [str(uuid.uuid4()) for _ in range(5)]
        with psycopg.connect(database_url) as conn:
            for version in range(6):
                for i, pair in enumerate(pairs):
                    minutes = 60 + (i * 7 + version * 5) % 61
                    held = session_held(pair, duration_minutes=minutes)
                    store.append(conn, pair, version, [held])
                conn.commit()
        wait_until(lambda: sum(n for _, n, _ in snapshot(database_url)) == 30
                   if _exists(database_url) else False, what="the live projection")
    finally:
        stop.set()
        thread.join(timeout=10)
    live = snapshot(database_url)
    assert len(live) == 5

    with psycopg.connect(database_url) as conn:
        replayed = projections.rebuild(conn, HeldSessions(), store)
        conn.commit()
    assert replayed == 30
    assert snapshot(database_url) == live


def _exists(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT to_regclass('held_sessions')").fetchone()[0] is not None
