"""``python -m services.eventcore.deadletters list|replay <group>``: what a consumer
group set aside, and sending it back once the cause is fixed.

A dead-lettered message keeps its original bytes and key, with headers saying
why (``dead-letter-kind``, ``dead-letter-reason``) and where it came from
(``original-topic``, ``-partition``, ``-offset``). ``replay`` sends each one back
to its original topic, with its key: every consumer group sees it again, and
idempotency (``processed_events``) makes it a no-op for the handlers that had
processed it; the group whose handler failed now processes it. Replayed
messages are remembered (a ``replayed`` marker committed as the replaying
group's offset), so a second ``replay`` sends only what came after.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from kafka import KafkaConsumer
from kafka.structs import OffsetAndMetadata

from services.eventcore import kafka_clients, settings, topics


def _records(conf: settings.Settings, group: str, replay_group: str | None):
    topic = conf.dead_letter_topic(group)
    consumer = KafkaConsumer(bootstrap_servers=conf.kafka_bootstrap, group_id=replay_group,
                             enable_auto_commit=False, auto_offset_reset="earliest")
    partitions = topics.partitions_of(consumer, topic)
    ends = consumer.end_offsets(partitions)
    consumer.assign(partitions)
    if replay_group is None:
        consumer.seek_to_beginning(*partitions)
    return consumer, list(topics.read_until(consumer, ends, poll_ms=1000)), ends


def list_(conf: settings.Settings, group: str) -> int:
    consumer, records, _ = _records(conf, group, None)
    consumer.close()
    kinds = Counter()
    for record in records:
        headers = dict(record.headers or [])
        kinds[(headers.get("dead-letter-kind", b"?").decode(),
               headers.get("original-topic", b"?").decode())] += 1
        print(f"{record.partition}@{record.offset} "
              f"{headers.get('original-topic', b'?').decode()}:"
              f"{headers.get('original-partition', b'?').decode()}@"
              f"{headers.get('original-offset', b'?').decode()} "
              f"{headers.get('dead-letter-kind', b'?').decode()}: "
              f"{headers.get('dead-letter-reason', b'').decode(errors='replace')}")
    print(f"deadletters: {len(records)} message(s) in {conf.dead_letter_topic(group)}: "
          + ", ".join(f"{n} {kind} from {topic}" for (kind, topic), n in kinds.items()))
    return 0


def replay(conf: settings.Settings, group: str) -> int:
    consumer, records, ends = _records(conf, group, f"{group}.dead-letter-replay")
    producer = kafka_clients.producer(conf, client_id=f"{group}-replay")
    sent = 0
    try:
        for record in records:
            headers = dict(record.headers or [])
            topic = headers.get("original-topic", b"").decode()
            if not topic:
                continue
            producer.send(topic, key=record.key, value=record.value).get(timeout=30)
            sent += 1
        consumer.commit({tp: OffsetAndMetadata(end, "replayed", -1) for tp, end in ends.items()})
    finally:
        producer.close()
        consumer.close()
    print(f"deadletters: {sent} message(s) sent back to their topics for {group}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("list", "replay"))
    parser.add_argument("group", help="the consumer group (the service's name)")
    args = parser.parse_args(argv)
    conf = settings.load()
    return list_(conf, args.group) if args.command == "list" else replay(conf, args.group)


if __name__ == "__main__":
    sys.exit(main())
