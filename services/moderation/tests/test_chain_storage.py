"""The hash chain against a real PostgreSQL: every append through the unit of work
is linked in its transaction, and a row edited or deleted behind the service's
back (trigger dropped, as a database owner could) is found and named."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from contracts import catalogue
from contracts.examples import example
from services.eventcore import schema
from services.eventcore.database import UnitOfWork
from services.eventcore.events import NewEvent
from services.eventcore.store import EventStore
from services.moderation.domain.chain import FindingKind, first_broken, verify
from services.moderation.storage.chain import ChainHook, read_chain


@pytest.fixture
def database(database_url):
    with psycopg.connect(database_url, autocommit=True) as conn:
        schema.install(conn)
        ChainHook().create(conn)
    return database_url


def append_cases(database_url: str, hook: ChainHook, count: int) -> None:
    store = EventStore("moderation", catalogue, topic="unused.events")
    with psycopg.connect(database_url) as conn:
        for _ in range(count):
            case_id = str(uuid.uuid4())
            data = example("CaseOpened", catalogue.latest_version("CaseOpened"))
            data.update(case_id=case_id, report_id=str(uuid.uuid4()),
                        opened_at=datetime.now(UTC).isoformat())
            UnitOfWork(conn, store, hooks=(hook,)).append(case_id, 0, [NewEvent("CaseOpened",
                                                                              data)])
            conn.commit()


def findings(database_url: str):
    with psycopg.connect(database_url) as conn:
        rows, head = read_chain(conn)
    return verify(rows, anchor=head), len(rows)


def test_every_append_is_chained_even_from_concurrent_writers(database):
    hook = ChainHook()
    threads = [threading.Thread(target=append_cases, args=(database, hook, 10))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found, events = findings(database)
    assert events == 40
    assert found == [], found


def tamper(database_url: str, statement: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        conn.execute(statement)
        conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


@pytest.mark.parametrize("statement, kind", [
    ("UPDATE events SET data = jsonb_set(data, '{sequence}', '7') WHERE position = "
     "(SELECT min(position) + 2 FROM events)", FindingKind.EDITED),
    ("UPDATE events SET recorded_at = recorded_at + interval '1 day' WHERE position = "
     "(SELECT min(position) + 2 FROM events)", FindingKind.EDITED),
    ("DELETE FROM events WHERE position = (SELECT min(position) + 2 FROM events)",
     FindingKind.DELETED),
])
def test_a_row_edited_or_deleted_directly_is_found_at_its_position(database, statement, kind):
    append_cases(database, ChainHook(), 6)
    with psycopg.connect(database) as conn:
        third = conn.execute("SELECT min(position) + 2 FROM events").fetchone()[0]
    assert findings(database)[0] == []
    tamper(database, statement)
    found, _ = findings(database)
    assert found and first_broken(found) == third
    assert kind in {f.kind for f in found}


def test_a_link_deleted_with_its_event_is_still_found(database):
    append_cases(database, ChainHook(), 5)
    with psycopg.connect(database, autocommit=True) as conn:
        last = conn.execute("SELECT max(position) FROM events").fetchone()[0]
    tamper(database, f"DELETE FROM events WHERE position = {last - 1}")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DELETE FROM event_chain WHERE position = %s", (last - 1,))
    found, _ = findings(database)
    assert first_broken(found) == last - 1


def test_the_verify_command_exits_1_naming_the_broken_position(database, capsys):
    from services.moderation import cli

    append_cases(database, ChainHook(), 4)
    assert cli.main(["verify-chain", "--database", database]) == 0
    assert "intact, 4 events" in capsys.readouterr().out
    tamper(database, "UPDATE events SET data = jsonb_set(data, '{sequence}', '9') "
                     "WHERE position = (SELECT max(position) FROM events)")
    assert cli.main(["verify-chain", "--database", database]) == 1
    with psycopg.connect(database) as conn:
        last = conn.execute("SELECT max(position) FROM events").fetchone()[0]
    assert f"BROKEN at position {last}" in capsys.readouterr().err
