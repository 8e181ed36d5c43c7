"""The moderators' public key, as sessions knows it: asked of moderation once, kept.

Report details are sealed with it (``servicekit.crypto.box_seal``): only
moderation, which holds the private half, can open them; not even this service
reads back what it wrote (R8). A key is public, so keeping it is harmless: it is
remembered by the process and stored in sessions' own database, so that a
member can still file a report while moderation restarts. A rotated key carries
a new key id; moderation's answer replaces the stored one when asked again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import eventlet
import psycopg
from nameko.exceptions import UnknownService

from services.servicekit.crypto import box_seal
from services.servicekit.errors import ServiceError

DDL = """
CREATE TABLE IF NOT EXISTS moderators_public_key (
    id          integer PRIMARY KEY CHECK (id = 1),
    key_id      text NOT NULL,
    public_key  text NOT NULL
);
"""

#: How long a report waits for moderation's answer before it is refused (503).
ASK_TIMEOUT = 10.0

_lock = threading.Lock()
_key: dict[str, str] | None = None


def install(conn: psycopg.Connection) -> None:
    conn.execute(DDL)


def _stored(conn: psycopg.Connection) -> dict[str, str] | None:
    row = conn.execute("SELECT key_id, public_key FROM moderators_public_key WHERE id = 1"
                       ).fetchone()
    return {"key_id": row[0], "public_key": row[1]} if row else None


def _asked(ask: Callable[[], Any]) -> dict[str, str]:
    try:
        with eventlet.Timeout(ASK_TIMEOUT):
            answer = ask()
    except (UnknownService, eventlet.Timeout):
        raise ServiceError.make(
            503, "service_unavailable", "The moderation service cannot be reached to seal "
            "the report for moderators: nothing was filed; send it again in a moment.",
        ) from None
    return {"key_id": str(answer["key_id"]), "public_key": str(answer["public_key"])}


def seal_for_moderators(transaction: Callable[[], Any], ask: Callable[[], Any],
                        plaintext: str) -> str:
    """``plaintext`` sealed for the moderators. ``transaction()`` opens a unit of work
    on sessions' database (the key is read, or kept, each in a short one of its own);
    ``ask()`` is the RPC to moderation, made only when neither the process nor the
    database knows the key yet, and outside any transaction."""
    global _key
    with _lock:
        key = _key
    if key is None:
        with transaction() as uow:
            key = _stored(uow.conn)
    if key is None:
        key = _asked(ask)
        with transaction() as uow:
            uow.conn.execute(
                "INSERT INTO moderators_public_key (id, key_id, public_key) VALUES (1, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET key_id = EXCLUDED.key_id, "
                "public_key = EXCLUDED.public_key", (key["key_id"], key["public_key"]))
    with _lock:
        _key = key
    return box_seal(key["public_key"], key["key_id"], plaintext)
