"""Events for the event-core tests and benchmarks: ``SessionHeld`` of a given pair.

The event core is domain-agnostic; ``SessionHeld`` is simply a real event of
the catalogue with two schema versions, so it exercises validation, the
outbox payload and the v1 -> v2 upcaster all at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from contracts import envelope
from contracts.examples import example
from services.eventcore.events import NewEvent


def _held_data(pair: str, version: int, **changes: Any) -> dict[str, Any]:
    data = example("SessionHeld", version)
    data.update(pair_id=pair, session_id=str(uuid.uuid4()))
    data.update(changes)
    return data


def session_held(pair: str, **changes: Any) -> NewEvent:
    """A ``SessionHeld`` at the catalogue's latest version (90 minutes, remote)."""
    return NewEvent("SessionHeld", _held_data(pair, 2, **changes))


def session_held_v1(pair: str) -> NewEvent:
    """A ``SessionHeld`` as the first release wrote it: 1.5 hours, "online"."""
    return NewEvent("SessionHeld", _held_data(pair, 1), version=1)


def held_cloud_event(pair: str, version: int, minutes: int) -> envelope.CloudEvent:
    """A latest-version ``SessionHeld`` as it would be on Kafka; ``version`` is the
    aggregate (stream) version, each call a new event id."""
    return envelope.CloudEvent.new(
        context="sessions", name="SessionHeld", version=2, subject=pair,
        data=_held_data(pair, 2, duration_minutes=minutes), aggregate_version=version,
    )


def held_v1_cloud_event(pair: str) -> envelope.CloudEvent:
    """A v1 ``SessionHeld`` on Kafka (1.5 hours): consumers see it upcast to 90 minutes."""
    return envelope.CloudEvent.new(
        context="sessions", name="SessionHeld", version=1, subject=pair,
        data=_held_data(pair, 1), aggregate_version=1,
    )
