"""``@domain_event_handler``: a nameko entrypoint fed by a Kafka topic.

    class Matching:
        name = "matching"
        uow = UnitOfWorkProvider(catalogue)

        @domain_event_handler("moderation", "MemberExcluded")
        def on_member_excluded(self, event: DomainEvent) -> None:
            with self.uow() as uow:
                ...  # projection writes, even appends: all in one commit

It reads like nameko's own ``@event_handler`` and gives, for each event:

- **idempotency**: the entrypoint opens a transaction, records
  ``(handler, event id)`` in ``processed_events`` and hands that very
  transaction to the handler's unit of work; a redelivered event finds its mark
  and changes nothing, and a failed handler leaves no mark.
- **offsets after the data**: a partition's offset is committed to Kafka only
  after the transactions of the events before it committed; a crash in
  between means a redelivery, which idempotency absorbs. Offsets are committed
  once a second under load (one commit per poll was a round trip to the group
  coordinator per event at a hundred events a second), at once when the topic
  is quiet, and at stop: a crash or a rebalance replays at most a second of
  events, every one of them a duplicate. Only partitions still assigned are
  committed: an offset of a partition taken away must not overwrite what its new
  owner committed since. (Not committed from a rebalance listener: kafka-python
  3 calls it on its network thread, where a blocking commit is refused.)
- **membership**: a consumer that stays out of a stable group for
  ``REJOIN_DEADLINE`` seconds is closed and created again (see
  ``_check_membership``), so that a service never stops consuming in silence.
- **order**: one consumer per service process, records handled one at a time
  in partition order, so one aggregate's events (same key, same partition)
  are seen in order.
- **poison messages**: one that cannot be decoded goes straight to the
  dead-letter topic; one whose handler fails ``max_attempts`` times goes there
  with the reason; either way consumption goes on. A database that cannot be
  reached is not the event's fault: no attempt counts, and the records not
  handled are read again, in order, a second later.
- **stop**: no record is taken up once the container begins to stop (its
  handlers are gone by then), and the offsets committed at stop are those of
  the records handled.

Consumer group = service name (``EVENTCORE.consumer_group`` overrides it).
Under eventlet, kafka-python's sockets and heartbeat thread are green (the
process is monkey-patched before kafka-python is imported), so a handler
waiting on the database does not starve the group's heartbeats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import eventlet
import eventlet.event
import psycopg
from kafka import KafkaProducer
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import MemberState, OffsetAndMetadata, TopicPartition
from nameko.extensions import Entrypoint, ProviderCollector, SharedExtension
from psycopg_pool import PoolTimeout

from contracts import catalogue as contracts_catalogue
from contracts import envelope
from services.eventcore import kafka_clients, metrics, service_config, settings
from services.eventcore.database import DatabasePools, run_committed
from services.eventcore.events import DomainEvent
from services.eventcore.store import Catalogue

log = logging.getLogger("eventcore.consumer")

#: Longest reason kept on a dead-lettered message (it is a header, not a log).
MAX_REASON = 500

#: Longest time, under load, a handled record's offset waits to be committed.
COMMIT_INTERVAL = 1.0

#: Seconds between two reports of the lag gauges (Prometheus scrapes every 5 s;
#: a report after every poll cost a lookup and a labelled set per partition).
LAG_INTERVAL = 1.0

#: Longest time a consumer may stay out of a stable group before it is recreated.
#: A rebalance here takes milliseconds to seconds (handlers are short transactions,
#: and the longest wait is for a member to finish its handler and poll); 20 s out
#: of the group is a wedged member, not a slow one. Recreating a slow one by
#: mistake costs one more rebalance, and idempotency absorbs its replay.
REJOIN_DEADLINE = 20.0


class HandlerFailed(Exception):
    """The handler raised; carries its exception for the dead-letter reason."""


class DatabaseUnavailable(Exception):
    """The handler's database could not be reached: the event is handled later."""


def database_unavailable(error: BaseException) -> bool:
    """A connection lost or refused, the server shutting down, or no connection
    from the pool in time: what a PostgreSQL restart looks like to a handler. (Not
    a statement timeout, a deadlock or a constraint: those are the event's own, and
    count as attempts.)"""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith(("08", "57P"))


def decode(raw: bytes, catalogue: Catalogue) -> DomainEvent:
    """Kafka bytes to a ``DomainEvent`` upcast to its latest version.

    Raises ``envelope.EnvelopeError`` or the catalogue's ``ValueError`` for
    anything that is not a known event: that message is poison.
    """
    cloud_event = envelope.decode(raw)
    version, data = catalogue.upcast(
        cloud_event.event_name, cloud_event.event_version, cloud_event.data
    )
    return DomainEvent(
        event_id=_uuid(cloud_event.id),
        context=cloud_event.context,
        name=cloud_event.event_name,
        version=version,
        stream_id=cloud_event.subject,
        stream_version=cloud_event.aggregateversion,
        partner_org=cloud_event.partnerorg,
        time=_time(cloud_event.time),
        data=data,
    )


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class KafkaEventConsumer(SharedExtension, ProviderCollector):
    """The one Kafka consumer of a service container, feeding its handlers."""

    def __init__(self) -> None:
        super().__init__()
        self._stopping = False
        self._thread: Any = None
        self._consumer: Any = None
        self._dead_letters: KafkaProducer | None = None
        self._processed: dict[TopicPartition, int] = {}
        self._uncommitted: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._last_lag_report = 0.0
        self._unsettled_since: float | None = None

    def setup(self) -> None:
        self.config = service_config.from_container(
            self.container.config, self.container.service_name
        )

    def start(self) -> None:
        self._stopping = False
        self._thread = self.container.spawn_managed_thread(self._run)

    def unregister_provider(self, provider: Any) -> None:
        # The container is stopping: entrypoints stop first, this shared consumer
        # last, once running workers are done. Polling on in between, a record would
        # find no handler, pass as "ignored" and have its offset committed at stop:
        # an event lost for this group (review found every stop under load lost some).
        # No record is taken up from now on; the next start resumes after the last
        # one handled.
        self._stopping = True
        super().unregister_provider(provider)

    def stop(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.wait()
        if self._consumer is not None:
            self.commit_handled()  # the next start resumes past what was handled
        self._close()

    def kill(self) -> None:
        self._stopping = True
        if self._thread is not None:
            self._thread.kill()
        self._close()

    @property
    def group(self) -> str:
        return self.config.consumer_group

    # -- the poll loop --------------------------------------------------------

    def _run(self) -> None:
        self._subscribe()
        while not self._stopping:
            try:
                if self._consumer is None:  # a re-subscription failed (broker away)
                    self._subscribe()
                self._poll_once()
                self._check_membership()
            except KafkaError as exc:
                # A broker hiccup, a partition revoked mid-batch, a topic deleted: the
                # loop must outlive it (a dead managed thread kills the container).
                log.warning("group %s: %s; polling again in 1 s", self.group, exc)
                eventlet.sleep(1.0)
            except DatabaseUnavailable as exc:
                log.warning("group %s: database unavailable (%s); the records not handled "
                            "are read again in 1 s", self.group, exc)
                eventlet.sleep(1.0)
            except Exception:
                # A fault nobody foresaw: the records not handled are read again (a
                # stalled partition shows in the lag gauge, reported on every pass,
                # and its alert), where a dead thread would kill the container, and
                # on every restart again.
                log.exception("group %s: unexpected error; polling again in 1 s", self.group)
                eventlet.sleep(1.0)

    def _subscribe(self) -> None:
        self._consumer = kafka_clients.consumer(
            settings.load(), self.group, bootstrap_servers=self.config.kafka_bootstrap
        )
        topics = sorted({p.topic for p in self._providers})
        self._consumer.subscribe(topics)
        self._unsettled_since = time.monotonic()
        log.info("consumer group %s subscribed to %s", self.group, ", ".join(topics))

    def _check_membership(self) -> None:
        """Recreate the consumer if it has been out of a stable group too long.

        kafka-python 3.0.12 can leave a member REBALANCING for good. A group's
        leader often assigns before it knows the topics' partitions, and joins
        again once it does; if a poll times out while that second join is in
        flight, the join completes after its reason went away, and nothing ever
        collects it: no partition is assigned, no heartbeat is sent, the broker
        drops the member, and the service consumes nothing, without an error.
        Seen on a stack start: the sessions service never opened a pair. A new
        consumer joins afresh.
        """
        if self._consumer.group_metadata().state is MemberState.STABLE:
            self._unsettled_since = None
            return
        now = time.monotonic()
        if self._unsettled_since is None:
            self._unsettled_since = now
        if now - self._unsettled_since < REJOIN_DEADLINE:
            return
        log.warning("group %s: out of a stable group for %.0f s; recreating the consumer",
                    self.group, now - self._unsettled_since)
        metrics.CONSUMER_RESTARTS.labels(group=self.group).inc()
        self.commit_handled()
        self._close_consumer()
        self._processed.clear()
        self._subscribe()

    def _poll_once(self) -> None:
        batch = self._consumer.poll(timeout_ms=300)
        # poll() has already moved every partition of the batch past its records: if
        # one record cannot be handled, every partition must be taken back to its
        # first record not handled, or those would never be seen again.
        pending = {tp: records[0].offset for tp, records in batch.items() if records}
        try:
            for tp, records in batch.items():
                for record in records:
                    if self._stopping:
                        break
                    self._process(record)
                    self._processed[tp] = self._uncommitted[tp] = record.offset + 1
                    pending[tp] = record.offset + 1
        except Exception:
            # Not handled (dead-lettering failed, the database gone, a fault): read
            # everything not handled again, in order.
            for tp, offset in pending.items():
                self._consumer.seek(tp, offset)
                self._processed[tp] = offset  # its lag counts from there, even at first
            self._report_lag()  # the lag grows while a partition is stuck: say so
            raise
        if not batch or time.monotonic() - self._last_commit >= COMMIT_INTERVAL:
            self.commit_handled()
        self._report_lag()

    def commit_handled(self) -> None:
        """Commit the offsets past every record handled, of the partitions still ours."""
        self._last_commit = time.monotonic()
        assigned = self._consumer.assignment()
        handled = {tp: offset for tp, offset in self._uncommitted.items() if tp in assigned}
        self._uncommitted.clear()  # taken away: their new owner resumes (and replays)
        if not handled:
            return
        try:
            self._consumer.commit({tp: OffsetAndMetadata(offset, "", -1)
                                   for tp, offset in handled.items()})
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took a partition away: its next owner resumes from the
            # last committed offset and idempotency absorbs the replay.
            log.warning("group %s: offset commit failed (%s)", self.group, exc)

    def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag_report < LAG_INTERVAL:
            return
        self._last_lag_report = now
        assigned = self._consumer.assignment()
        for tp in [tp for tp in self._processed if tp not in assigned]:
            del self._processed[tp]  # revoked: its new owner reports it
        for tp, next_offset in self._processed.items():
            highwater = self._consumer.highwater(tp)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(
                    group=self.group, topic=tp.topic, partition=str(tp.partition)
                ).set(max(highwater - next_offset, 0))

    # -- one record -------------------------------------------------------------

    def _process(self, record: Any) -> None:
        handlers = [p for p in self._providers if p.topic == record.topic]
        catalogue = handlers[0].catalogue if handlers else contracts_catalogue
        try:
            event = decode(record.value, catalogue)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            # RecursionError: JSON nested thousands deep (no producer of ours writes it).
            self._dead_letter(record, "undecodable", f"{type(exc).__name__}: {exc}")
            return
        interested = [h for h in handlers if event.name in h.event_names]
        if not interested:
            metrics.EVENTS_CONSUMED.labels(
                group=self.group, topic=record.topic, event_type=event.name, outcome="ignored"
            ).inc()
            return
        for handler in interested:
            self._deliver(handler, record, event)

    def _deliver(self, handler: DomainEventHandler, record: Any, event: DomainEvent) -> None:
        counted = metrics.EVENTS_CONSUMED
        labels = {"group": self.group, "topic": record.topic, "event_type": event.name}
        failure: BaseException | None = None
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                outcome = handler.handle(event)
            except HandlerFailed as exc:
                failure = exc.__cause__ or exc
                if database_unavailable(failure):
                    # Not the event's fault: no attempt spent, nothing dead-lettered
                    # (the aggregate's next events would be applied without it); the
                    # poll loop reads it again once the database answers.
                    raise DatabaseUnavailable(str(failure)) from failure
                log.warning("group %s: %s for %s failed (attempt %d/%d): %s", self.group,
                            handler.method_name, event.name, attempt, self.config.max_attempts,
                            type(failure).__name__, exc_info=failure)
                counted.labels(**labels, outcome="retried").inc()
                eventlet.sleep(self.config.retry_backoff * attempt)
                continue
            counted.labels(**labels, outcome=outcome).inc()
            return
        reason = f"{handler.method_name}: {type(failure).__name__}: {failure}"
        self._dead_letter(record, "handler_failed", reason, event_type=event.name)

    def _dead_letter(
        self, record: Any, kind: str, reason: str, event_type: str = "unknown"
    ) -> None:
        """Park ``record`` on the group's dead-letter topic, untouched, with why.

        Acknowledged by the broker before the offset moves past the record, so a
        poison message is never lost, only set aside.
        """
        if self._dead_letters is None:
            self._dead_letters = KafkaProducer(
                bootstrap_servers=self.config.kafka_bootstrap, acks="all",
                enable_idempotence=True, client_id=f"{self.group}-dead-letters",
            )
        headers = [
            ("dead-letter-kind", kind.encode()),
            ("dead-letter-reason", reason[:MAX_REASON].encode("utf-8", "replace")),
            ("original-topic", record.topic.encode()),
            ("original-partition", str(record.partition).encode()),
            ("original-offset", str(record.offset).encode()),
            ("consumer-group", self.group.encode()),
        ]
        self._dead_letters.send(
            self.config.dead_letter_topic, key=record.key, value=record.value, headers=headers
        ).get(timeout=30)
        log.error("group %s: %s:%d@%d dead-lettered (%s)", self.group, record.topic,
                  record.partition, record.offset, kind)
        metrics.DEAD_LETTERED.labels(group=self.group, topic=record.topic).inc()
        metrics.EVENTS_CONSUMED.labels(
            group=self.group, topic=record.topic, event_type=event_type, outcome="dead_lettered"
        ).inc()

    def _close(self) -> None:
        self._close_consumer()
        if self._dead_letters is not None:
            self._dead_letters.close(timeout=5)
            self._dead_letters = None

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            try:
                self._consumer.close(autocommit=False, timeout_ms=5000)
            finally:
                self._consumer = None


class DomainEventHandler(Entrypoint):
    """The entrypoint: ``@domain_event_handler(context, event_name)``; ``event_name``
    may be a tuple of names, for a handler that treats several events alike."""

    consumer = KafkaEventConsumer()
    pools = DatabasePools()

    def __init__(
        self, context: str, event_name: str | tuple[str, ...],
        catalogue: Catalogue = contracts_catalogue,
        **kwargs: Any,
    ) -> None:
        self.context = context
        self.event_names = (event_name,) if isinstance(event_name, str) else tuple(event_name)
        self.catalogue = catalogue
        self._open: dict[Any, Any] = {}
        self._deferred: dict[Any, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        super().__init__(**kwargs)

    def setup(self) -> None:
        self.config = service_config.from_container(
            self.container.config, self.container.service_name
        )
        self.topic = self.config.topic(self.context)
        self.tracking_name = f"{self.config.consumer_group}:{self.method_name}"
        self.consumer.register_provider(self)

    def stop(self) -> None:
        self.consumer.unregister_provider(self)

    def tracked_transaction(self, worker_ctx: Any) -> Any:
        """The transaction opened for the event this worker handles (see ``database``)."""
        event = worker_ctx.args[0] if worker_ctx.args else None
        with self._lock:
            return self._open.get(getattr(event, "event_id", None))

    def defer_until_commit(self, worker_ctx: Any, actions: list[Callable[[], None]]) -> None:
        """Actions of the worker's units of work, run once its transaction committed."""
        event = worker_ctx.args[0] if worker_ctx.args else None
        with self._lock:
            self._deferred.setdefault(getattr(event, "event_id", None), []).extend(actions)

    def handle(self, event: DomainEvent) -> str:
        """Run the handler once in a tracked transaction: 'handled' or 'duplicate'.

        Raises :class:`HandlerFailed` (after rolling back, so no mark is left, and
        dropping the handler's on-commit actions).
        """
        database = self.pools.get(self.config.database_url)
        try:
            with database.transaction() as conn:
                marked = conn.execute(
                    "INSERT INTO processed_events (consumer, event_id) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (self.tracking_name, event.event_id),
                ).rowcount
                if not marked:
                    return "duplicate"
                with self._lock:
                    self._open[event.event_id] = conn
                try:
                    self._run_worker(event)
                finally:
                    with self._lock:
                        self._open.pop(event.event_id, None)
        except HandlerFailed:
            raise
        except Exception as exc:  # the commit itself failed: same as a failed handler
            raise HandlerFailed(str(exc)) from exc
        finally:
            with self._lock:
                deferred = self._deferred.pop(event.event_id, [])
        run_committed(deferred)  # reached only once committed
        return "handled"

    def _run_worker(self, event: DomainEvent) -> None:
        """Run the service method in a nameko worker and wait for its outcome.

        ``spawn_worker`` returns at once; ``handle_result`` runs in the worker
        right after the method, before the transaction is committed here.
        """
        done: eventlet.event.Event = eventlet.event.Event()

        def handle_result(worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(self, (event,), {}, handle_result=handle_result)
        exc_info = done.wait()
        if exc_info:
            raise HandlerFailed(str(exc_info[1])) from exc_info[1]


domain_event_handler: Callable[..., Any] = DomainEventHandler.decorator
