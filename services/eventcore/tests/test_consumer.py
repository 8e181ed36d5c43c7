"""``@domain_event_handler`` in a real nameko container fed by real Kafka."""

from __future__ import annotations

import uuid

import eventlet
import psycopg
import pytest
from kafka import KafkaAdminClient
from kafka.structs import TopicPartition
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from contracts import envelope
from services.eventcore.consumer import DomainEventHandler
from services.eventcore.testing import read_topic, wait_until
from services.eventcore.tests.conftest import ProjectingService
from services.eventcore.tests.factories import held_cloud_event, held_v1_cloud_event


def test_a_redelivered_event_changes_the_projection_once(harness):
    pair = str(uuid.uuid4())
    raw = envelope.encode(held_cloud_event(pair, version=1, minutes=90))
    harness.send(raw, key=pair.encode())
    harness.send(raw, key=pair.encode())  # the same event again (a redelivery)
    harness.send(envelope.encode(held_cloud_event(pair, version=2, minutes=60)), pair.encode())

    wait_until(lambda: harness.projection().get(pair) == (2, 150), what="both sessions projected")
    eventlet.sleep(1.0)
    assert harness.projection()[pair] == (2, 150), "the duplicate changed nothing"


def test_a_poison_message_is_dead_lettered_and_the_next_one_processed(harness):
    pair = str(uuid.uuid4())
    harness.send(b"\x00 this is not a CloudEvent", key=pair.encode())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=75)), pair.encode())

    wait_until(lambda: harness.projection().get(pair) == (1, 75), what="the next message")
    (dead,) = harness.dead_letters(1)
    assert dead.value == b"\x00 this is not a CloudEvent", "parked untouched"
    headers = dict(dead.headers)
    assert headers["dead-letter-kind"] == b"undecodable"
    assert headers["original-topic"] == harness.topic.encode()
    assert headers["dead-letter-reason"]


def test_a_handler_failing_every_attempt_is_dead_lettered_with_its_reason(harness):
    pair = str(uuid.uuid4())
    failing = envelope.encode(held_cloud_event(pair, version=1, minutes=119))
    harness.send(failing, key=pair.encode())
    harness.send(envelope.encode(held_cloud_event(pair, version=2, minutes=60)), pair.encode())

    wait_until(lambda: harness.projection().get(pair) == (1, 60), what="the next message")
    (dead,) = harness.dead_letters(1)
    assert dead.value == failing
    reason = dict(dead.headers)["dead-letter-reason"].decode()
    assert "RuntimeError" in reason and "119 minutes" in reason


def test_a_dead_letter_replayed_once_fixed_is_processed_once(harness, settings):
    from services.eventcore import deadletters

    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=119)), pair.encode())
    harness.dead_letters(1)
    assert harness.projection().get(pair) is None

    ProjectingService.cannot_cope_with_119 = False  # the handler is fixed
    assert deadletters.replay(settings, harness.group) == 0
    wait_until(lambda: harness.projection().get(pair) == (1, 119), what="the replayed event")
    deadletters.replay(settings, harness.group)  # nothing new: nothing sent twice
    eventlet.sleep(1.0)
    assert harness.projection()[pair] == (1, 119)


def test_an_old_version_on_kafka_reaches_the_handler_upcast(harness):
    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_v1_cloud_event(pair)), key=pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (1, 90), what="the upcast v1 event")


def test_offsets_are_committed_past_what_was_handled_once_the_topic_is_quiet(harness, settings):
    """Offsets are committed in batches under load; a quiet topic must not leave
    handled records uncommitted (a restart would replay them all)."""
    pair = str(uuid.uuid4())
    for version in range(1, 6):
        harness.send(envelope.encode(held_cloud_event(pair, version=version, minutes=90)),
                     pair.encode(), partition=1)
    wait_until(lambda: harness.projection().get(pair) == (5, 450), what="five sessions")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        def committed() -> int | None:
            offsets = admin.list_group_offsets(harness.group).get(harness.group, {})
            found = offsets.get(TopicPartition(harness.topic, 1))
            return found.offset if found else None

        wait_until(lambda: committed() == 5, timeout=10, what="the offset past the five")
    finally:
        admin.close()


def _one_session_consumed(harness, monkeypatch):
    """A first session consumed, with a 3 s deadline out of a stable group: the pair,
    and the container's shared consumer."""
    from services.eventcore import consumer as consumer_module

    monkeypatch.setattr(consumer_module, "REJOIN_DEADLINE", 3.0)
    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=90)), pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (1, 90), what="the first session")
    return pair, next(e for e in harness.container.entrypoints
                      if isinstance(e, DomainEventHandler)).consumer


def _wedge(shared) -> None:
    """Leave the shared consumer in the state kafka-python 3.0.12 left the sessions
    service in on a stack start: REBALANCING, no join in flight nor due, no
    partition, no heartbeat. Nothing in the library ever leaves it."""
    from kafka.structs import MemberState

    wedged = shared._consumer
    coordinator = wedged._coordinator
    # Settled first: a group just formed may still join again for partitions its
    # leader learnt late, and that join would rescue the wedge made below.
    wait_until(lambda: (wedged.group_metadata().state is MemberState.STABLE
                        and coordinator._metadata_snapshot
                        and coordinator._assignment_snapshot == coordinator._metadata_snapshot),
               what="the group to settle")
    with coordinator._lock:
        coordinator.state = MemberState.REBALANCING
        coordinator.rejoining = True
        coordinator._disable_heartbeat()
    wedged._subscription.assign_from_subscribed([])
    assert not coordinator.need_rejoin(), "the library itself would never join again"


def test_a_consumer_wedged_out_of_its_group_is_recreated_and_consumes_again(
        harness, monkeypatch):
    from services.eventcore import metrics

    pair, shared = _one_session_consumed(harness, monkeypatch)
    wedged = shared._consumer
    _wedge(shared)
    restarts = metrics.CONSUMER_RESTARTS.labels(group=harness.group)
    before = restarts._value.get()

    harness.send(envelope.encode(held_cloud_event(pair, version=2, minutes=60)), pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (2, 150), timeout=40,
               what="the session sent while the consumer was wedged")
    assert shared._consumer is not wedged
    assert restarts._value.get() == before + 1


def test_a_consumer_that_cannot_be_recreated_while_the_broker_is_away_is_once_it_is_back(
        harness, monkeypatch):
    """Recreating the wedged consumer fails (its broker unreachable: a port where
    nothing listens): the poll loop outlives it, tries again every second, and
    consumes once the broker answers again; nothing sent meanwhile is lost."""
    import dataclasses
    import socket

    pair, shared = _one_session_consumed(harness, monkeypatch)
    reachable = shared.config
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
        shared.config = dataclasses.replace(reachable, kafka_bootstrap=nowhere)
        _wedge(shared)
        harness.send(envelope.encode(held_cloud_event(pair, version=2, minutes=60)),
                     pair.encode())
        wait_until(lambda: shared._consumer is None, timeout=40,
                   what="the consumer closed, and recreating it refused")
        eventlet.sleep(3.0)  # a few more refused tries
        assert shared._consumer is None
        assert harness.projection().get(pair) == (1, 90)
    shared.config = reachable
    wait_until(lambda: harness.projection().get(pair) == (2, 150), timeout=40,
               what="the session sent while the broker was away")


@pytest.mark.slow
def test_a_partition_stuck_on_an_unreachable_database_reports_its_growing_lag(
        harness, database_url, settings):
    """The handler's database refuses every connection: the records wait (nothing is
    dead-lettered), and the lag gauge, which ops alert on, shows them waiting
    instead of the last value seen before; once the database is back, they are
    handled in order and the lag falls to 0."""
    from services.eventcore import metrics

    first = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(first, version=1, minutes=90)),
                 first.encode(), partition=0)
    wait_until(lambda: harness.projection().get(first) == (1, 90), what="the first event")
    lag = metrics.CONSUMER_LAG.labels(group=harness.group, topic=harness.topic, partition="0")
    wait_until(lambda: lag._value.get() == 0, what="no lag to begin with")

    database = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    waiting = [str(uuid.uuid4()) for _ in range(5)]
    with psycopg.connect(settings.database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s", (database,))
            for pair in waiting:
                harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=60)),
                             pair.encode(), partition=0)
            # Each try waits out the pool's 30 s for a connection.
            wait_until(lambda: lag._value.get() == len(waiting), timeout=75,
                       what="the lag of the records waiting for the database")
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    wait_until(lambda: all(harness.projection().get(p) == (1, 60) for p in waiting),
               timeout=90, what="the waiting records, once the database is back")
    wait_until(lambda: lag._value.get() == 0, what="the lag back to 0")
    assert read_topic(settings, f"{harness.group}.dead-letter", until=lambda records: False,
                      timeout=3) == [], "nothing dead-lettered"


@pytest.mark.slow
def test_a_handler_busy_longer_than_the_session_timeout_keeps_the_group_stable(harness, settings):
    """kafka-python's heartbeat is a (green) thread: a handler that waits 14 s,
    longer than the 10 s session timeout, must not get the consumer evicted."""
    ProjectingService.busy_seconds = 14.0
    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=90)), pair.encode())
    harness.send(envelope.encode(held_cloud_event(pair, version=2, minutes=90)), pair.encode())
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        def members() -> list[str]:
            group = admin.describe_groups([harness.group])[harness.group]
            return [m["member_id"] for m in group["members"]]

        first = wait_until(members, what="the consumer to join its group")
        wait_until(lambda: harness.projection().get(pair) == (2, 180), timeout=60,
                   what="two busy handlers")
        assert members() == first, "same member throughout: no eviction, no rebalance"
    finally:
        admin.close()


def test_a_record_that_cannot_be_set_aside_is_read_again_with_everything_after_it(
        harness, monkeypatch):
    """Dead-lettering itself fails once (the broker refuses): the poison record, and
    every record of the batch not yet handled, in every partition, are read again;
    nothing is skipped."""
    from kafka.errors import KafkaTimeoutError

    from services.eventcore.consumer import KafkaEventConsumer

    real = KafkaEventConsumer._dead_letter
    failures = []

    def refused_once(self, *args, **kwargs):
        if not failures:
            failures.append(True)
            raise KafkaTimeoutError("the broker did not take the dead letter")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(KafkaEventConsumer, "_dead_letter", refused_once)
    # One slow record holds the consumer while a full batch gathers behind it: in each
    # of the 3 partitions a poison record first, then good ones. Whichever partition
    # comes first, its poison fails to be set aside with the rest of the batch unread.
    slow = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(slow, version=1, minutes=61)),
                 slow.encode(), partition=0)
    eventlet.sleep(0.5)
    pairs = [str(uuid.uuid4()) for _ in range(9)]
    for partition in range(3):
        harness.send(b"\x00 poison", key=b"poison", partition=partition)
    for i, pair in enumerate(pairs):
        harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=60)),
                     pair.encode(), partition=i % 3)
    wait_until(lambda: len(harness.projection()) == len(pairs) + 1, timeout=60,
               what="every good record, in every partition")
    assert failures, "dead-lettering failed once"
    assert [d.value for d in harness.dead_letters(3)] == [b"\x00 poison"] * 3


def test_an_action_on_commit_runs_after_the_handlers_commit_and_never_after_a_failure(
    harness, database_url,
):
    """What a handler announces (a broadcast) must not outrun its commit: the action
    sees the projection from another connection; a failed handler's action never runs."""
    ProjectingService.watched_database = database_url
    pair, failing = str(uuid.uuid4()), str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(failing, version=1, minutes=118)),
                 failing.encode())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=90)), pair.encode())
    wait_until(lambda: ProjectingService.seen_after_commit, what="the action on commit")
    harness.dead_letters(1)  # the failing one, after all its attempts
    assert ProjectingService.seen_after_commit == [(pair, 1)]


class _WithSlowRpc(ProjectingService):
    """The harness's service with an RPC still running when it is asked to stop."""

    name = f"projecting_rpc_{uuid.uuid4().hex[:6]}"

    @rpc
    def slow(self) -> str:
        eventlet.sleep(3)
        return "done"


def test_a_stopping_service_takes_up_no_record_and_commits_no_offset_past_its_handling(
        harness, settings, container_factory):
    """nameko stops the entrypoints first and this shared consumer last, once the
    running workers are done: polling on in between, the records found no handler,
    passed as ignored and had their offsets committed (review: 1 event handled, offset
    11 committed; ten events lost for the group)."""
    config = harness.container.config
    harness.container.stop()
    container = container_factory(_WithSlowRpc, config)
    container.start()
    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=60)), pair.encode(),
                 partition=0)
    wait_until(lambda: harness.projection().get(pair), what="the first event")

    def call() -> str:
        with ClusterRpcProxy(config) as proxy:
            return proxy[_WithSlowRpc.name].slow()

    running = eventlet.spawn(call)
    eventlet.sleep(0.5)
    stopping = eventlet.spawn(container.stop)
    eventlet.sleep(0.5)
    for version in range(2, 12):  # arriving while the RPC worker finishes
        harness.send(envelope.encode(held_cloud_event(pair, version=version, minutes=60)),
                     pair.encode(), partition=0)
    stopping.wait()
    assert running.wait() == "done"
    handled = harness.projection()[pair][0]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        offsets = admin.list_group_offsets(harness.group)[harness.group]
    finally:
        admin.close()
    assert offsets[TopicPartition(harness.topic, 0)].offset == handled == 1

    again = container_factory(ProjectingService, config)
    again.start()
    wait_until(lambda: harness.projection()[pair] == (11, 660),
               what="the ten events, handled by the next start")


def test_a_database_that_dropped_its_connections_delays_events_never_dead_letters_them(
        harness, database_url, settings):
    """Its pooled connections dead (PostgreSQL restarted, backends terminated), each
    attempt failed and the third dead-lettered a healthy event; the aggregate's next
    events were then applied without it. Not the event's fault: no attempt counts."""
    pair = str(uuid.uuid4())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=60)), pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (1, 60), what="the first event")
    handler = next(e for e in harness.container.entrypoints
                   if isinstance(e, DomainEventHandler))
    pool = handler.pools.get(database_url)._pool
    held = [pool.getconn() for _ in range(4)]  # four connections in the pool, all idle
    for conn in held:
        pool.putconn(conn)
    database = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(settings.database_url("postgres"), autocommit=True) as admin:
        assert admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()",
                             (database,)).fetchone()[0] >= 4
    for version, minutes in ((2, 30), (3, 90)):
        harness.send(envelope.encode(held_cloud_event(pair, version=version, minutes=minutes)),
                     pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (3, 180), timeout=30,
               what="both events, in order, once the pool has live connections")
    assert read_topic(settings, f"{harness.group}.dead-letter", until=lambda records: False,
                      timeout=5) == [], "nothing dead-lettered"


def test_a_message_nested_too_deep_to_decode_is_dead_lettered_and_the_next_processed(harness):
    """json.loads raises RecursionError on it, which killed the consumer's thread,
    and so the container, on every restart again."""
    pair = str(uuid.uuid4())
    harness.send(b"[" * 100_000, key=pair.encode())
    harness.send(envelope.encode(held_cloud_event(pair, version=1, minutes=75)), pair.encode())
    wait_until(lambda: harness.projection().get(pair) == (1, 75), what="the next message")
    (dead,) = harness.dead_letters(1)
    assert dict(dead.headers)["dead-letter-kind"] == b"undecodable"
