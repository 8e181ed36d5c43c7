"""The hash chain's tables, written around every append (``ChainHook``), and read
back to verify (``read_chain``). The chain itself is pure: ``domain.chain``."""

from __future__ import annotations

from dataclasses import replace

import psycopg
from psycopg.rows import dict_row

from contracts import envelope
from services.eventcore.events import RecordedEvent
from services.moderation.domain.chain import (
    EMPTY,
    ChainHead,
    ChainLink,
    ChainRow,
    StoredEvent,
    extend,
    join,
)

DDL = """
CREATE TABLE IF NOT EXISTS event_chain (
    position           bigint PRIMARY KEY,
    event_id           uuid UNIQUE NOT NULL,
    previous_position  bigint NOT NULL,
    previous_hash      char(64) NOT NULL,
    hash               char(64) NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_head (
    id        integer PRIMARY KEY CHECK (id = 1),
    position  bigint NOT NULL,
    hash      char(64) NOT NULL
);
"""


class ChainHook:
    """An ``AppendHook`` of moderation's unit of work: every event it appends is
    linked to the one before, in the append's own transaction."""

    def __init__(self) -> None:
        # The head each open transaction locked, by connection (workers are green
        # threads sharing this hook; the row lock makes their appends take turns).
        self._heads: dict[int, ChainHead] = {}

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(DDL)
        conn.execute("INSERT INTO chain_head (id, position, hash) VALUES (1, %s, %s) "
                     "ON CONFLICT (id) DO NOTHING", (EMPTY.position, EMPTY.hash))

    def before_append(self, conn: psycopg.Connection) -> None:
        # Taken before the store allocates positions: appends take turns, so the
        # chain follows position order (a few appends a minute: no contention).
        row = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1 FOR UPDATE"
                           ).fetchone()
        self._heads[id(conn)] = ChainHead(row[0], row[1]) if row else EMPTY

    def after_append(self, conn: psycopg.Connection, recorded: list[RecordedEvent]) -> None:
        head = self._heads.pop(id(conn), None)
        if head is None:
            raise RuntimeError("after_append without before_append")
        links, new_head = extend(head, [StoredEvent.from_recorded(e) for e in recorded])
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO event_chain (position, event_id, previous_position, "
                "previous_hash, hash) VALUES (%s, %s, %s, %s, %s)",
                [(li.position, li.event_id, li.previous_position, li.previous_hash, li.hash)
                 for li in links],
            )
        conn.execute("UPDATE chain_head SET position = %s, hash = %s WHERE id = 1",
                     (new_head.position, new_head.hash))
        _carry_links(conn, links)


def _carry_links(conn: psycopg.Connection, links: list[ChainLink]) -> None:
    """Each event leaves for Kafka carrying its link (``chainpos``, ``chainprev``,
    ``chainhash``): the chain can then be checked from the topic, out of reach of
    whoever could rewrite the database. Same transaction: the outbox row is not yet
    visible to the relay."""
    for link in links:
        row = conn.execute("SELECT id, payload FROM outbox WHERE event_position = %s",
                           (link.position,)).fetchone()
        if row is None:
            continue
        chained = replace(envelope.decode(bytes(row[1])), chainpos=link.position,
                          chainprev=link.previous_hash, chainhash=link.hash)
        conn.execute("UPDATE outbox SET payload = %s WHERE id = %s",
                     (envelope.encode(chained), row[0]))


def read_chain(conn: psycopg.Connection) -> tuple[list[ChainRow], ChainHead]:
    """Both tables as stored (events never upcast), joined by position, and the head."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT position, stream_id, stream_version, event_id, event_name, "
                    "event_version, partner_org, data, recorded_at FROM events")
        events = [StoredEvent.from_row(row) for row in cur]
        cur.execute("SELECT position, event_id, previous_position, previous_hash, hash "
                    "FROM event_chain")
        links = [ChainLink(r["position"], str(r["event_id"]), r["previous_position"],
                           r["previous_hash"], r["hash"]) for r in cur]
        cur.execute("SELECT position, hash FROM chain_head WHERE id = 1")
        head_row = cur.fetchone()
    head = ChainHead(head_row["position"], head_row["hash"]) if head_row else EMPTY
    return join(events, links), head
