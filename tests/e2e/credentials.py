"""Identity's credentials epoch as the tests read it (``services/gateway/actors.py``
says what it is for): the count of changes of who may act."""

from __future__ import annotations

import psycopg

from services.eventcore import settings as stack_settings


def identity_database() -> psycopg.Connection:
    """A connection to identity's database (autocommitted when its block ends)."""
    return psycopg.connect(stack_settings.load().database_url("identity"))


def credentials_epoch() -> int:
    with identity_database() as conn:
        return conn.execute("SELECT epoch FROM credentials_epoch").fetchone()[0]
