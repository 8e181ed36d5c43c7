"""Projections can be dropped and rebuilt from the events: each service's read
models, rebuilt from its own store and the topics it consumes, equal the live ones.

Runs against the live databases inside one REPEATABLE READ transaction that is
rolled back: the snapshot and the rebuild see the same events, and the running
services never see the rebuilt tables.
"""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from services.eventcore import settings as stack_settings
from services.eventcore.rebuild import rebuild_all, rebuild_context
from services.eventcore.testing import wait_until

#: The contexts whose services are running with projections to rebuild.
CONTEXTS = ["identity", "matching", "sessions", "moderation"]


def snapshot(conn: psycopg.Connection, tables: tuple[str, ...]) -> dict[str, list[str]]:
    taken = {}
    for table in tables:
        rows = conn.execute(sql.SQL("SELECT row_to_json(t)::text FROM {} t").format(
            sql.Identifier(table))).fetchall()
        taken[table] = sorted(r[0] for r in rows)
    return taken


def rebuilt_and_live(conf: stack_settings.Settings, context: str, source: str,
                     listed: tuple[Any, ...]) -> tuple[dict[str, list[str]], ...]:
    """The projections fed by ``source`` rebuilt from its topic, and as they are live,
    seen in one snapshot (the rebuild rolled back)."""
    tables = tuple(t for p in listed for t in p.tables)
    with psycopg.connect(conf.database_url(context)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        live = snapshot(conn, tables)
        rebuild_all(conn, context, (), {source: listed}, conf)
        rebuilt = snapshot(conn, tables)
        conn.rollback()
    return rebuilt, live


@pytest.fixture(scope="module")
def some_of_everything(operator) -> None:
    """At least some data of every kind, whatever ran before: members, a pair with a
    session (matching, sessions) and a report that opened a case (moderation)."""
    from tests.e2e.moderation import case_of, enrol
    from tests.e2e.pairs import form_pair

    org = operator.register_organisation()
    mentor, mentee = org.ready_member("mentor"), org.ready_member("mentee")
    pair = form_pair(org, mentor, org, mentee, formed_ago=timedelta(days=10))
    as_her = org.as_member(mentee)
    as_her.post(f"/v1/pairs/{pair}/held-sessions", {
        "started_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "duration_minutes": 90, "modality": "remote"}).ok()
    as_her.post(f"/v1/pairs/{pair}/reports", {"details": "She sold me a course"}).ok()
    case_of(enrol(), mentor)
    # A request through matching itself (its own store): once its pool has both.
    asking, asked = org.ready_member("mentee"), org.ready_member("mentor")
    wait_until(lambda: org.as_member(asking).post(
        f"/v1/matching/mentees/{asking}/requests", {"mentor_id": asked}).status == 201,
        what="a request matching accepts")


@pytest.mark.parametrize("context", CONTEXTS)
def test_rebuilt_projections_equal_the_live_ones(context, operator, some_of_everything):
    org = operator.register_organisation()  # something that just happened, too
    org.ready_member("mentor")
    conf = stack_settings.load()
    module = importlib.import_module(f"services.{context}.storage.projections")
    own, foreign = module.OWN, module.FOREIGN
    own_tables = tuple(t for p in own for t in p.tables)
    with psycopg.connect(conf.database_url(context)) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        live = snapshot(conn, own_tables)
        assert any(live.values()), "something to rebuild"
        done = rebuild_all(conn, context, own, {}, conf)
        assert sum(d.events for d in done) > 0
        assert snapshot(conn, own_tables) == live
        conn.rollback()
    # Foreign projections replay topics read at the moment (not the snapshot): they
    # are compared on their own, once the live consumer caught up with the topic (the
    # member registered above may still be on its way).
    for source, listed in foreign.items():
        deadline = time.monotonic() + 30
        rebuilt, live = rebuilt_and_live(conf, context, source, listed)
        while rebuilt != live and time.monotonic() < deadline:
            time.sleep(0.2)
            rebuilt, live = rebuilt_and_live(conf, context, source, listed)
        assert rebuilt == live, f"{context}: {source} projections"


def test_an_identity_rebuild_advances_the_credentials_epoch(operator):
    """A rebuild that corrects a projection may change who may act; the epoch moves
    with it, so every gateway forgets its cached credentials (and it moves only if
    the rebuild commits: here it is rolled back)."""
    from services.identity.storage import credentials_epoch

    conf = stack_settings.load()
    with psycopg.connect(conf.database_url("identity")) as conn:
        before = credentials_epoch.current(conn)
        conn.rollback()  # the epoch read first, by itself: identity's own changes go on
        done = rebuild_context(conn, "identity", conf)  # what the command line runs
        assert {d.projection for d in done} == {"IdentityReadModel", "ExclusionRegistry"}
        during = credentials_epoch.current(conn)
        # Advanced by the rebuild's own transaction, not by some change beside it.
        (by_the_rebuild,) = conn.execute(
            "SELECT xmin::text::bigint = mod(pg_current_xact_id()::text::bigint, 4294967296) "
            "FROM credentials_epoch").fetchone()
        conn.rollback()
    assert by_the_rebuild
    assert during != before
    assert during.split("/")[0] == before.split("/")[0], "the same incarnation, counted on"

