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
