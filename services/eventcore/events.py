"""The two shapes of an event inside a service: one to append, one read back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4


@dataclass(frozen=True)
class NewEvent:
    """An event an aggregate decided, not yet stored.

    ``version`` is the schema version of ``name``; ``None`` means the catalogue's
    latest, which is what new code always writes (old versions are only read).
    """

    name: str
    data: Mapping[str, Any]
    version: int | None = None
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as the store holds it, upcast to the latest schema version on read."""

    position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    name: str
    version: int
    data: dict[str, Any]
    partner_org: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class DomainEvent:
    """An event as a consumer or a projection sees it, wherever it came from
    (Kafka, or the event store during a rebuild); ``data`` is upcast."""

    event_id: UUID
    context: str
    name: str
    version: int
    stream_id: str
    stream_version: int
    partner_org: str | None
    time: datetime
    data: dict[str, Any]

    @classmethod
    def from_recorded(cls, context: str, event: RecordedEvent) -> DomainEvent:
        return cls(
            event_id=event.event_id,
            context=context,
            name=event.name,
            version=event.version,
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            partner_org=event.partner_org,
            time=event.recorded_at,
            data=event.data,
        )
