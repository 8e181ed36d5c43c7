"""The base of every event-sourced aggregate: it decides, records and applies; nothing else.

An aggregate is pure (no database, no clock, no I/O): a command method checks
the rules against the current state and calls ``record(name, data)``, which
applies the event at once (so a second decision in the same command sees the
first) and queues it for the unit of work to append. Rebuilding from history
is the same ``apply``, event by event, so the state a command sees is exactly
the state the events say::

    class Member(Aggregate):
        def accept_charter(self, ...):
            if self.excluded:
                raise RuleViolation("R2", ...)
            self.record("CharterAccepted", {...})

        def when_charter_accepted(self, data):   # one ``when_`` per event name
            self.charter_version = data["charter_version"]

Events without a ``when_`` method change nothing (an aggregate states only
what its decisions need).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Self

from services.eventcore.events import NewEvent, RecordedEvent

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def handler_name(event_name: str) -> str:
    """``CharterAccepted`` -> ``when_charter_accepted``."""
    return "when_" + _CAMEL.sub("_", event_name).lower()


class Aggregate:
    """One consistency boundary, one stream: ``id`` is the stream id and Kafka key."""

    #: The partner organisation the aggregate's events are tagged with (CloudEvents
    #: extension), ``None`` for platform-level aggregates.
    partner_org: str | None
    kind: ClassVar[str] = "aggregate"
    #: Set when this object's state stopped following from its events: a decision
    #: half applied (its ``when_`` method raised), or taken for a save that failed.
    #: Whoever catches that error may go on, but such an object is never kept
    #: between units of work (``aggregate_cache``). Set on the instance only then.
    diverged: bool = False

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self.partner_org = None
        self.pending: list[NewEvent] = []

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def record(self, name: str, data: Mapping[str, Any]) -> None:
        """Decide ``name``: apply it now, append it when the unit of work saves."""
        try:
            self._apply(name, dict(data))
        except BaseException:
            self.diverged = True
            raise
        self.pending.append(NewEvent(name, dict(data)))

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        when = getattr(self, handler_name(name), None)
        if when is not None:
            when(data)

    @classmethod
    def replay(cls, aggregate_id: str, history: Iterable[RecordedEvent]) -> Self:
        """The aggregate as its recorded events leave it (no pending events)."""
        aggregate = cls(aggregate_id)
        aggregate.catch_up(history)
        return aggregate

    def catch_up(self, history: Iterable[RecordedEvent]) -> None:
        """Apply recorded events that follow this state (a replay from a kept state:
        ``aggregate_cache``), each exactly as a replay from the start applies it."""
        for event in history:
            self._apply(event.name, event.data)
            self.version = event.stream_version
            if event.partner_org is not None:
                self.partner_org = event.partner_org

    def collect(self) -> list[NewEvent]:
        """Take the pending events (the unit of work appends them)."""
        pending, self.pending = self.pending, []
        return pending
