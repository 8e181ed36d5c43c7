"""What the sessions unit tests share: ids, sealed texts, a formed pair, and a
store-like round trip (validate against the catalogue, keep the JSON form,
upcast on read) so that replay is tested on what a real store would return."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import catalogue, sealed
from services.eventcore.events import RecordedEvent
from services.eventcore.store import json_ready
from services.servicekit.errors import DomainError
from services.sessions.domain import Pair

#: When matching formed the pair (a Monday, 10:00 UTC).
FORMED = datetime(2026, 1, 5, 10, tzinfo=UTC)
MENTOR_ORG = str(uuid.uuid5(uuid.NAMESPACE_URL, "org/mentor"))
MENTEE_ORG = str(uuid.uuid5(uuid.NAMESPACE_URL, "org/mentee"))


def new_id() -> str:
    return str(uuid.uuid4())


def days(n: float) -> timedelta:
    return timedelta(days=n)


def sealed_text(key_id: str, label: str = "text") -> str:
    """A value in the sealed format under ``key_id`` (shape only: the domain
    never opens it)."""
    return sealed.seal_format(key_id, label.encode().ljust(32, b"\0"))


def pair_text(pair: Pair, label: str = "text", by: str | None = None) -> str:
    """A text sealed for the pair by ``by`` (default: the mentor)."""
    return sealed_text(f"pair-{pair.id}-by-{by or pair.mentor_id}", label)


def moderators_text(label: str = "details") -> str:
    return sealed_text("moderators-1", label)


def formed_pair(mentor_org: str = MENTOR_ORG, mentee_org: str = MENTEE_ORG,
                formed_at: datetime = FORMED) -> Pair:
    return Pair.open(new_id(), new_id(), new_id(), mentor_org, mentee_org, formed_at)


def names(pair: Pair) -> list[str]:
    """Names of the events decided and not yet collected."""
    return [e.name for e in pair.pending]


def last(pair: Pair) -> dict[str, Any]:
    return dict(pair.pending[-1].data)


def refusal(error: type[DomainError], call: Any, *args: Any, **kwargs: Any) -> DomainError:
    """Run a command that must be refused, check nothing was recorded, return the error."""
    pair = getattr(call, "__self__", None)
    before = len(pair.pending) if isinstance(pair, Pair) else None
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    if before is not None:
        assert len(pair.pending) == before, "a refused command recorded an event"
    return caught.value


def held_session(pair: Pair, started_at: datetime, by: str | None = None,
                 minutes: int = 90, modality: str = "remote",
                 now: datetime | None = None) -> str:
    session_id = new_id()
    pair.record_session_held(session_id, by or pair.mentor_id, started_at, minutes, modality,
                             now or started_at + timedelta(hours=2))
    return session_id


def plan(pair: Pair, interval_days: int = 30, now: datetime = FORMED,
         next_dates: list[date] | None = None, by: str | None = None) -> None:
    pair.record_meeting_plan(by or pair.mentee_id, interval_days, "remote", now.date(),
                             next_dates or [], now)


class Store:
    """The events of one pair as a store keeps them: each validated against the
    latest schema (as the real store does on append), kept in JSON form, read
    back upcast."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def save(self, pair: Pair) -> list[RecordedEvent]:
        saved = []
        for event in pair.collect():
            version = event.version or catalogue.latest_version(event.name)
            data = json_ready(catalogue.validate(event.name, version, event.data))
            saved.append(self.append_stored(pair.id, event.name, version, data,
                                            pair.partner_org))
        pair.version = len(self.events)
        return saved

    def append_stored(self, stream_id: str, name: str, version: int, data: dict[str, Any],
                      partner_org: str | None = None) -> RecordedEvent:
        """Append as if written long ago at ``version`` (old versions included)."""
        catalogue.validate(name, version, data)
        latest, upcast = catalogue.upcast(name, version, data)
        recorded = RecordedEvent(
            position=len(self.events) + 1, stream_id=stream_id,
            stream_version=len(self.events) + 1, event_id=uuid.uuid4(), name=name,
            version=latest, data=upcast, partner_org=partner_org,
            recorded_at=FORMED,
        )
        self.events.append(recorded)
        return recorded

    def replay(self, pair_id: str) -> Pair:
        return Pair.replay(pair_id, self.events)


def state(pair: Pair) -> dict[str, Any]:
    """Everything the pair knows, but not its bookkeeping (pending, version)."""
    return {k: v for k, v in vars(pair).items() if k not in ("pending", "version")}
