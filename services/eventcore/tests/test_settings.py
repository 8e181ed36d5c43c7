"""Where the servers are, read from the environment."""

from __future__ import annotations

import psycopg
import pytest

from services.eventcore import settings


def test_tls_to_postgresql_is_off_on_loopback_and_libpqs_default_elsewhere(monkeypatch):
    monkeypatch.delenv("MENTORING_PG_SSLMODE", raising=False)
    for host in settings.LOOPBACK:
        monkeypatch.setenv("MENTORING_PG_HOST", host)
        assert settings.load().database_url("sessions").endswith("?sslmode=disable")
    monkeypatch.setenv("MENTORING_PG_HOST", "postgres.mentoring.svc")
    assert settings.load().database_url("sessions").endswith("/mentoring_sessions?sslmode=prefer")
    monkeypatch.setenv("MENTORING_PG_SSLMODE", "verify-full")
    assert settings.load().pg_sslmode == "verify-full"


def test_an_unknown_tls_mode_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("MENTORING_PG_SSLMODE", "always")
    with pytest.raises(settings.SettingsError, match="MENTORING_PG_SSLMODE='always'"):
        settings.load()


def test_the_local_stacks_connections_are_plain_on_loopback():
    """What the setting buys is real: the server sees no TLS on these connections."""
    with psycopg.connect(settings.load().database_url("sessions")) as conn:
        (ssl,) = conn.execute(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl is False
