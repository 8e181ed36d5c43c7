"""Reading a topic to the end it had when the reading began (rebuilds, dead letters).

A live consumer never ends; a rebuild or a replay of dead letters must: they read
up to the end offsets taken at the start, and ignore whatever arrives meanwhile
(the live consumers will see it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import TopicPartition


def partitions_of(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]


def read_until(consumer: KafkaConsumer, ends: Mapping[TopicPartition, int],
               poll_ms: int = 500) -> Iterator[ConsumerRecord]:
    """The records of the assigned partitions, from their current positions up to
    ``ends`` (excluded), each partition in its order."""
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        for tp, records in consumer.poll(timeout_ms=poll_ms).items():
            yield from (r for r in records if r.offset < ends.get(tp, 0))
