"""Under eventlet, a database wait parks only its own green thread.

psycopg's C wait function would block the whole hub (ARCHITECTURE.md: four
``pg_sleep(1)`` took 4 s); ``services.eventcore`` selects ``wait_select``. These
tests prove it causally, with no timing threshold: the other RPC is answered
while the slow query is still running in PostgreSQL.
"""

from __future__ import annotations

import eventlet
import psycopg
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from contracts import catalogue
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.testing import wait_until


class SlowService:
    name = "eventcore_green_probe"
    uow = UnitOfWorkProvider(catalogue)

    @rpc
    def slow(self, seconds: float) -> str:
        with self.uow() as uow:
            uow.execute("SELECT pg_sleep(%s)", (seconds,))
        return "slept"

    @rpc
    def ping(self) -> str:
        return "pong"


@pytest.fixture
def service(settings, database_url, container_factory):
    config = {"AMQP_URI": settings.amqp_uri,
              "EVENTCORE": {"context": "sessions", "database_url": database_url}}
    container = container_factory(SlowService, config)
    container.start()
    return config


def sleeping_queries(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%%' "
            "AND state = 'active'"
        ).fetchone()[0]


def call(config: dict, method: str, *args: object) -> object:
    # A standalone proxy is not safe across green threads: one per call.
    with ClusterRpcProxy(config) as proxy:
        return getattr(proxy[SlowService.name], method)(*args)


def test_a_slow_query_does_not_stall_a_concurrent_rpc(service, database_url):
    finished: list[str] = []

    def slow() -> None:
        call(service, "slow", 4)
        finished.append("slow")

    thread = eventlet.spawn(slow)
    wait_until(lambda: sleeping_queries(database_url) == 1, what="the slow query to start")
    assert call(service, "ping") == "pong"
    finished.append("ping")
    still_sleeping = sleeping_queries(database_url)
    thread.wait()
    assert finished == ["ping", "slow"]
    assert still_sleeping == 1, "ping was answered while the slow query still ran"


def test_database_waits_of_several_workers_overlap(service, database_url):
    """Four workers each in pg_sleep: all four are inside PostgreSQL at once."""
    threads = [eventlet.spawn(call, service, "slow", 3) for _ in range(4)]
    wait_until(lambda: sleeping_queries(database_url) == 4, timeout=10,
               what="four concurrent pg_sleep (a blocked hub runs them one by one)")
    assert [t.wait() for t in threads] == ["slept"] * 4


def test_psycopg_waits_through_the_green_select_and_keeps_its_semantics(database_url):
    """What psycopg asks of its wait function, as this patched process runs it: a
    wait with a deadline ends at it, a query larger than the socket's buffers
    (waits for reading and writing at once) goes through, a server-side timeout
    is psycopg's own error, and pipelines work."""
    assert psycopg.waiting.wait is psycopg.waiting.wait_select, "chosen before psycopg loaded"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("LISTEN nobody_speaks")
        # A wait that ignored its deadline would hang here: fail instead, long after it.
        with eventlet.Timeout(30, AssertionError("notifies(timeout=0.2) never returned")):
            assert list(conn.notifies(timeout=0.2)) == [], "the wait ended at its deadline"

        ten_megabytes = "x" * 10_000_000
        assert conn.execute("SELECT length(%s)", (ten_megabytes,)).fetchone() == (10_000_000,)

        conn.execute("SET statement_timeout = 100")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(5)")
        conn.execute("RESET statement_timeout")

        with conn.pipeline():
            cursors = [conn.execute("SELECT %s::int", (n,)) for n in range(50)]
        assert [c.fetchone()[0] for c in cursors] == list(range(50))
