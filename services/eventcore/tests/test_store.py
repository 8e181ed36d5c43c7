"""The event store's guarantees, against the real PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from contracts import catalogue
from services.eventcore import schema
from services.eventcore.events import NewEvent
from services.eventcore.store import ConcurrencyConflict, EventStore, ForeignEvent
from services.eventcore.tests.factories import session_held, session_held_v1


def counts(conn: psycopg.Connection) -> tuple[int, int]:
    row = conn.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM outbox)")
    return row.fetchone()


def test_append_then_load_gives_the_events_in_order(conn, store):
    pair = str(uuid.uuid4())
    organisation = str(uuid.uuid4())
    store.append(conn, pair, 0, [session_held(pair), session_held(pair)], partner_org=organisation)
    store.append(conn, pair, 2, [session_held(pair)])
    conn.commit()

    events = store.load(conn, pair)
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert {e.name for e in events} == {"SessionHeld"}
    assert store.version(conn, pair) == 3
    assert counts(conn) == (3, 3), "one outbox row per event, written with it"


def test_two_writers_on_one_aggregate_exactly_one_wins_each_version(database_url, store):
    """Eight writers race for each of five versions: one wins, seven get a conflict."""
    pair = str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as c:
        schema.install(c)
    for expected in range(5):
        barrier = threading.Barrier(8)
        outcomes: list[str] = []

        def write(
            expected: int = expected, barrier: threading.Barrier = barrier,
            outcomes: list[str] = outcomes,
        ) -> None:
            with psycopg.connect(database_url) as c:
                barrier.wait()
                try:
                    store.append(c, pair, expected, [session_held(pair)])
                    c.commit()
                    outcomes.append("won")
                except ConcurrencyConflict as conflict:
                    assert conflict.expected == expected
                    assert conflict.actual == expected + 1
                    outcomes.append("conflict")

        threads = [threading.Thread(target=write) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"], f"version {expected + 1}"
    with psycopg.connect(database_url) as c:
        assert [e.stream_version for e in store.load(c, pair)] == [1, 2, 3, 4, 5]


def test_a_stale_or_blind_writer_gets_a_conflict_naming_the_versions(conn, store):
    pair = str(uuid.uuid4())
    store.append(conn, pair, 0, [session_held(pair), session_held(pair)])
    conn.commit()
    with pytest.raises(ConcurrencyConflict, match=r"at version 2, not 1"):
        store.append(conn, pair, 1, [session_held(pair)])
    with pytest.raises(ConcurrencyConflict, match=r"at version 2, not 5"):
        store.append(conn, pair, 5, [session_held(pair)])
    other = str(uuid.uuid4())
    with pytest.raises(ConcurrencyConflict, match=r"at version 0, not 3"):
        store.append(conn, other, 3, [session_held(other)])
    conn.rollback()
    assert counts(conn) == (2, 2)


def test_a_stale_append_of_several_events_writes_none_and_leaves_the_transaction_usable(
    conn, store
):
    """A stale writer's first event collides; the ones after it, which would not,
    are not written either (no hole, no fork), and the caller's transaction goes on."""
    pair = str(uuid.uuid4())
    store.append(conn, pair, 0, [session_held(pair), session_held(pair)])
    conn.commit()
    before = counts(conn)
    stale = [session_held(pair) for _ in range(3)]  # versions 2, 3, 4 after version 1
    with pytest.raises(ConcurrencyConflict, match=r"at version 2, not 1"):
        store.append(conn, pair, 1, stale)
    assert counts(conn) == before
    store.append(conn, pair, 2, [session_held(pair), session_held(pair)])  # not aborted
    conn.commit()
    events = store.load(conn, pair)
    assert [e.stream_version for e in events] == [1, 2, 3, 4]
    assert store.version(conn, pair) == 4
    positions = [e.position for e in events]
    assert positions == sorted(positions), "positions grow with the versions"
    outbox = conn.execute(
        "SELECT o.id, o.event_position FROM outbox o "
        "JOIN events e ON e.position = o.event_position "
        "WHERE e.stream_id = %s ORDER BY o.id", (pair,)).fetchall()
    assert [position for _, position in outbox] == positions, "the relay's order is the log's"


def test_invalid_event_data_is_refused_naming_the_field_and_nothing_is_written(conn, store):
    pair = str(uuid.uuid4())
    bad = session_held(pair, duration_minutes=45)  # R6: 60..120
    with pytest.raises(ValueError, match="duration_minutes"):
        store.append(conn, pair, 0, [session_held(pair), bad])
    conn.rollback()
    assert counts(conn) == (0, 0)
    assert store.version(conn, pair) == 0


def test_a_context_records_only_its_own_events(conn):
    identity = EventStore("identity", catalogue, topic="unused.events")
    pair = str(uuid.uuid4())
    with pytest.raises(ForeignEvent, match="belongs to the sessions context"):
        identity.append(conn, pair, 0, [session_held(pair)])


def test_the_log_is_append_only_in_the_database_itself(conn, store):
    pair = str(uuid.uuid4())
    store.append(conn, pair, 0, [session_held(pair)])
    conn.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("UPDATE events SET data = '{}'::jsonb")
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.rollback()
    assert counts(conn)[0] == 1


def test_an_event_of_an_old_version_is_read_through_its_upcaster(conn, store):
    pair = str(uuid.uuid4())
    old = session_held_v1(pair)
    store.append(conn, pair, 0, [old])
    conn.commit()
    stored = conn.execute("SELECT event_version, data FROM events").fetchone()
    assert stored[0] == 1, "the old event is kept as it was written, never rewritten"

    (event,) = store.load(conn, pair)
    latest = catalogue.latest_version("SessionHeld")
    assert latest > 1
    assert event.version == latest
    assert catalogue.validate("SessionHeld", latest, event.data)
    assert event.data["duration_minutes"] == 90
    assert event.data["modality"] == "remote"


def test_read_all_walks_every_stream_in_global_order(conn, store):
    pairs = [str(uuid.uuid4()) for _ in range(3)]
    for round_ in range(4):
        for pair in pairs:
            store.append(conn, pair, round_, [session_held(pair)])
    conn.commit()
    everything = list(store.read_all(conn, batch_size=5))
    assert len(everything) == 12
    positions = [e.position for e in everything]
    assert positions == sorted(positions)
    for pair in pairs:
        assert [e.stream_version for e in everything if e.stream_id == pair] == [1, 2, 3, 4]


def test_new_event_defaults_to_the_latest_schema_version(conn, store):
    pair = str(uuid.uuid4())
    (recorded,) = store.append(conn, pair, 0, [session_held(pair)])
    assert recorded.version == catalogue.latest_version("SessionHeld")
    assert isinstance(session_held(pair), NewEvent)


def test_every_event_of_the_catalogue_is_stored_as_a_decodable_cloud_event(database_url):
    """The store builds envelopes without re-checking them (``check=False``, on every
    command's path): every payload it writes must still pass ``envelope.decode``."""
    from contracts import envelope
    from contracts.examples import EXAMPLES

    with psycopg.connect(database_url, autocommit=True) as c:
        schema.install(c)
    organisation = str(uuid.uuid4())
    with psycopg.connect(database_url) as conn:
        for (name, version), data in EXAMPLES.items():
            store = EventStore(catalogue.context_of(name), catalogue, topic="unused.events")
            stream = str(uuid.uuid4())
            store.append(conn, stream, 0, [NewEvent(name, data, version=version)],
                         partner_org=organisation)
            payload = conn.execute(
                "SELECT payload FROM outbox JOIN events ON position = event_position "
                "WHERE stream_id = %s", (stream,)
            ).fetchone()[0]
            decoded = envelope.decode(bytes(payload))
            assert (decoded.event_name, decoded.event_version) == (name, version)
            assert (decoded.subject, decoded.partnerorg) == (stream, organisation)
            assert catalogue.validate(name, version, decoded.data)


def test_a_database_with_the_former_version_table_is_brought_forward_keeping_its_log(
    database_url, store
):
    """Databases written before the log's unique index served alone kept a version
    table beside it, referenced by the log: install drops both, keeps the events."""
    pair = str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as c:
        schema.install(c)  # the log of that time: the same table, with the reference
        c.execute("CREATE TABLE event_streams (stream_id text PRIMARY KEY, "
                  "version integer NOT NULL CHECK (version >= 1))")
        c.execute("ALTER TABLE events ADD CONSTRAINT events_to_their_stream "
                  "FOREIGN KEY (stream_id) REFERENCES event_streams (stream_id)")
        c.execute("INSERT INTO event_streams VALUES (%s, 1)", (pair,))
        c.execute("INSERT INTO events (stream_id, stream_version, event_id, event_name, "
                  "event_version, data, recorded_at) VALUES (%s, 1, %s, 'SessionHeld', 2, "
                  "%s::jsonb, now())",
                  (pair, uuid.uuid4(), '{"x": 1}'))

        schema.install(c)
        schema.install(c)  # and again at the next start: nothing left to do

        assert c.execute("SELECT to_regclass('event_streams')").fetchone()[0] is None
        c.autocommit = False
        assert store.version(c, pair) == 1
        store.append(c, pair, 1, [session_held(pair)])
        c.commit()
        assert store.version(c, pair) == 2
