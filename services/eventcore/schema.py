"""The tables the shared machinery keeps in every service's database.

One event store per bounded context: ``events`` is the append-only log (its
unique (stream_id, stream_version) is what serialises writers on one aggregate),
``outbox`` is what the relay still has to publish, ``processed_events`` is the
consumers' idempotency tracking, ``processed_commands`` the RPC commands'.
"""

from __future__ import annotations

import psycopg

#: Notification channel the append transaction signals on commit; the relay LISTENs.
OUTBOX_CHANNEL = "outbox"

DDL = """
CREATE TABLE IF NOT EXISTS events (
    position        bigserial PRIMARY KEY,
    stream_id       text NOT NULL,
    stream_version  integer NOT NULL CHECK (stream_version >= 1),
    event_id        uuid NOT NULL UNIQUE,
    event_name      text NOT NULL,
    event_version   integer NOT NULL CHECK (event_version >= 1),
    partner_org     text,
    data            jsonb NOT NULL,
    recorded_at     timestamptz NOT NULL,
    UNIQUE (stream_id, stream_version)
);

-- Append-only: the log is the proof (exclusions, missed meetings, matches), so
-- the database itself refuses to rewrite it.
CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
-- Created once: dropping and creating it again at every start would take an
-- exclusive lock on the log, and stall every append behind a long transaction.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'events_append_only'
                   AND tgrelid = 'events'::regclass) THEN
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
    END IF;
END $$;

-- Before the log's unique index did it alone, a version table stood beside it
-- (one more write per append); a database of that time loses it here.
DO $$
BEGIN
    IF to_regclass('event_streams') IS NOT NULL THEN
        -- CASCADE drops the log's reference to it (whatever its name), not the log.
        DROP TABLE event_streams CASCADE;
    END IF;
END $$;

CREATE TABLE IF NOT EXISTS outbox (
    id              bigserial PRIMARY KEY,
    event_position  bigint NOT NULL,
    topic           text NOT NULL,
    message_key     text NOT NULL,
    payload         bytea NOT NULL,
    enqueued_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS processed_events (
    consumer        text NOT NULL,
    event_id        uuid NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- RPC commands applied, by call id or by the caller's idempotency key: a call
-- delivered or sent again changes nothing (commands.py). A keyed command keeps
-- what it asked (a keyed digest) and what it answered, to answer a retry alike.
CREATE TABLE IF NOT EXISTS processed_commands (
    command_id      text PRIMARY KEY,
    applied_at      timestamptz NOT NULL DEFAULT now()
);
-- Altered where it lacks them only: ALTER TABLE locks the table even when it
-- has the columns, and every command writes to it. (request_sha256: a plain hash
-- of what was asked, replaced by the keyed digest before any release.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'processed_commands'
                   AND column_name = 'request_digest') THEN
        ALTER TABLE processed_commands ADD COLUMN IF NOT EXISTS request_digest text,
            ADD COLUMN IF NOT EXISTS reply jsonb, DROP COLUMN IF EXISTS request_sha256;
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS processed_commands_by_age ON processed_commands (applied_at);
"""


def install(conn: psycopg.Connection) -> None:
    """Create the tables if missing; safe to run at every start, from several processes."""
    with conn.transaction():
        # Concurrent CREATE ... IF NOT EXISTS can still collide on the catalog;
        # a transaction-level advisory lock makes installers take turns.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('eventcore.schema'))")
        conn.execute(DDL)
