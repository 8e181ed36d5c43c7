"""Event store and relay against the bare stack, measured in the same run.

- append: ``EventStore.append`` (one event per transaction, outbox row and
  NOTIFY included) against a raw psycopg insert-and-commit of a row of the same
  size, both on one connection (fsync-bound: ~720/s on this kind of machine).
- relay: draining a pre-filled outbox to Kafka against a raw kafka-python
  producer sending the same payloads with the same settings (acks=all, idempotent).
- latency: commit to Kafka delivery at a steady 200 events/s, seen by a consumer;
- aggregate load: a sessions pair of 10, 100 and 500 events loaded by a unit of
  work, its whole stream replayed against its kept state brought up to date with
  one new event (``aggregate_cache``), alternately on one connection.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition

from contracts import catalogue, envelope
from contracts.examples import example
from services.eventcore import kafka_clients, schema
from services.eventcore.aggregate_cache import AggregateCache
from services.eventcore.database import UnitOfWork
from services.eventcore.events import NewEvent
from services.eventcore.relay import OutboxRelay
from services.eventcore.settings import Settings
from services.eventcore.store import EventStore
from services.eventcore.tests.factories import session_held
from services.sessions.domain import Pair

APPENDS = 3000
ROUNDS = 10
MESSAGES = 20000
RATE = 200
RATE_SECONDS = 10
#: Pair lengths (events) and loads of each, for the aggregate-load comparison.
LOAD_LENGTHS = (10, 100, 500)
LOADS = 40


def run(conf: Settings) -> dict[str, Any]:
    with _scratch(conf) as (database_url, topic):
        append = bench_append(database_url, topic)
        _report("append (1 event/txn, outbox included)", append)
        relay = bench_relay(conf, database_url, topic)
        _report("relay drain vs raw producer", relay)
        latency = bench_latency(conf, database_url, topic)
        print(f"commit-to-Kafka at {RATE}/s: p50 {latency['p50_ms']:.1f} ms, "
              f"p99 {latency['p99_ms']:.1f} ms, max {latency['max_ms']:.1f} ms "
              f"(target p99 < 50 ms)")
        loads = bench_aggregate_load(database_url, topic)
        for length, figures in loads.items():
            print(f"a pair of {length} events loaded: replayed {figures['replayed_us']:.0f} us; "
                  f"kept, brought up to date {figures['fast_forwarded_us']:.0f} us and kept "
                  f"again {figures['kept_us']:.0f} us (ratio {figures['ratio']:.2f})")
    return {"append": append, "relay": relay, "latency": latency, "aggregate_load": loads}


def _report(what: str, result: dict[str, Any]) -> None:
    print(f"{what}: ours {result['ours_per_s']:.0f}/s, baseline {result['baseline_per_s']:.0f}/s, "
          f"ratio {result['ratio']:.2f} (target >= {result['target']})")


class _scratch:
    """A database and a topic for the run, removed afterwards."""

    def __init__(self, conf: Settings) -> None:
        self.conf = conf
        self.name = f"bench_{uuid.uuid4().hex[:8]}"
        self.topic = f"bench.{self.name}"

    def __enter__(self) -> tuple[str, str]:
        with psycopg.connect(self.conf.database_url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        url = self.conf.database_url(self.name)
        with psycopg.connect(url, autocommit=True) as conn:
            schema.install(conn)
        self.admin = KafkaAdminClient(bootstrap_servers=self.conf.kafka_bootstrap)
        self.admin.create_topics([NewTopic(self.topic, 6, 1)])
        time.sleep(1.0)
        return url, self.topic

    def __exit__(self, *exc: object) -> None:
        self.admin.delete_topics([self.topic])
        self.admin.close()
        with psycopg.connect(self.conf.database_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _payload_size(topic: str) -> int:
    pair = str(uuid.uuid4())
    event = session_held(pair)
    ce = envelope.CloudEvent.new(context="sessions", name=event.name,
                                 version=catalogue.latest_version(event.name), subject=pair,
                                 data=dict(event.data), aggregate_version=1)
    return len(envelope.encode(ce))


def bench_append(database_url: str, topic: str) -> dict[str, Any]:
    """Alternating rounds of raw inserts and appends on one connection; the ratio of
    the median rounds. The machine's own noise (other servers, the relays' polls)
    moves both alike within a round, so the ratio holds where absolute rates drift."""
    size = _payload_size(topic)
    store = EventStore("sessions", catalogue, topic=topic)
    per_round = APPENDS // ROUNDS
    raw_rates: list[float] = []
    our_rates: list[float] = []
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE raw_rows (id bigserial PRIMARY KEY, payload bytea NOT NULL)")
        conn.commit()
        row = b"x" * size
        for _ in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(per_round):
                conn.execute("INSERT INTO raw_rows (payload) VALUES (%s)", (row,))
                conn.commit()
            raw_rates.append(per_round / (time.perf_counter() - started))

            pairs = [str(uuid.uuid4()) for _ in range(per_round)]
            events = [session_held(p) for p in pairs]
            started = time.perf_counter()
            for pair, event in zip(pairs, events, strict=True):
                store.append(conn, pair, 0, [event])
                conn.commit()
            our_rates.append(per_round / (time.perf_counter() - started))
        conn.execute("DELETE FROM outbox")
        conn.commit()
    ours, raw = statistics.median(our_rates), statistics.median(raw_rates)
    return {"ours_per_s": ours, "baseline_per_s": raw, "ratio": ours / raw, "target": 0.8,
            "events": per_round * ROUNDS, "rounds": ROUNDS, "row_bytes": size}


def bench_aggregate_load(database_url: str, topic: str) -> dict[int, dict[str, float]]:
    """The median time a unit of work takes to load a pair of ``length`` events, with
    no cache (the whole stream replayed) and with its kept state (``aggregate_cache``:
    the state at the last commit, plus the one event recorded since), alternately; the
    ratio counts what keeping the state again at commit costs too."""
    store = EventStore("sessions", catalogue, topic=topic)
    results: dict[int, dict[str, float]] = {}
    with psycopg.connect(database_url) as conn:
        for length in LOAD_LENGTHS:
            pair = str(uuid.uuid4())
            opened = {**example("PairOpened", 1), "pair_id": pair}
            store.append(conn, pair, 0, [NewEvent("PairOpened", opened)])
            for version in range(1, length, 100):
                held = [session_held(pair) for _ in range(min(100, length - version))]
                store.append(conn, pair, version, held)
            conn.commit()
            # Kept as a commit left it one event ago; never replaced (no commit below).
            history = store.load(conn, pair)
            cache = AggregateCache("sessions")
            cache.keep(Pair.replay(pair, history[:-1]), str(history[-2].event_id))
            timings: dict[str, list[float]] = {"replayed": [], "fast_forwarded": [], "kept": []}
            for _ in range(LOADS):
                for how, kept in (("replayed", None), ("fast_forwarded", cache)):
                    uow = UnitOfWork(conn, store, cache=kept)
                    started = time.perf_counter()
                    loaded = uow.get(Pair, pair)
                    timings[how].append(time.perf_counter() - started)
                    assert loaded is not None and loaded.version == length
                    conn.rollback()
                    if kept is not None:  # and what its commit costs: keeping it again
                        started = time.perf_counter()
                        AggregateCache("sessions").keep(loaded, str(history[-1].event_id))
                        timings["kept"].append(time.perf_counter() - started)
            replayed, forwarded, kept_again = (statistics.median(timings[h]) * 1e6
                                               for h in ("replayed", "fast_forwarded", "kept"))
            results[length] = {"replayed_us": replayed, "fast_forwarded_us": forwarded,
                               "kept_us": kept_again,
                               "ratio": (forwarded + kept_again) / replayed}
    return results


def bench_relay(conf: Settings, database_url: str, topic: str) -> dict[str, Any]:
    store = EventStore("sessions", catalogue, topic=topic)
    payloads: list[tuple[str, bytes]] = []
    with psycopg.connect(database_url) as conn:
        for i in range(MESSAGES):
            pair = str(uuid.uuid4())
            store.append(conn, pair, 0, [session_held(pair)])
            if i % 500 == 499:
                conn.commit()
        conn.commit()
        payloads = [(k, bytes(p)) for k, p in conn.execute(
            "SELECT message_key, payload FROM outbox ORDER BY id LIMIT 5000")]

    producer = kafka_clients.producer(conf)
    started = time.perf_counter()
    for i in range(MESSAGES):
        key, value = payloads[i % len(payloads)]
        producer.send(topic, key=key, value=value)
    producer.flush()
    raw = MESSAGES / (time.perf_counter() - started)
    producer.close()

    relay = OutboxRelay("sessions", database_url, lambda: kafka_clients.producer(conf))
    with psycopg.connect(database_url, autocommit=True) as conn:
        started = time.perf_counter()
        published = 0
        while published < MESSAGES:
            published += relay.publish_batch(conn)
        ours = MESSAGES / (time.perf_counter() - started)
    relay._close_producer()
    return {"ours_per_s": ours, "baseline_per_s": raw, "ratio": ours / raw, "target": 0.5,
            "messages": MESSAGES}


def bench_latency(conf: Settings, database_url: str, topic: str) -> dict[str, Any]:
    latency_topic = f"{topic}.latency"
    admin = KafkaAdminClient(bootstrap_servers=conf.kafka_bootstrap)
    admin.create_topics([NewTopic(latency_topic, 6, 1)])
    time.sleep(1.0)
    store = EventStore("sessions", catalogue, topic=latency_topic)
    committed: dict[str, float] = {}
    received: dict[str, float] = {}
    total = RATE * RATE_SECONDS

    consumer = KafkaConsumer(bootstrap_servers=conf.kafka_bootstrap, fetch_max_wait_ms=5)
    partitions = [TopicPartition(latency_topic, p) for p in range(6)]
    consumer.assign(partitions)
    consumer.seek_to_end(*partitions)
    for tp in partitions:
        consumer.position(tp)

    def consume() -> None:
        deadline = time.monotonic() + RATE_SECONDS + 30
        while len(received) < total and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=100).values():
                now = time.perf_counter()
                for record in batch:
                    received.setdefault(envelope.decode(record.value).id, now)

    # The relay runs as deployed: its own process, so that it does not share this
    # process's interpreter lock with the writer and the measuring consumer.
    relay = subprocess.Popen(
        [sys.executable, "-m", "services.eventcore.relay", "--context", "sessions",
         "--database", database_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    consumer_thread = threading.Thread(target=consume, daemon=True)
    consumer_thread.start()
    time.sleep(2.0)  # the relay connects, takes the lead and LISTENs
    with psycopg.connect(database_url) as conn:
        start = time.perf_counter()
        for i in range(total):
            pair = str(uuid.uuid4())
            event = session_held(pair)
            store.append(conn, pair, 0, [event])
            conn.commit()
            committed[str(event.event_id)] = time.perf_counter()
            pause = start + (i + 1) / RATE - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    consumer_thread.join()
    relay.terminate()
    relay.wait(timeout=10)
    consumer.close()
    admin.delete_topics([latency_topic])
    admin.close()
    latencies = sorted((received[k] - committed[k]) * 1000 for k in committed if k in received)
    return {
        "rate_per_s": RATE, "events": total, "delivered": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "max_ms": latencies[-1], "target_p99_ms": 50,
    }
