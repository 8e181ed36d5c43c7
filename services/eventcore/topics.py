"""Reading a topic to the end it had when the reading began (rebuilds, dead letters).

A live consumer never ends; a rebuild or a replay of dead letters must: they read
up to the end offsets taken at the start, and ignore whatever arrives meanwhile
(the live consumers will see it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import TopicPartition


def partitions_of(consumer: KafkaConsumer, topic: str,
                  wait: float = 10.0) -> list[TopicPartition]:
    """The topic's partitions. The metadata of a new client can come late on a busy
    broker: asked again for up to ``wait`` seconds before the topic is taken for
    missing (a replay that found "no partition" would report 0 dead letters)."""
    deadline = time.monotonic() + wait
    found = consumer.partitions_for_topic(topic)
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = consumer.partitions_for_topic(topic)
    return [TopicPartition(topic, p) for p in sorted(found or ())]


def read_until(consumer: KafkaConsumer, ends: Mapping[TopicPartition, int],
               poll_ms: int = 500) -> Iterator[ConsumerRecord]:
    """The records of the assigned partitions, from their current positions up to
    ``ends`` (excluded), each partition in its order."""
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        for tp, records in consumer.poll(timeout_ms=poll_ms).items():
            yield from (r for r in records if r.offset < ends.get(tp, 0))
