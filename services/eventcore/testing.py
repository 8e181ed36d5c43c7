"""Pytest fixtures for tests against the real servers of the local stack.

A test gets a database, topics and a consumer group of its own, so it can
neither disturb nor be disturbed by the running services. A server that does
not answer fails the test with a line saying which and how to start it: never
a skip, never a mock.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic
from kafka.structs import TopicPartition
from kombu import Connection, Queue
from kombu.simple import SimpleQueue
from nameko.rpc import get_rpc_exchange

from services.eventcore import settings as stack_settings


def _require(host: str, port: int, what: str) -> None:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as exc:
        pytest.fail(
            f"{what} is not reachable at {host}:{port} ({exc.strerror or exc}): "
            "start the stack with `make up` (make test does it for you)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def settings() -> stack_settings.Settings:
    conf = stack_settings.load()
    _require(conf.pg_host, conf.pg_port, "PostgreSQL")
    host, port = conf.kafka_bootstrap.rsplit(":", 1)
    _require(host, int(port), "Kafka")
    return conf


@pytest.fixture
def database_url(settings: stack_settings.Settings) -> Iterator[str]:
    """A fresh, empty database for this test, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = settings.database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield settings.database_url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_topic(settings: stack_settings.Settings) -> Iterator[Callable[..., str]]:
    """``make_topic(prefix, partitions=3)`` creates a topic for this test; deleted after."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="tests")
    created: list[str] = []

    def make(prefix: str = "test", partitions: int = 3, name: str | None = None) -> str:
        topic = name or f"{prefix}.{uuid.uuid4().hex[:10]}"
        admin.create_topics([NewTopic(topic, partitions, 1)])
        created.append(topic)
        _wait_for_topic(settings, topic, partitions)
        return topic

    yield make
    try:
        admin.delete_topics(created)
    finally:
        admin.close()


def _wait_for_topic(settings: stack_settings.Settings, topic: str, partitions: int) -> None:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            known = consumer.partitions_for_topic(topic)
            if known and len(known) == partitions:
                return
            time.sleep(0.1)
        pytest.fail(f"topic {topic} did not become available within 30 s", pytrace=False)
    finally:
        consumer.close()


def read_topic(
    settings: stack_settings.Settings, topic: str, until: Callable[[list[Any]], bool],
    timeout: float = 60.0,
) -> list[Any]:
    """Every record of ``topic`` from the beginning, until ``until(records)`` or timeout."""
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap,
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(records):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``predicate`` until truthy; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or predicate}", pytrace=False)


@contextmanager
def rpc_deliveries(amqp_uri: str, service_name: str) -> Iterator[Callable[..., dict[str, Any]]]:
    """``deliver(method, correlation_id, *args, context=None, **kwargs)``: one delivery
    of an RPC call to ``service_name`` as RabbitMQ hands it over, and hands it over
    again on a redelivery (same message, same correlation id); ``context`` is the
    caller's context data (an idempotency key); returns nameko's reply
    (``{"result": ..., "error": ...}``). Each delivery has a connection and a reply
    queue of its own, so that threads may deliver at once (a retry sent while the
    first call is still being answered)."""
    exchange = get_rpc_exchange({"AMQP_URI": amqp_uri})

    def deliver(method: str, correlation_id: str, *args: Any,
                context: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        reply_to = f"{service_name}-replies-{uuid.uuid4().hex[:6]}"
        with Connection(amqp_uri) as amqp:
            # nameko replies on its RPC exchange, routed by the reply_to name.
            replies = SimpleQueue(amqp, Queue(reply_to, exchange=exchange, routing_key=reply_to,
                                              exclusive=True, auto_delete=True))
            try:
                with amqp.Producer() as producer:
                    producer.publish(
                        {"args": list(args), "kwargs": kwargs},
                        exchange=exchange,
                        routing_key=f"{service_name}.{method}", serializer="json",
                        reply_to=reply_to, correlation_id=correlation_id,
                        # as nameko's proxies send a caller's context data
                        headers={f"nameko.{k}": v for k, v in (context or {}).items()},
                    )
                reply = replies.get(timeout=30)
                reply.ack()
            finally:
                replies.close()
        assert reply.properties["correlation_id"] == correlation_id
        return reply.payload

    yield deliver


@pytest.fixture
def deliveries_to(
    settings: stack_settings.Settings, database_url: str, container_factory: Any,
) -> Iterator[Callable[[type], Callable[..., dict[str, Any]]]]:
    """``deliveries_to(ServiceClass)``: the class started alone in a real nameko
    container (under a name of its own, against this test's database), and the
    ``deliver`` of ``rpc_deliveries`` for its calls."""
    with ExitStack() as opened:
        def start(service_cls: type) -> Callable[..., dict[str, Any]]:
            name = f"{service_cls.name}_{uuid.uuid4().hex[:8]}"
            under_test = type(f"{service_cls.__name__}UnderTest", (service_cls,), {"name": name})
            container = container_factory(under_test, {
                "AMQP_URI": settings.amqp_uri,
                "EVENTCORE": {"context": "sessions", "database_url": database_url},
            })
            container.start()
            return opened.enter_context(rpc_deliveries(settings.amqp_uri, name))

        yield start
