"""Kafka clients configured the one way the platform uses them.

The producer settings are the guarantee: ``acks='all'`` (the broker has the
event before we call it published) and idempotence (a retry inside one producer
session never duplicates nor reorders), with up to 5 requests in flight, which
idempotence keeps in order per partition.

The producer computes the CRC-32C of every record batch and the consumer checks
it (a corrupted batch is refused, never handed to a handler); the ``crc32c``
package makes kafka-python do both in C rather than in Python
(``tests/test_kafka_clients.py`` checks it is in use).
"""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.serializer import Serializer

from services.eventcore.settings import Settings


class AggregateKeys(Serializer):
    """The Kafka key is the aggregate id (one aggregate, one partition: its order)."""

    def serialize(self, topic: str, headers: list[tuple[str, bytes]],
                  value: str | bytes | None) -> bytes | None:
        if value is None or isinstance(value, bytes):
            return value
        return value.encode("utf-8")


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 2,
        "retries": 2**31 - 1,
        "key_serializer": AggregateKeys(),
        "client_id": "mentoring-relay",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def consumer(settings: Settings, group: str, **overrides: Any) -> KafkaConsumer:
    """A consumer in ``group`` that commits offsets only when told to.

    ``max_poll_interval_ms`` is long because a handler may legitimately wait on
    the database; liveness is proven by heartbeats (``session_timeout_ms``),
    which run in their own (green) thread.
    """
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group,
        "client_id": f"{group}-consumer",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 3_000,
        "max_poll_interval_ms": 300_000,
        "max_poll_records": 100,
    }
    config.update(overrides)
    return KafkaConsumer(**config)
