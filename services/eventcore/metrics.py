"""The Prometheus metrics of the shared machinery, defined once.

Labels carry contexts, topics, consumer groups and event *types* only: never an
id, a name or any text a member wrote (R8), so that a label can never leak
content or single out a person.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_APPENDED = Counter(
    "eventstore_events_appended",
    "Events appended to a context's event store (counted when the append statement ran).",
    ["context", "event_type"],
)
OUTBOX_BACKLOG = Gauge(
    "outbox_backlog", "Outbox rows committed but not yet published to Kafka.", ["context"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unpublished_age_seconds",
    "Age of the oldest outbox row not yet published (0 when the outbox is empty).",
    ["context"],
)
PUBLISH_LATENCY = Histogram(
    "outbox_publish_latency_seconds",
    "From an event's outbox insert to the broker's acknowledgement (acks=all).",
    ["context"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EVENTS_PUBLISHED = Counter(
    "outbox_events_published", "Events the relay published and the broker acknowledged.",
    ["context", "topic"],
)
RELAY_IS_LEADER = Gauge(
    "relay_is_leader", "1 while this relay holds its context's leader lock.", ["context"]
)
AGGREGATE_LOADS = Counter(
    "eventstore_aggregate_loads",
    "Aggregates that units of work loaded, by how (aggregate_cache): fast_forwarded (a kept "
    "state and the events recorded since), replayed (no kept state: the whole stream), "
    "stale (a kept state the log no longer matched: replayed).",
    ["context", "kind", "outcome"],
)
AGGREGATE_CACHE_BYTES = Gauge(
    "eventstore_aggregate_cache_bytes",
    "Bytes of aggregate state a service process keeps between commands (aggregate_cache).",
    ["context"],
)
EVENTS_CONSUMED = Counter(
    "consumer_events",
    "Events a consumer group took from Kafka, by outcome "
    "(handled, duplicate, retried, dead_lettered, ignored).",
    ["group", "topic", "event_type", "outcome"],
)
CONSUMER_LAG = Gauge(
    "consumer_lag", "Messages in a partition not yet consumed by the group.",
    ["group", "topic", "partition"],
)
DEAD_LETTERED = Counter(
    "consumer_dead_lettered", "Messages a consumer group sent to its dead-letter topic.",
    ["group", "topic"],
)
CONSUMER_RESTARTS = Counter(
    "consumer_restarts",
    "Times a consumer was recreated after staying out of a stable group too long.",
    ["group"],
)


def serve(port: int, addr: str = "127.0.0.1") -> None:
    """Expose this process's metrics on ``addr``:``port`` (a daemon thread); loopback
    locally, all interfaces in a pod (``--metrics-addr 0.0.0.0``)."""
    start_http_server(port, addr=addr)
