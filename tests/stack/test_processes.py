"""The process runner (deploy/stackctl/processes.py) on throwaway processes.

They run in a temporary root, so the real stack's pid files, logs and Prometheus
targets are never touched.
"""

from __future__ import annotations

import os
import socket
import sys
import textwrap
from pathlib import Path

import pytest

from deploy.stackctl import config, processes, system
from deploy.stackctl.errors import StackError
from services.eventcore import settings as project_settings

SERVE = textwrap.dedent("""
    import sys, time
    from prometheus_client import start_http_server
    print("serving", flush=True)
    start_http_server(int(sys.argv[1]), addr="127.0.0.1")
    time.sleep(120)
""")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stack(tmp_path: Path) -> config.Stack:
    stack = config.Stack(project_settings.load(), config.Paths(tmp_path))
    stack.paths.make_dirs()
    return stack


def _process(stack: config.Stack, name: str, command: list[str], port: int) -> processes.Process:
    spec = processes.ProcessSpec(name=name, command=command, metrics_port=port, job="tests")
    return processes.Process(stack, spec)


def test_started_detached_ready_on_metrics_then_stopped(stack: config.Stack) -> None:
    port = _free_port()
    process = _process(stack, "probe", [sys.executable, "-c", SERVE, str(port)], port)
    process.start()
    try:
        processes.wait_ready([process], timeout=20)
        pid = process.pid()
        assert pid is not None and process.state().running
        assert system.identity(pid).root == str(stack.paths.root)
        assert "serving" in (stack.paths.log("probe")).read_text()
        # Its own session: a signal to our group (Ctrl-C, CI) does not reach it.
        assert os.getsid(pid) == pid
    finally:
        assert process.stop()
    assert not system.pid_alive(pid)
    assert not stack.paths.pidfile("probe").exists()
    assert not process.state().running


def test_a_process_that_dies_is_named_with_its_log_and_tail(stack: config.Stack) -> None:
    port = _free_port()
    command = [sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"]
    process = _process(stack, "doomed", command, port)
    process.start()
    with pytest.raises(StackError) as failure:
        processes.wait_ready([process], timeout=20)
    message = failure.value.message
    assert message.startswith("process doomed exited with status 3")
    assert message.endswith(" (.stack/logs/doomed.log)")
    assert "boom: bad config" in failure.value.detail


def test_a_process_that_never_answers_times_out(stack: config.Stack) -> None:
    port = _free_port()
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    process = _process(stack, "mute", command, port)
    process.start()
    try:
        with pytest.raises(StackError, match=r"process mute did not answer on .* within 1 s"):
            processes.wait_ready([process], timeout=1)
    finally:
        process.stop()


def test_manifest_placeholders(stack: config.Stack, tmp_path: Path) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text(textwrap.dedent("""
        [[process]]
        name = "gateway"
        command = ["{python}", "-m", "x", "--port", "{gateway_port}", "--metrics", "{metrics_port}"]
        metrics_port = 9111
        url = "http://127.0.0.1:{gateway_port}"
    """))
    (spec,) = processes.load_manifest(manifest, stack)
    gateway = str(stack.settings.gateway_port)
    assert spec.command == [str(stack.paths.python), "-m", "x", "--port", gateway,
                            "--metrics", "9111"]
    assert spec.url == f"http://127.0.0.1:{gateway}"
    assert spec.job == "gateway"


def test_the_shipped_manifest_runs_one_relay_per_context() -> None:
    stack = config.load()
    specs = processes.load_manifest(stack.paths.manifest, stack)
    relays = {spec.name: spec for spec in specs if spec.job == "relays"}
    assert set(relays) == {f"relay-{ctx}" for ctx in project_settings.CONTEXTS}
    assert sorted(spec.metrics_port for spec in relays.values()) == [9101, 9102, 9103, 9104]
