"""The transactional outbox and its relay, against real PostgreSQL and Kafka.

The guarantee: an event is on Kafka if and only if its command committed; none
skipped, none reordered within an aggregate, even with concurrent writers that
commit out of order and a relay killed at any instant (duplicates are allowed
across a crash only).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest

from contracts import catalogue, envelope
from services.eventcore import kafka_clients, schema
from services.eventcore.relay import OutboxRelay
from services.eventcore.store import ConcurrencyConflict, EventStore
from services.eventcore.testing import read_topic, wait_until
from services.eventcore.tests.factories import session_held

ROOT = Path(__file__).resolve().parents[3]


def append_with_retry(database_url: str, store: EventStore, pair: str) -> str:
    """One command: load the version, append one event, commit; retry on conflict."""
    while True:
        with psycopg.connect(database_url) as conn:
            event = session_held(pair)
            try:
                store.append(conn, pair, store.version(conn, pair), [event])
                conn.commit()
                return str(event.event_id)
            except ConcurrencyConflict:
                conn.rollback()


def decoded(records) -> list[envelope.CloudEvent]:
    return [envelope.decode(r.value) for r in records]


def assert_per_aggregate_order(records) -> None:
    """Within each aggregate, first occurrences come in version order, with no gap."""
    seen: set[str] = set()
    versions: dict[str, list[int]] = defaultdict(list)
    for record, event in zip(records, decoded(records), strict=True):
        assert record.key.decode() == event.subject, "Kafka key = aggregate id"
        if event.id in seen:
            continue
        seen.add(event.id)
        versions[event.subject].append(event.aggregateversion)
    for subject, found in versions.items():
        assert found == list(range(1, len(found) + 1)), f"aggregate {subject}: {found}"


@pytest.fixture
def topic(make_topic) -> str:
    return make_topic("relay", partitions=6)


@pytest.fixture
def store(topic: str, database_url: str) -> EventStore:
    with psycopg.connect(database_url, autocommit=True) as conn:
        schema.install(conn)
    return EventStore("sessions", catalogue, topic=topic)


@pytest.fixture
def relay(settings, database_url):
    """An in-process relay on the test database, stopped at the end."""
    stop = threading.Event()
    relay = OutboxRelay("sessions", database_url, lambda: kafka_clients.producer(settings),
                        poll_interval=0.2)
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    yield relay
    stop.set()
    thread.join(timeout=10)


def test_concurrent_writers_every_event_published_exactly_once_in_aggregate_order(
    settings, database_url, store, topic, relay
):
    pairs = [str(uuid.uuid4()) for _ in range(20)]
    committed: list[str] = []
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            event_id = append_with_retry(database_url, store, rng.choice(pairs))
            with lock:
                committed.append(event_id)

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    assert len(committed) == 480

    records = read_topic(settings, topic, until=lambda rs: len(rs) >= 480)
    ids = [e.id for e in decoded(records)]
    assert len(ids) == 480, "no duplicate without a crash"
    assert set(ids) == set(committed), "every committed event, nothing else"
    assert_per_aggregate_order(records)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_a_transaction_committing_after_a_later_one_is_not_skipped(
    settings, database_url, store, topic, relay
):
    """The classic outbox gap: A takes the lower id, B commits first, the relay
    publishes B; A's row must still be found when A commits."""
    a_pair, b_pair = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(database_url) as a, psycopg.connect(database_url) as b:
        store.append(a, a_pair, 0, [session_held(a_pair)])  # holds the lower ids
        store.append(b, b_pair, 0, [session_held(b_pair)])
        b.commit()
        first = read_topic(settings, topic, until=lambda rs: len(rs) >= 1)
        assert [e.subject for e in decoded(first)] == [b_pair]
        a.commit()
    both = read_topic(settings, topic, until=lambda rs: len(rs) >= 2)
    assert sorted(e.subject for e in decoded(both)) == sorted([a_pair, b_pair])


def test_a_rolled_back_command_publishes_nothing(settings, database_url, store, topic, relay):
    rolled, kept = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(database_url) as conn:
        store.append(conn, rolled, 0, [session_held(rolled)])
        conn.rollback()
        store.append(conn, kept, 0, [session_held(kept)])
        conn.commit()
    # The relay publishes in outbox order and the rolled-back rows came first:
    # had they been kept, they would be read before ``kept``.
    records = read_topic(settings, topic, until=lambda rs: len(rs) >= 1)
    assert [e.subject for e in decoded(records)] == [kept]


class _BatchRecordingRelay(OutboxRelay):
    """The relay, noting when each batch that sent something began, and its size."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[tuple[float, int]] = []

    def publish_batch(self, conn: psycopg.Connection) -> int:
        began = time.monotonic()
        sent = super().publish_batch(conn)
        if sent:
            self.batches.append((began, sent))
        return sent


def test_a_commit_after_a_quiet_spell_goes_at_once_and_a_stream_is_batched(
    settings, database_url, store, topic
):
    """The linger batches a stream of commits; a lone one does not wait for it."""
    linger = 2.0  # long enough that waiting it or not cannot be mistaken
    # Woken by its poll rather than a commit, the relay sends what it finds without
    # the linger: a poll between the stream's two commits would split them. Polls
    # a second apart, and the two commits a millisecond apart, leave that to chance
    # about once in a thousand runs; the stop is still seen within a second.
    relay = _BatchRecordingRelay("sessions", database_url,
                                 lambda: kafka_clients.producer(settings),
                                 poll_interval=1.0, linger=linger)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()

    def commit(count: int = 1) -> float:
        """``count`` commands, one transaction each, back to back; when the last committed."""
        with psycopg.connect(database_url) as conn:
            for _ in range(count):
                pair = str(uuid.uuid4())
                store.append(conn, pair, 0, [session_held(pair)])
                conn.commit()
        return time.monotonic()

    try:
        commit()  # the relay has led, and sent, once
        wait_until(lambda: len(relay.batches) == 1, what="the first batch")
        time.sleep(linger + 0.5)  # a quiet spell

        lone_committed = commit()
        wait_until(lambda: len(relay.batches) == 2, what="the lone commit's batch")
        lone_sent, size = relay.batches[1]
        assert size == 1
        assert lone_sent - lone_committed < linger, "a lone commit went without the linger"

        commit(2)  # a stream: both within the linger of that batch
        wait_until(lambda: len(relay.batches) == 3, what="the stream's batch")
        stream_sent, size = relay.batches[2]
        assert size == 2, "the stream's commits went in one batch"
        assert stream_sent - lone_sent >= linger, "the stream waited out the linger"
    finally:
        stop.set()
        thread.join(timeout=10)
    records = read_topic(settings, topic, until=lambda rs: len(rs) >= 4)
    assert len(records) == 4


def start_relay_process(database_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.eventcore.relay", "--context", "sessions",
             "--database", database_url, "--poll-interval", "0.2", "--batch-size", "50"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )


@pytest.mark.slow
def test_relay_killed_with_sigkill_mid_stream_loses_nothing(
    settings, database_url, store, topic, tmp_path
):
    pairs = [str(uuid.uuid4()) for _ in range(30)]
    committed: list[str] = []
    done = threading.Event()

    def writer() -> None:
        rng = random.Random(7)
        for _ in range(1500):
            committed.append(append_with_retry(database_url, store, rng.choice(pairs)))
        done.set()

    log = tmp_path / "relay.log"
    relay = start_relay_process(database_url, log)
    writing = threading.Thread(target=writer)
    writing.start()
    rng = random.Random(11)
    kills = 0
    try:
        while kills < 4:
            time.sleep(rng.uniform(0.5, 1.5))
            relay.send_signal(signal.SIGKILL)
            relay.wait()
            kills += 1
            relay = start_relay_process(database_url, log)
        writing.join()
        assert done.is_set() and len(committed) == 1500

        def outbox_empty() -> bool:
            with psycopg.connect(database_url) as conn:
                return conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0

        wait_until(outbox_empty, timeout=60, what="the restarted relay to drain the outbox")
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=15)

    records = read_topic(settings, topic, until=lambda rs: len({r.value for r in rs}) >= 1500)
    ids = {e.id for e in decoded(records)}
    assert ids == set(committed), f"{len(set(committed) - ids)} committed events never published"
    assert_per_aggregate_order(records)
    published_before_kill = log.read_text().count("leading")
    assert published_before_kill == kills + 1, "each relay process took the lead once"
