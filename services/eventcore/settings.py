"""Where the servers are: one place for every address, read from the environment.

The local stack (``deploy/stackctl``), the services, the relays, the tests and the
benchmarks all read their addresses here, so a port changed in the environment
is changed everywhere at once. Defaults are the local stack's (all on loopback).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

#: The bounded contexts that own an event store, a database and a topic each.
CONTEXTS: tuple[str, ...] = ("identity", "matching", "sessions", "moderation")

#: libpq's ``sslmode`` values (https://www.postgresql.org/docs/15/libpq-ssl.html).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

#: Hosts whose traffic never leaves the machine.
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _port(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise SettingsError(f"{name}={port} is outside 1..65535")
    return port


class SettingsError(ValueError):
    """A setting in the environment cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    pg_host: str
    pg_port: int
    pg_user: str
    pg_password: str
    #: TLS to PostgreSQL. On loopback it is off: it would encrypt what never leaves
    #: the kernel, and it cost about 1 ms of CPU per command on the sessions path
    #: (PostgreSQL's CPU per SessionHeld fell from 1.77 to 0.82 ms without it).
    #: Elsewhere libpq's own default (``prefer``) unless MENTORING_PG_SSLMODE says.
    pg_sslmode: str
    kafka_bootstrap: str
    #: The local broker's KRaft controller listener (the local stack runs one combined
    #: broker+controller; clients never connect here, only the broker itself).
    kafka_controller_port: int
    amqp_uri: str
    prometheus_port: int
    gateway_port: int
    moderation_port: int

    def database_name(self, context: str) -> str:
        return f"mentoring_{context}"

    def database_url(self, database: str) -> str:
        """A libpq URL for ``database`` (a context name or a full database name)."""
        name = self.database_name(database) if database in CONTEXTS else database
        return (
            f"postgresql://{quote(self.pg_user)}:{quote(self.pg_password)}"
            f"@{self.pg_host}:{self.pg_port}/{name}?sslmode={self.pg_sslmode}"
        )

    @staticmethod
    def topic(context: str) -> str:
        return f"{context}.events"

    @staticmethod
    def dead_letter_topic(consumer_group: str) -> str:
        return f"{consumer_group}.dead-letter"


def _sslmode(host: str) -> str:
    mode = _env("MENTORING_PG_SSLMODE", "disable" if host in LOOPBACK else "prefer")
    if mode not in SSL_MODES:
        raise SettingsError(f"MENTORING_PG_SSLMODE={mode!r} is not one of {', '.join(SSL_MODES)}")
    return mode


def load() -> Settings:
    """Read the settings from the environment (``MENTORING_*``), defaults for the local stack."""
    pg_host = _env("MENTORING_PG_HOST", "127.0.0.1")
    return Settings(
        pg_host=pg_host,
        pg_port=_port("MENTORING_PG_PORT", 5433),
        pg_user=_env("MENTORING_PG_USER", "mentoring"),
        pg_password=_env("MENTORING_PG_PASSWORD", "mentoring"),
        pg_sslmode=_sslmode(pg_host),
        kafka_bootstrap=_env("MENTORING_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        kafka_controller_port=_port("MENTORING_KAFKA_CONTROLLER_PORT", 9093),
        amqp_uri=_env("MENTORING_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
        prometheus_port=_port("MENTORING_PROMETHEUS_PORT", 9090),
        gateway_port=_port("MENTORING_GATEWAY_PORT", 8000),
        moderation_port=_port("MENTORING_MODERATION_PORT", 8001),
    )
