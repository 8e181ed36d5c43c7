"""Events as the store would keep them: validated by the catalogue at the latest
version, in JSON form, through JSON and back; and an aggregate replayed from them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import catalogue
from services.eventcore.events import RecordedEvent
from services.eventcore.store import json_ready
from services.matching.domain.pair import Pair


def store(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the event store appends for ``name``: refused if it breaks its contract."""
    loaded = catalogue.validate(name, catalogue.latest_version(name), data)
    return json.loads(json.dumps(json_ready(loaded)))


def collect(pair: Pair) -> list[tuple[str, dict[str, Any]]]:
    """The pair's pending events, each through the catalogue (as the store would)."""
    return [(event.name, store(event.name, dict(event.data))) for event in pair.collect()]


def replay(pair_id: str, history: list[tuple[str, dict[str, Any]]]) -> Pair:
    return Pair.replay(pair_id, [
        RecordedEvent(position=i + 1, stream_id=pair_id, stream_version=i + 1,
                      event_id=uuid.uuid4(), name=name,
                      version=catalogue.latest_version(name), data=data, partner_org=None,
                      recorded_at=datetime(2025, 3, 4, tzinfo=UTC))
        for i, (name, data) in enumerate(history)
    ])
