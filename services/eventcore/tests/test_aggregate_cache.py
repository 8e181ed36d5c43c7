"""The aggregate cache's guarantees (``aggregate_cache``), against the real PostgreSQL:
a kept state is only ever a committed one, each unit of work gets its own copy,
and what the log says wins over what was kept."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from services.eventcore import metrics
from services.eventcore.aggregate import Aggregate
from services.eventcore.aggregate_cache import AggregateCache
from services.eventcore.database import UnitOfWork, run_committed
from services.eventcore.service_config import from_container
from services.eventcore.settings import SettingsError
from services.eventcore.store import ConcurrencyConflict, EventStore
from services.eventcore.tests.factories import session_held


class HeldPair(Aggregate):
    """The minutes of every session a pair held, in order."""

    kind = "held-pair"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.minutes: list[int] = []

    def hold(self, minutes: int) -> None:
        self.record("SessionHeld", session_held(self.id, duration_minutes=minutes).data)

    def when_session_held(self, data: dict[str, Any]) -> None:
        self.minutes.append(data["duration_minutes"])
        if not isinstance(data["duration_minutes"], int):  # a bug that raises midway
            raise TypeError("minutes are counted in whole numbers")


@pytest.fixture
def cache() -> AggregateCache:
    return AggregateCache("sessions")


def loads(outcome: str) -> float:
    return metrics.AGGREGATE_LOADS.labels(context="sessions", kind="held-pair",
                                          outcome=outcome)._value.get()


class Units:
    """Units of work on one connection, committed (and their on-commit actions run)
    or rolled back as a service's would be."""

    def __init__(self, conn: psycopg.Connection, store: EventStore,
                 cache: AggregateCache | None) -> None:
        self.conn, self.store, self.cache = conn, store, cache

    def commit(self, decide: Any) -> Any:
        uow = UnitOfWork(self.conn, self.store, cache=self.cache)
        result = decide(uow)
        self.conn.commit()
        run_committed(uow.committed)
        return result

    def roll_back(self, decide: Any) -> None:
        uow = UnitOfWork(self.conn, self.store, cache=self.cache)
        decide(uow)
        self.conn.rollback()  # the on-commit actions are dropped, as on any failure

    def held(self, pair: str, *minutes: int) -> HeldPair:
        def decide(uow: UnitOfWork) -> HeldPair:
            aggregate = uow.get(HeldPair, pair) or HeldPair(pair)
            for m in minutes:
                aggregate.hold(m)
            uow.save(aggregate)
            return aggregate
        return self.commit(decide)

    def read(self, pair: str) -> HeldPair | None:
        return self.commit(lambda uow: uow.get(HeldPair, pair))


def test_a_kept_aggregate_is_brought_up_to_date_with_what_others_appended(conn, store, cache):
    """Another replica (here: a unit of work without the cache) appends after the kept
    version; the next load applies those events in order, as a replay would."""
    ours, others = Units(conn, store, cache), Units(conn, store, None)
    pair = str(uuid.uuid4())
    ours.held(pair, 60, 70)
    others.held(pair, 80, 90)
    fast_forwarded = loads("fast_forwarded")

    loaded = ours.read(pair)

    assert loads("fast_forwarded") == fast_forwarded + 1
    assert loaded.minutes == [60, 70, 80, 90] and loaded.version == 4
    assert vars(loaded) == vars(others.read(pair)), "the replay's state, to the attribute"


def test_a_decision_rolled_back_is_never_seen_again(conn, store, cache):
    units = Units(conn, store, cache)
    pair = str(uuid.uuid4())
    units.held(pair, 60)

    def hold_then_fail(uow: UnitOfWork) -> None:
        aggregate = uow.get(HeldPair, pair)
        aggregate.hold(120)
        uow.save(aggregate)
    units.roll_back(hold_then_fail)

    def hold_without_saving(uow: UnitOfWork) -> None:
        uow.get(HeldPair, pair).hold(110)  # decided, never appended, and committed
    units.commit(hold_without_saving)

    def save_then_hold_without_saving(uow: UnitOfWork) -> None:
        aggregate = uow.get(HeldPair, pair)
        aggregate.hold(90)
        uow.save(aggregate)
        aggregate.hold(100)  # decided after the save, never appended
    units.commit(save_then_hold_without_saving)

    loaded = units.read(pair)
    assert loaded.minutes == [60, 90] and loaded.version == 2


def test_a_state_off_its_events_is_never_kept_even_when_its_unit_commits(
        conn, store, cache, database_url):
    """A save refused (another writer got there first) or a decision half applied, whose
    error the caller caught before committing: the object's state follows from no list
    of events any more, and the next load is the log's."""
    units = Units(conn, store, cache)
    pair = str(uuid.uuid4())
    Units(conn, store, None).held(pair, 60)  # not kept yet: the next load replays

    def lose_a_race_and_go_on(uow: UnitOfWork) -> None:
        aggregate = uow.get(HeldPair, pair)
        with psycopg.connect(database_url) as other:  # another replica, first
            Units(other, store, None).held(pair, 70)
        aggregate.hold(111)
        with pytest.raises(ConcurrencyConflict):
            uow.save(aggregate)  # caught: the unit of work commits all the same
    units.commit(lose_a_race_and_go_on)
    assert units.read(pair).minutes == [60, 70]

    def half_apply_and_go_on(uow: UnitOfWork) -> None:
        aggregate = uow.get(HeldPair, pair)
        aggregate.hold(80)
        uow.save(aggregate)
        with pytest.raises(TypeError):
            aggregate.hold("eighty")  # its when_ method changes the state, then fails
    units.commit(half_apply_and_go_on)
    assert units.read(pair).minutes == [60, 70, 80]


def test_each_unit_of_work_gets_its_own_copy(conn, store, cache):
    """A handler that keeps changing an aggregate after its commit, or two units of
    work holding the same aggregate at once, never change what the next one loads."""
    units = Units(conn, store, cache)
    pair = str(uuid.uuid4())
    held = units.held(pair, 60)
    held.hold(100)  # after the commit: never saved

    first, second = units.read(pair), units.read(pair)
    first.hold(90)

    assert second.minutes == [60] and not second.pending
    assert units.read(pair).minutes == [60]


@pytest.mark.parametrize("now_in_the_log", [[110], [110, 111, 112, 113]],
                         ids=["shorter", "as-long-and-longer"])
def test_a_kept_state_the_log_no_longer_holds_is_replayed_from_the_log(
        conn, store, cache, now_in_the_log):
    """A database recreated or restored from a backup under a running service: the
    kept version is gone from the stream, or holds another event, and the log wins."""
    units = Units(conn, store, cache)
    pair = str(uuid.uuid4())
    units.held(pair, 60, 70, 80)
    # TRUNCATE is not a row deletion: the append-only trigger lets it through, as
    # a restore does.
    conn.execute("TRUNCATE events, outbox")
    conn.commit()
    Units(conn, store, None).held(pair, *now_in_the_log)  # the same stream, other events
    stale, replayed = loads("stale"), loads("replayed")

    loaded = units.read(pair)

    assert (loads("stale"), loads("replayed")) == (stale + 1, replayed), "one or the other"
    assert loaded.minutes == now_in_the_log and loaded.version == len(now_in_the_log)
    assert units.read(pair).minutes == now_in_the_log, "kept again, from the log"


def test_a_conflict_leaves_the_winner_to_be_fast_forwarded_to(conn, store, cache, database_url):
    """Two workers load the same kept aggregate and both decide: the second to save
    conflicts, and its retry starts from the winner's committed state."""
    units = Units(conn, store, cache)
    pair = str(uuid.uuid4())
    units.held(pair, 60)
    with psycopg.connect(database_url) as other_conn:
        loser_uow = UnitOfWork(other_conn, store, cache=cache)
        loser = loser_uow.get(HeldPair, pair)
        units.held(pair, 70)  # the winner commits first
        loser.hold(75)
        with pytest.raises(ConcurrencyConflict):
            loser_uow.save(loser)
        other_conn.rollback()

    retried = units.held(pair, 75)
    assert retried.minutes == [60, 70, 75] and retried.version == 3


def test_the_cache_is_bounded_in_bytes_and_can_be_turned_off(conn, store):
    units = Units(conn, store, AggregateCache("sessions"))
    pairs = [str(uuid.uuid4()) for _ in range(4)]
    for pair in pairs:
        units.held(pair, 60)
    one = len(units.cache._kept[(HeldPair, pairs[0])].state)
    small = AggregateCache("sessions", max_bytes=2 * one + one // 2)  # room for two
    units = Units(conn, store, small)
    for pair in pairs[:3]:
        units.read(pair)
    units.read(pairs[1])  # used again: kept before the one used least recently
    units.held(pairs[3], 70)

    assert len(small) == 2 and small.bytes <= small.max_bytes
    assert small.find(HeldPair, pairs[1]) is not None
    assert small.find(HeldPair, pairs[3]) is not None, "the one just committed"
    assert small.find(HeldPair, pairs[2]) is None, "the least recently used went out"
    assert metrics.AGGREGATE_CACHE_BYTES.labels(context="sessions")._value.get() == small.bytes

    units.held(pairs[3], *[90] * 400)  # now larger than the whole cache: let go
    assert small.find(HeldPair, pairs[3]) is None
    assert metrics.AGGREGATE_CACHE_BYTES.labels(context="sessions")._value.get() == small.bytes

    off = AggregateCache("sessions", max_bytes=0)
    Units(conn, store, off).held(str(uuid.uuid4()), 60)
    assert len(off) == 0 and off.bytes == 0


def test_loads_are_counted_by_how_and_a_missing_aggregate_is_no_load(conn, store, cache):
    units = Units(conn, store, cache)
    before = {o: loads(o) for o in ("replayed", "fast_forwarded", "stale")}
    assert units.read(str(uuid.uuid4())) is None
    pair = str(uuid.uuid4())
    Units(conn, store, None).held(pair, 60)
    units.read(pair)
    units.held(pair, 70)
    assert {o: loads(o) - before[o] for o in before} == {
        "replayed": 1, "fast_forwarded": 1, "stale": 0}


@pytest.mark.parametrize("value", [-1, "many", "1.5", True, None, "\u00b2"])
def test_a_bad_cache_size_in_a_service_config_is_refused_naming_it(value):
    with pytest.raises(SettingsError, match=r"EVENTCORE\.aggregate_cache_mib"):
        from_container({"EVENTCORE": {"aggregate_cache_mib": value}}, "sessions")
    config = from_container({"EVENTCORE": {"aggregate_cache_mib": "0"}}, "sessions")
    assert config.aggregate_cache_mib == 0
    assert from_container({}, "sessions").aggregate_cache_mib == 64
