"""What the unit tests share: fixed people, sealed texts, and an in-memory log.

The log is not a stand-in for PostgreSQL (the event store has its own tests
against the real server); it is the smallest thing that turns what an
aggregate recorded into the ``RecordedEvent`` history it is replayed from,
under the two rules the domain relies on: an append is accepted only at the
stream's current version (optimistic concurrency), and only valid events are
stored (each is validated by the catalogue, in its stored JSON form, and read
back upcast, as the store does).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from contracts import catalogue, sealed
from contracts.examples import example_id
from services.eventcore.aggregate import Aggregate
from services.eventcore.events import RecordedEvent
from services.moderation.domain.report import Report

A = TypeVar("A", bound=Aggregate)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = example_id("moderation-test organisation")
MEMBER = example_id("moderation-test reported member")  # the one reported
REPORTER = example_id("moderation-test reporter")
SECOND_REPORTER = example_id("moderation-test second reporter")
OTHER_MEMBER = example_id("moderation-test someone else")
ALICE = example_id("moderator alice")
BOB = example_id("moderator bob")
CAROL = example_id("moderator carol")
FINGERPRINT = "fp:v1:platform-1:" + "ab" * 32
MODERATORS_KEY = "moderators-1"


def sealed_text(label: str) -> str:
    """A value in the sealed format (R8); the label only makes it distinct."""
    return sealed.seal_format(MODERATORS_KEY, label.encode().ljust(40, b"."))


def report(label: str, member: str = MEMBER, reporter: str = REPORTER) -> Report:
    return Report(example_id(f"report {label}"), reporter, member)


class StaleVersion(Exception):
    """The store's ``ConcurrencyConflict``: the stream moved since it was loaded."""


def _json(value: Any) -> Any:
    """The stored (JSON) form of validated data, as ``store.json_ready`` gives it."""
    def default(v: Any) -> str:
        if isinstance(v, datetime | date):
            return v.isoformat()
        if isinstance(v, uuid.UUID):
            return str(v)
        raise TypeError(type(v).__name__)
    return json.loads(json.dumps(value, default=default))


class Log:
    """One context's event log, with a clock the test moves."""

    def __init__(self, start: datetime = START) -> None:
        self.stored: list[RecordedEvent] = []  # as written: never upcast
        self.now = start

    def tick(self, minutes: int = 1) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now

    def version(self, stream_id: str) -> int:
        return sum(1 for e in self.stored if e.stream_id == stream_id)

    def save(self, aggregate: Aggregate) -> list[RecordedEvent]:
        """Append what ``aggregate`` recorded at the version it was loaded at."""
        events = aggregate.collect()
        actual = self.version(aggregate.id)
        if aggregate.version != actual:
            raise StaleVersion(f"{aggregate.id} is at {actual}, not {aggregate.version}")
        written = [self.write(aggregate.id, e.name, e.data, partner_org=aggregate.partner_org)
                   for e in events]
        if written:
            aggregate.version = written[-1].stream_version
        return written

    def write(self, stream_id: str, name: str, data: Mapping[str, Any], version: int | None = None,
              partner_org: str | None = None) -> RecordedEvent:
        """Store one event (``version``: an old schema version, to store legacy data)."""
        version = version or catalogue.latest_version(name)
        event = RecordedEvent(
            position=len(self.stored) + 1, stream_id=stream_id,
            stream_version=self.version(stream_id) + 1, event_id=uuid.uuid4(), name=name,
            version=version, data=_json(catalogue.validate(name, version, data)),
            partner_org=partner_org, recorded_at=self.now,
        )
        self.stored.append(event)
        return event

    def history(self, stream_id: str) -> list[RecordedEvent]:
        """The stream as ``store.load`` returns it: upcast to the latest versions."""
        out = []
        for e in self.stored:
            if e.stream_id == stream_id:
                version, data = catalogue.upcast(e.name, e.version, e.data)
                out.append(RecordedEvent(e.position, e.stream_id, e.stream_version, e.event_id,
                                         e.name, version, data, e.partner_org, e.recorded_at))
        return out

    def load(self, kind: type[A], stream_id: str) -> A | None:
        """``UnitOfWork.get``: the aggregate from its history, ``None`` if it has none."""
        history = self.history(stream_id)
        return kind.replay(stream_id, history) if history else None

    def names(self, stream_id: str | None = None) -> list[str]:
        return [e.name for e in self.stored if stream_id in (None, e.stream_id)]
