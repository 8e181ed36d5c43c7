"""The streams a process keeps (``stream_cache``): a command reads only what is new,
and never a history the log does not hold. Against the real PostgreSQL."""

from __future__ import annotations

import gc
import uuid
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from contracts import catalogue
from services.eventcore.aggregate import Aggregate
from services.eventcore.database import UnitOfWork
from services.eventcore.events import RecordedEvent
from services.eventcore.store import EventStore
from services.eventcore.stream_cache import StreamCache, id_of
from services.eventcore.tests.factories import session_held


class CountingStore(EventStore):
    """The real store, noting what each load asked for and how many events came back."""

    def __init__(self) -> None:
        super().__init__("sessions", catalogue, topic="unused.events")
        self.loads: list[tuple[int, int]] = []

    def load(self, conn: psycopg.Connection, stream_id: str,
             after_version: int = 0) -> list[RecordedEvent]:
        events = super().load(conn, stream_id, after_version)
        self.loads.append((after_version, len(events)))
        return events


class Tally(Aggregate):
    """Minutes held; it keeps, and marks, the very data it is given."""

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.minutes = 0
        self.seen: list[dict[str, Any]] = []

    def when_session_held(self, data: dict[str, Any]) -> None:
        self.minutes += data["duration_minutes"]
        data["duration_minutes"] = 0  # a careless handler: the next replay must not see it
        self.seen.append(data)

    def hold(self) -> None:
        self.record("SessionHeld", session_held(self.id).data)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


def reads(source: str) -> float:
    return REGISTRY.get_sample_value("eventstore_stream_reads_total",
                                     {"context": "sessions", "source": source}) or 0.0


def hold(conn: psycopg.Connection, store: EventStore, streams: StreamCache | None, pair: str,
         times: int = 1) -> Tally:
    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair) or Tally(pair)
    for _ in range(times):
        tally.hold()
    uow.save(tally)
    conn.commit()
    for action in uow.committed:
        action()
    return tally


def held_uncommitted(conn: psycopg.Connection, store: EventStore, streams: StreamCache,
                     pair: str) -> UnitOfWork:
    """A unit of work that has held one more session and not committed (yet)."""
    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair)
    tally.hold()
    uow.save(tally)
    return uow


def read(conn: psycopg.Connection, store: EventStore, streams: StreamCache,
         pair: str) -> Tally | None:
    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair)
    conn.commit()
    for action in uow.committed:
        action()
    return tally


def test_a_command_reads_from_the_log_only_what_is_new_since_the_stream_was_kept(conn, store):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=5)
    assert len(streams) == 5, "what the command appended is kept once committed"

    store.loads.clear()
    from_kept = reads("kept")
    tally = hold(conn, store, streams, pair)
    assert store.loads == [(4, 1)], "one load, from the last kept event (checked) on"
    assert reads("kept") == from_kept + 1
    assert tally.version == 6 and len(streams) == 6

    cached = UnitOfWork(conn, store, streams=streams)._history(pair)
    assert cached == store.load(conn, pair), "the same events, field by field, as a full load"


def test_events_of_other_writers_are_read_from_the_log(conn, store, database_url):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    with psycopg.connect(database_url) as other:  # another process: this cache knows nothing
        hold(other, EventStore("sessions", catalogue, topic="unused.events"), None, pair)

    tally = read(conn, store, streams, pair)
    assert tally is not None and tally.version == 4 and tally.minutes == 4 * 90
    assert len(streams) == 4, "what it read is kept too, once its transaction committed"


def test_nothing_is_kept_of_a_unit_of_work_that_rolled_back(conn, store):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=2)
    held_uncommitted(conn, store, streams, pair)
    conn.rollback()  # and so its on-commit actions never run
    assert len(streams) == 2
    assert read(conn, store, streams, pair).version == 2


def test_a_kept_event_the_log_does_not_hold_is_caught_and_the_stream_read_in_full(
        conn, store, database_url):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=2)
    # A third event that never committed (kept by mistake: its unit of work's
    # on-commit action run anyway), then another writer's third event under the
    # same version: the kept end is not the log's.
    phantom = held_uncommitted(conn, store, streams, pair)
    phantom._remember_streams()
    conn.rollback()
    assert len(streams) == 3

    store.loads.clear()
    mismatches = reads("mismatch")
    assert read(conn, store, streams, pair).version == 2, "no third event: the log has none"
    assert store.loads == [(2, 0), (0, 2)], "the check found nothing at 3: read in full"
    assert reads("mismatch") == mismatches + 1, "and ops are told"

    with psycopg.connect(database_url) as other:
        hold(other, EventStore("sessions", catalogue, topic="unused.events"), None, pair)
    phantom._remember_streams()  # the wrong third again
    store.loads.clear()
    tally = read(conn, store, streams, pair)
    assert tally.version == 3 and store.loads == [(2, 1), (0, 3)]
    events = UnitOfWork(conn, store, streams=streams)._history(pair)
    kept_by_mistake = id_of(phantom._histories[pair][-1])
    assert str(events[-1].event_id) != kept_by_mistake, "the log's third, not the kept one"


def test_an_aggregate_may_change_the_data_it_is_given(conn, store):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    first = read(conn, store, streams, pair)
    second = read(conn, store, streams, pair)
    assert first.minutes == second.minutes == 3 * 90, "each read gets data of its own"
    assert [e.data["duration_minutes"] for e in streams.events(pair)] == [90, 90, 90]


def test_the_cache_keeps_at_most_its_bound_and_drops_the_least_recently_used(conn, store):
    streams = StreamCache(max_events=5)
    pairs = [str(uuid.uuid4()) for _ in range(3)]
    for pair in pairs:
        hold(conn, store, streams, pair, times=2)
    assert len(streams) == 4 and streams.events(pairs[0]) == [], "the first pair left"
    read(conn, store, streams, pairs[1])  # used: the second pair is now the most recent
    hold(conn, store, streams, pairs[0], times=1)
    assert [len(streams.events(p)) for p in pairs] == [3, 2, 0]
    with pytest.raises(ValueError, match="max_events"):
        StreamCache(max_events=0)


def test_kept_events_are_left_alone_by_the_garbage_collector(conn, store):
    """A full collection walks every tracked object while requests wait: what the
    cache holds must not be among them."""
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    gc.collect()
    gc.collect()  # the first untracks the events, the second their tuple (built before them)
    kept = streams.kept(pair)
    assert len(kept) == 3
    assert not gc.is_tracked(kept) and not any(gc.is_tracked(event) for event in kept)
