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


def committed(conn: psycopg.Connection, uow: UnitOfWork) -> None:
    """Commit, then run the unit of work's on-commit actions, as ``_UnitsOfWork`` does."""
    conn.commit()
    for action in uow.committed:
        action()


def hold(conn: psycopg.Connection, store: EventStore, streams: StreamCache | None, pair: str,
         times: int = 1) -> Tally:
    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair) or Tally(pair)
    for _ in range(times):
        tally.hold()
    uow.save(tally)
    committed(conn, uow)
    return tally


def read(conn: psycopg.Connection, store: EventStore, streams: StreamCache,
         pair: str) -> Tally | None:
    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair)
    committed(conn, uow)
    return tally


def other_writer_holds(database_url: str, pair: str) -> None:
    """Another process (its cache knows nothing of ours) holds a session of ``pair``."""
    with psycopg.connect(database_url) as other:
        hold(other, EventStore("sessions", catalogue, topic="unused.events"), None, pair)


def test_a_command_reads_from_the_log_only_what_is_new_since_the_stream_was_kept(conn, store):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=5)
    assert len(streams) == 0, "what a unit of work writes is not kept: it is read back"

    store.loads.clear()
    hold(conn, store, streams, pair)
    assert store.loads == [(0, 5)] and len(streams) == 5, "what it read first is kept"

    store.loads.clear()
    from_kept = reads("kept")
    tally = hold(conn, store, streams, pair)
    assert store.loads == [(4, 2)], "one load, from the last kept event (checked) on"
    assert reads("kept") == from_kept + 1
    assert tally.version == 7 and len(streams) == 6

    cached = UnitOfWork(conn, store, streams=streams)._history(pair)
    assert cached == store.load(conn, pair), "the same events, field by field, as a full load"


def test_events_of_other_writers_are_read_from_the_log(conn, store, database_url):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    read(conn, store, streams, pair)
    other_writer_holds(database_url, pair)

    tally = read(conn, store, streams, pair)
    assert tally is not None and tally.version == 4 and tally.minutes == 4 * 90
    assert len(streams) == 4, "what it read is kept too, once its transaction committed"


def test_an_event_rolled_back_by_a_savepoint_is_never_replayed(conn, store, database_url):
    """A unit of work writes a sixth event inside a savepoint that rolls back, goes
    on, and commits a seventh after another writer's sixth: nothing it wrote is
    kept, so no command replays the sixth that never was."""
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=5)
    read(conn, store, streams, pair)

    uow = UnitOfWork(conn, store, streams=streams)
    tally = uow.get(Tally, pair)
    with pytest.raises(RuntimeError), conn.transaction():
        tally.hold()
        rolled_back = uow.save(tally)
        raise RuntimeError("the savepoint rolls back")
    other_writer_holds(database_url, pair)  # the log's sixth
    tally.hold()
    uow.save(tally)  # expects 6, which exists now: the seventh
    committed(conn, uow)

    history = UnitOfWork(conn, store, streams=streams)._history(pair)
    assert [e.event_id for e in history] == [e.event_id for e in store.load(conn, pair)]
    assert rolled_back[0].event_id not in {e.event_id for e in history}


def test_a_kept_event_the_log_does_not_hold_is_caught_and_the_stream_read_in_full(
        conn, store, database_url):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=2)
    # One unit of work writes a third event; another, on the same transaction, reads
    # it and has its on-commit action run although the transaction rolls back (the
    # bug this check is for): a third event the log will not hold is kept.
    writer = UnitOfWork(conn, store, streams=streams)
    tally = writer.get(Tally, pair)
    tally.hold()
    writer.save(tally)
    reader = UnitOfWork(conn, store, streams=streams)
    reader.get(Tally, pair)
    conn.rollback()
    for action in reader.committed:
        action()
    kept_by_mistake = id_of(streams.kept(pair)[-1])
    assert len(streams) == 3

    store.loads.clear()
    mismatches = reads("mismatch")
    assert read(conn, store, streams, pair).version == 2, "no third event: the log has none"
    assert store.loads == [(2, 0), (0, 2)], "the check found nothing at 3: read in full"
    assert reads("mismatch") == mismatches + 1, "and ops are told"

    other_writer_holds(database_url, pair)
    for action in reader.committed:
        action()  # the wrong third kept again
    store.loads.clear()
    tally = read(conn, store, streams, pair)
    assert tally.version == 3 and store.loads == [(2, 1), (0, 3)]
    events = UnitOfWork(conn, store, streams=streams)._history(pair)
    assert str(events[-1].event_id) != kept_by_mistake, "the log's third, not the kept one"


def test_an_aggregate_may_change_the_data_it_is_given(conn, store):
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    first = read(conn, store, streams, pair)  # from the log, then kept
    second = read(conn, store, streams, pair)  # from the cache
    assert first.minutes == second.minutes == 3 * 90, "each read gets data of its own"
    assert [e.data["duration_minutes"] for e in streams.events(pair)] == [90, 90, 90]


def test_the_cache_keeps_at_most_its_bound_and_drops_the_least_recently_used(conn, store):
    streams = StreamCache(max_events=5)
    pairs = [str(uuid.uuid4()) for _ in range(3)]
    for pair in pairs:
        hold(conn, store, streams, pair, times=2)
        read(conn, store, streams, pair)
    assert len(streams) == 4 and streams.events(pairs[0]) == [], "the first pair left"
    read(conn, store, streams, pairs[1])  # used: the second pair is now the most recent
    read(conn, store, streams, pairs[0])
    assert [len(streams.events(p)) for p in pairs] == [2, 2, 0]
    with pytest.raises(ValueError, match="max_events"):
        StreamCache(max_events=0)


def test_kept_events_are_left_alone_by_the_garbage_collector(conn, store):
    """A full collection walks every tracked object while requests wait: what the
    cache holds must not be among them."""
    streams = StreamCache()
    pair = str(uuid.uuid4())
    hold(conn, store, streams, pair, times=3)
    read(conn, store, streams, pair)
    gc.collect()
    gc.collect()  # the first untracks the events, the second their tuple (built before them)
    kept = streams.kept(pair)
    assert len(kept) == 3
    assert not gc.is_tracked(kept) and not any(gc.is_tracked(event) for event in kept)
