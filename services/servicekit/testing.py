"""Pytest fixture ``isolated_service``: one of our services in a real nameko container,
alone, with a clock the test controls.

The service runs under a name of its own (its RPC queue never takes calls meant for
the stack's service), against a database, topics and a consumer group of its own
(real PostgreSQL, Kafka and RabbitMQ), with a ``ControlledClock`` on its
``ClockProvider`` and a real outbox relay publishing its events to its own topic::

    def test_something(isolated_service):
        service = isolated_service(SessionsService, consumes=("identity", "matching"),
                                   config={"CADENCE_CHECK_SECONDS": 0.2}, clock_start=t0)
        service.publish("matching", "PairFormed", 2, pair_id, data)
        service.clock.advance(days=46)
        service.store_events("PairBecameOverdue")
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import get_extension

from contracts import envelope
from services.eventcore import kafka_clients
from services.eventcore.relay import OutboxRelay
from services.eventcore.settings import Settings
from services.eventcore.testing import read_topic
from services.servicekit.clock import ClockProvider, ControlledClock


@dataclass
class IsolatedService:
    container: Any
    context: str
    clock: ControlledClock
    topics: dict[str, str]
    database_url: str
    settings: Settings
    _producer: KafkaProducer = field(repr=False, default=None)  # type: ignore[assignment]

    def publish(self, context: str, name: str, version: int, subject: str,
                data: dict[str, Any], aggregate_version: int = 1) -> None:
        """Another context's event, on the test's topic of that context."""
        event = envelope.CloudEvent.new(context=context, name=name, version=version,
                                        subject=subject, data=data,
                                        aggregate_version=aggregate_version)
        self._producer.send(self.topics[context], key=subject.encode(),
                            value=envelope.encode(event)).get(timeout=30)

    def store_events(self, name: str) -> int:
        """How many ``name`` events the service's store holds."""
        with psycopg.connect(self.database_url) as conn:
            return conn.execute("SELECT count(*) FROM events WHERE event_name = %s",
                                (name,)).fetchone()[0]

    def topic_events(self) -> Counter[str]:
        """The names of the events the relay published on the service's own topic."""
        records = read_topic(self.settings, self.topics[self.context],
                             until=lambda rs: False, timeout=2)
        return Counter(envelope.decode(r.value).event_name for r in records)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Run one of the service's entrypoints in a worker, as RPC would."""
        with entrypoint_hook(self.container, method) as hook:
            return hook(*args, **kwargs)


@pytest.fixture
def isolated_service(settings, make_topic, database_url,
                     container_factory) -> Iterator[Callable[..., IsolatedService]]:
    started: list[tuple[threading.Event, threading.Thread, KafkaProducer]] = []

    def start(service_cls: type, *, consumes: Sequence[str], config: dict[str, Any],
              clock_start: datetime) -> IsolatedService:
        context = service_cls.name
        tag = uuid.uuid4().hex[:8]
        under_test = type(f"{service_cls.__name__}UnderTest", (service_cls,),
                          {"name": f"{context}_test_{tag}"})
        topics = {c: make_topic(f"{c}-{context}-test", partitions=3)
                  for c in {*consumes, context}}
        group = f"{context}-test-{tag}"
        make_topic(name=f"{group}.dead-letter", partitions=1)
        container = container_factory(under_test, {
            "AMQP_URI": settings.amqp_uri,
            **config,
            "EVENTCORE": {"context": context, "database_url": database_url,
                          "consumer_group": group, "topics": topics},
        })
        clock = ControlledClock(clock_start)
        get_extension(container, ClockProvider).clock = clock
        container.start()

        stop = threading.Event()
        relay = OutboxRelay(context, database_url,
                            lambda: kafka_clients.producer(settings, client_id=f"{group}-relay"),
                            poll_interval=0.1)
        relaying = threading.Thread(target=relay.run, args=(stop,), daemon=True)
        relaying.start()
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        started.append((stop, relaying, producer))
        return IsolatedService(container, context, clock, topics, database_url, settings,
                               producer)

    yield start
    for stop, relaying, producer in started:
        stop.set()
        relaying.join(timeout=10)
        producer.close()
