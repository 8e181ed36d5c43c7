"""The event store: append with optimistic concurrency, load a stream, read all.

Every append writes, in one statement and so in one transaction, the events
and one outbox row per event (the CloudEvent exactly as it will be published).
An event is therefore on its way to Kafka if and only if the command that
decided it committed: there is no second write to forget (the dual write
nameko-examples' commit-then-dispatch suffers from).

Why the order on Kafka holds per aggregate: two writers of one version of an
aggregate meet on the log's unique index on (stream, version); the second waits
for the first and, once it commits, gets :class:`ConcurrencyConflict`. A writer
of the version after can only have read the one before once it was committed,
so it draws its outbox ids after that commit: one aggregate's outbox ids grow
in commit order, which is the order the relay publishes in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row

from contracts import envelope
from services.eventcore import metrics
from services.eventcore.events import NewEvent, RecordedEvent
from services.eventcore.schema import OUTBOX_CHANNEL
from services.eventcore.settings import Settings


class Catalogue(Protocol):
    """What the store needs of the event catalogue (``contracts.catalogue`` is one)."""

    def validate(self, name: str, version: int, data: Mapping[str, Any]) -> dict[str, Any]: ...

    def latest_version(self, name: str) -> int: ...

    def context_of(self, name: str) -> str: ...

    def upcast(self, name: str, version: int, data: Mapping[str, Any]) -> tuple[int, dict]: ...


class EventStoreError(Exception):
    """Base of the store's own errors."""


class ConcurrencyConflict(EventStoreError):
    """Another writer appended to the stream since ``expected`` was read."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not {expected}: "
            "another writer got there first; reload and retry"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class ForeignEvent(EventStoreError):
    """An event of another bounded context: each context publishes only its own."""


def json_ready(value: Any) -> Any:
    """The JSON form of validated data (datetimes as ISO 8601, UUIDs as strings),
    as the store records it: the envelope's, so the log and Kafka agree."""
    return envelope.json_form(value)


# One statement: the events, their outbox rows, and the wake-up call for the
# relay (delivered by PostgreSQL only if the transaction commits). The parameters
# are positional scalars, the append's (``a``) then one row per event (``n``):
# psycopg converts them several times faster than named or array parameters, and
# an append is on every command's path.
#
# Optimistic concurrency is the log's own unique index on (stream_id,
# stream_version), with no version table to update beside it:
# - the first event (``expected + 1``) goes in only if the stream is exactly at
#   ``expected``: the expected version must exist (``EXISTS``, so a blind writer
#   cannot leave a hole), and the next must not (``ON CONFLICT DO NOTHING``,
#   which waits for a concurrent writer of that version and yields to it if it
#   commits, without aborting the caller's transaction);
# - the other events go in only if the first did (``f``); they cannot collide
#   then, since nobody writes ``expected + 2`` without ``expected + 1``.
# No row back means a conflict.
_APPEND_HEAD = """WITH a (stream_id, expected, partner_org, recorded_at, topic) AS (
    VALUES (%s::text, %s::int, %s::text, %s::timestamptz, %s::text)
),
n (stream_version, event_id, event_name, event_version, data, payload) AS (VALUES {rows}),
f AS (
    INSERT INTO events (stream_id, stream_version, event_id, event_name,
                        event_version, partner_org, data, recorded_at)
    SELECT a.stream_id, n.stream_version, n.event_id, n.event_name,
           n.event_version, a.partner_org, n.data, a.recorded_at
    FROM a JOIN n ON n.stream_version = a.expected + 1
    WHERE a.expected = 0 OR EXISTS (
        SELECT 1 FROM events x WHERE x.stream_id = a.stream_id AND x.stream_version = a.expected)
    ON CONFLICT (stream_id, stream_version) DO NOTHING
    RETURNING position, stream_version
),"""

_APPEND_REST = """
r AS (
    INSERT INTO events (stream_id, stream_version, event_id, event_name,
                        event_version, partner_org, data, recorded_at)
    SELECT a.stream_id, n.stream_version, n.event_id, n.event_name,
           n.event_version, a.partner_org, n.data, a.recorded_at
    FROM a JOIN n ON n.stream_version > a.expected + 1
    WHERE EXISTS (SELECT 1 FROM f)
    ORDER BY n.stream_version
    RETURNING position, stream_version
),
e AS (SELECT * FROM f UNION ALL SELECT * FROM r),"""

_APPEND_ONE = """
e AS (SELECT * FROM f),"""

_APPEND_TAIL = """
o AS (
    INSERT INTO outbox (event_position, topic, message_key, payload)
    SELECT e.position, a.topic, a.stream_id, n.payload
    FROM a, e JOIN n USING (stream_version)
    ORDER BY e.stream_version
)
SELECT e.position, e.stream_version, pg_notify('""" + OUTBOX_CHANNEL + """', a.topic) FROM e, a
ORDER BY e.stream_version
"""

_ROW = "(%s::int, %s::uuid, %s::text, %s::int, %s::jsonb, %s::bytea)"


@functools.cache
def _append_statement(count: int) -> str:
    """The append statement for ``count`` events (one text per count, so each is
    prepared once by the server and reused)."""
    head = _APPEND_HEAD.format(rows=", ".join([_ROW] * count))
    return head + (_APPEND_ONE if count == 1 else _APPEND_REST) + _APPEND_TAIL


_COLUMNS = """position, stream_id, stream_version, event_id, event_name, event_version,
              partner_org, data, recorded_at"""


class EventStore:
    """The event store of one bounded context, working on the caller's connection.

    The caller owns the transaction (a unit of work): an append becomes visible,
    and publishable, when the caller commits, together with whatever else the
    command wrote.
    """

    def __init__(self, context: str, catalogue: Catalogue, topic: str | None = None) -> None:
        self.context = context
        self.topic = topic or Settings.topic(context)
        self._catalogue = catalogue

    # -- writing -----------------------------------------------------------

    def append(
        self,
        conn: psycopg.Connection,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        partner_org: str | None = None,
    ) -> list[RecordedEvent]:
        """Append ``events`` after ``expected_version`` (0: a new stream) or raise
        :class:`ConcurrencyConflict`. Data is validated against the catalogue first,
        so an invalid event never reaches the log."""
        if not events:
            raise ValueError("append needs at least one event")
        if expected_version < 0:
            raise ValueError(f"expected_version must be >= 0, not {expected_version}")
        recorded_at = datetime.now(UTC)
        rows = [self._prepare(e, stream_id, expected_version + i + 1, partner_org, recorded_at)
                for i, e in enumerate(events)]
        params: list[Any] = [stream_id, expected_version, partner_org, recorded_at, self.topic]
        for r in rows:
            params += (r["stream_version"], r["event_id"], r["name"], r["version"],
                       r["data_json"], r["payload"])
        sql = _append_statement(len(rows))
        with conn.cursor() as cur:
            cur.execute(sql, params)
            positions = cur.fetchall()
        if not positions:
            raise ConcurrencyConflict(stream_id, expected_version, self.version(conn, stream_id))
        for r in rows:
            metrics.EVENTS_APPENDED.labels(context=self.context, event_type=r["name"]).inc()
        return [
            RecordedEvent(
                position=position,
                stream_id=stream_id,
                stream_version=stream_version,
                event_id=r["event_id"],
                name=r["name"],
                version=r["version"],
                data=r["data"],
                partner_org=partner_org,
                recorded_at=recorded_at,
            )
            for (position, stream_version, _), r in zip(positions, rows, strict=True)
        ]

    def _prepare(
        self,
        event: NewEvent,
        stream_id: str,
        stream_version: int,
        partner_org: str | None,
        recorded_at: datetime,
    ) -> dict[str, Any]:
        owner = self._catalogue.context_of(event.name)
        if owner != self.context:
            raise ForeignEvent(
                f"{event.name} belongs to the {owner} context; "
                f"the {self.context} store records only its own events"
            )
        version = event.version or self._catalogue.latest_version(event.name)
        validated = self._catalogue.validate(event.name, version, event.data)
        cloud_event = envelope.CloudEvent.new(
            context=self.context,
            name=event.name,
            version=version,
            subject=stream_id,
            data=validated,  # brought to its JSON form by the envelope
            aggregate_version=stream_version,
            partner_org=partner_org,
            event_id=str(event.event_id),
            time=recorded_at,
            check=False,  # data validated above, the rest built here
        )
        data = cloud_event.data
        return {
            "stream_version": stream_version,
            "event_id": event.event_id,
            "name": event.name,
            "version": version,
            "data": data,
            "data_json": json.dumps(data, separators=(",", ":"), ensure_ascii=False),
            "payload": envelope.encode(cloud_event),
        }

    # -- reading -----------------------------------------------------------

    def version(self, conn: psycopg.Connection, stream_id: str) -> int:
        """The stream's current version, 0 if it has no event."""
        return conn.execute(
            "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = %s",
            (stream_id,),
        ).fetchone()[0]

    def load(
        self, conn: psycopg.Connection, stream_id: str, after_version: int = 0
    ) -> list[RecordedEvent]:
        """One aggregate's events in order, each upcast to its latest schema version."""
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND stream_version > %s "
                "ORDER BY stream_version",
                (stream_id, after_version),
            )
            return [self._upcast(row) for row in cur]

    def read_all(
        self, conn: psycopg.Connection, after_position: int = 0, batch_size: int = 500
    ) -> Iterator[RecordedEvent]:
        """Every event of the context in global order (``position``), upcast.

        Positions are allocated before commit, so a live reader could see a gap
        fill in later; this is for replays (projection rebuilds, audits) of what
        is committed, and the live path is Kafka.
        """
        position = after_position
        while True:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(
                    f"SELECT {_COLUMNS} FROM events WHERE position > %s "
                    "ORDER BY position LIMIT %s",
                    (position, batch_size),
                )
                batch = [self._upcast(row) for row in cur]
            yield from batch
            if len(batch) < batch_size:
                return
            position = batch[-1].position

    def _upcast(self, row: dict[str, Any]) -> RecordedEvent:
        version, data = self._catalogue.upcast(row["event_name"], row["event_version"], row["data"])
        return RecordedEvent(
            position=row["position"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            event_id=row["event_id"],
            name=row["event_name"],
            version=version,
            data=data,
            partner_org=row["partner_org"],
            recorded_at=row["recorded_at"],
        )
