"""Expected failures are one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket

from .helpers import stackctl


def test_a_broken_setting_is_one_line_naming_the_variable() -> None:
    done = stackctl("check", env={"MENTORING_PG_PORT": "abc"})
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines == ["stackctl: config error: MENTORING_PG_PORT='abc' is not a port number"]
    assert "Traceback" not in done.stdout + done.stderr


def test_a_broken_tls_mode_is_named_with_the_modes_libpq_knows() -> None:
    done = stackctl("check", env={"MENTORING_PG_SSLMODE": "sometimes"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "stackctl: config error: MENTORING_PG_SSLMODE='sometimes' is not one of disable, "
        "allow, prefer, require, verify-ca, verify-full"
    ]


def test_a_broken_bootstrap_address_is_named() -> None:
    done = stackctl("status", env={"MENTORING_KAFKA_BOOTSTRAP": "nohostport"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "stackctl: config error: MENTORING_KAFKA_BOOTSTRAP='nohostport' is not host:port"
    ]


def test_a_port_held_by_a_stranger_is_named_in_one_line() -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        done = stackctl("check", env={"MENTORING_PROMETHEUS_PORT": str(port)})
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"stackctl: port {port} (Prometheus) is in use by another process")
    assert f"pid {os.getpid()}" in lines[0]
    assert "Traceback" not in done.stderr


def test_check_passes_on_the_running_stack() -> None:
    # Our own servers hold their ports: that is not a conflict.
    done = stackctl("check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stackctl: check ok")


def test_a_broken_manifest_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    manifest = tmp_path / "processes.toml"
    manifest.write_text('[[process]]\nname = "x"\ncommand = ["{nope}"]\nmetrics_port = 9\n')
    done = stackctl("--manifest", str(manifest), "check")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"stackctl: process 'x': unknown placeholder {{nope}} ({manifest})"
    ]
