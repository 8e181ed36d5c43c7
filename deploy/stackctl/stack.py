"""The orchestration: preflight, up, down and status over all components, in order.

Start order is dependency order (databases and brokers before the processes that
use them, Prometheus before the processes so that it scrapes them from their
first second); stop order is the reverse.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path

from deploy.stackctl import apt, system
from deploy.stackctl.component import Component
from deploy.stackctl.config import Stack
from deploy.stackctl.errors import StackError
from deploy.stackctl.kafka import CONSUMER_GROUPS, Kafka
from deploy.stackctl.postgres import Postgres
from deploy.stackctl.processes import (
    Process,
    ProcessSpec,
    load_manifest,
    running_names,
    stop_by_pidfile,
    wait_ready,
)
from deploy.stackctl.prometheus import Prometheus
from deploy.stackctl.rabbitmq import RabbitMQ
from services.eventcore import settings as project_settings
from services.servicekit import secrets as platform_secrets

_LAUNCH_ORDER = ["rabbitmq", "kafka", "prometheus", "postgres"]


def servers(stack: Stack, specs: list[ProcessSpec]) -> list[Component]:
    return [Postgres(stack), RabbitMQ(stack), Kafka(stack), Prometheus(stack, specs)]


def _postgres_marker(stack: Stack) -> Path:
    # The cluster is the machine's (Debian's registry), not this checkout's: remember
    # whether our up started it, so that down stops it only then.
    return stack.paths.stack / "postgres.started"


# -- preflight -----------------------------------------------------------------


def preflight(stack: Stack, components: Iterable[Component]) -> list[str]:
    """Problems that would make ``up`` fail: ports taken by strangers, missing tools."""
    problems: list[str] = []
    seen: dict[int, str] = {}
    for component in components:
        for port in component.ports():
            if port in seen:
                problems.append(f"config error: port {port} is set for both {seen[port]} "
                                f"and {component.label}")
                continue
            seen[port] = component.label
            owner = system.port_owner(port)
            if owner is None:
                if system.port_listening(port):
                    problems.append(f"port {port} ({component.label}) is in use by another "
                                    "process (pid unknown)")
                continue
            if not component.owns(owner):
                problems.append(f"port {port} ({component.label}) is in use by another process "
                                f"(pid {owner} cmd {system.cmdline(owner)})")
    for tool, why in (("java", "Java 17 runs Kafka"), ("mvn", "Maven fetches the Kafka jars")):
        if shutil.which(tool) is None:
            problems.append(f"{tool} not found on PATH ({why})")
    return problems


def check(stack: Stack, manifest: Path) -> None:
    specs = load_manifest(manifest, stack)
    problems = preflight(stack, [*servers(stack, specs), *(Process(stack, s) for s in specs)])
    if problems:
        raise StackError("\n".join(problems))
    missing = apt.missing()
    note = f"; up will install {' '.join(missing)}" if missing else ""
    print(f"stackctl: check ok: settings, ports, java, mvn{note}")


# -- up ------------------------------------------------------------------------


class Recorder:
    """``up --record FILE``: what this invocation started, written as it goes, one key a
    line, so that a failure half-way still leaves an exact list for ``down --only``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def add(self, key: str) -> None:
        if self.path is not None:
            with open(self.path, "a") as out:
                out.write(key + "\n")


def up(stack: Stack, manifest: Path, record: Path | None) -> None:
    began = time.monotonic()
    specs = load_manifest(manifest, stack)
    components = servers(stack, specs)
    processes = [Process(stack, spec) for spec in specs]
    problems = preflight(stack, [*components, *processes])
    if problems:
        raise StackError("\n".join(problems))
    stack.paths.make_dirs()
    recorder = Recorder(record)
    apt.ensure(stack.paths)
    created = platform_secrets.ensure_all()
    if created:
        print(f"stackctl: created the platform secrets {', '.join(created)} in "
              f"{stack.paths.rel(platform_secrets.directory())}/ (kept; never overwritten)",
              flush=True)

    # Launch every stopped server first, then wait for each: they boot in parallel
    # (RabbitMQ, the slowest, first; pg_ctlcluster, which blocks until up, last).
    t0 = time.monotonic()
    states = {component.key: component.state() for component in components}
    for component in sorted(components, key=lambda c: _LAUNCH_ORDER.index(c.key)):
        if not states[component.key].running:
            component.start()
            recorder.add(component.key)
            if isinstance(component, Postgres):
                _postgres_marker(stack).write_text("1\n")
    for component in components:
        state = states[component.key]
        component.ensure()
        _report(component.label, state.running, state.ours, time.monotonic() - t0, state.detail)
    _start_over_for_new_databases(stack, components)

    t0 = time.monotonic()
    starting: list[Process] = []
    for process in processes:
        state = process.state()
        if state.running:
            _report(process.label, True, state.ours, 0.0, state.detail)
        else:
            process.start()
            recorder.add(process.key)
            starting.append(process)
    wait_ready(processes)
    for process in starting:
        _report(process.label, False, True, time.monotonic() - t0, "")
    print(f"stackctl: up in {time.monotonic() - began:.1f} s", flush=True)
    print(summary(stack, specs), flush=True)


def _start_over_for_new_databases(stack: Stack, components: list[Component]) -> None:
    """A context database created empty starts a history: what its service's consumer
    group had read, and what its topics still hold, belonged to the one before."""
    postgres = next(c for c in components if isinstance(c, Postgres))
    kafka = next(c for c in components if isinstance(c, Kafka))
    if not postgres.created_contexts:
        return
    groups = [ctx for ctx in postgres.created_contexts if ctx in CONSUMER_GROUPS]
    topics = [stack.settings.topic(ctx) for ctx in postgres.created_contexts]
    topics += [stack.settings.dead_letter_topic(group) for group in groups]
    for topic in kafka.empty_topics(topics):
        print(f"stackctl: Kafka topic {topic} emptied (its events came from a database "
              "that is gone)", flush=True)
    for group in kafka.forget_groups(groups):
        print(f"stackctl: Kafka consumer group {group} restarts from the beginning of the "
              "log (its database is new)", flush=True)
    s = stack.settings
    postgres.confirm([s.database_name(ctx) for ctx in postgres.created_contexts],
                     postgres.identity)


def _report(label: str, was_running: bool, ours: bool, seconds: float, detail: str) -> None:
    if not was_running:
        print(f"stackctl: {label:<22} started ({seconds:.1f} s)", flush=True)
    elif not ours:
        print(f"stackctl: {label:<22} already running ({detail}; used, never stopped from here)",
              flush=True)
    else:
        print(f"stackctl: {label:<22} already running", flush=True)


def summary(stack: Stack, specs: list[ProcessSpec]) -> str:
    s = stack.settings
    pg = [
        f"postgresql://{s.pg_user}@{s.pg_host}:{s.pg_port}/{s.database_name(ctx)}"
        for ctx in project_settings.CONTEXTS
    ]
    amqp = stack.amqp
    lines = [
        "",
        f"  Kafka bootstrap   {stack.kafka}",
        f"  PostgreSQL        {pg[0]}",
        *(f"                    {dsn}" for dsn in pg[1:]),
        f"  AMQP              amqp://{amqp.user}@{amqp.host}:{amqp.port}/",
        f"  Prometheus        http://{stack.prometheus}",
    ]
    for spec in specs:
        where = f"{spec.url}  " if spec.url else ""
        metrics = f"metrics {spec.metrics_url}" if spec.metrics_url else ""
        lines.append(f"  {spec.name:<17} {where}{metrics}")
    lines.append(f"  logs              {stack.paths.rel(stack.paths.logs)}/")
    return "\n".join(lines)


# -- down ----------------------------------------------------------------------


def down(stack: Stack, manifest: Path, only: Path | None) -> None:
    wanted: set[str] | None = None
    if only is not None:
        if not only.exists():
            print(f"stackctl: nothing recorded in {only}; nothing to stop")
            return
        wanted = {line.strip() for line in only.read_text().splitlines() if line.strip()}
    specs = load_manifest(manifest, stack) if manifest.exists() else []

    for name in running_names(stack):
        if wanted is None or f"process:{name}" in wanted:
            _stopped(name, stop_by_pidfile(stack, name))
    for component in reversed(servers(stack, specs)):
        if wanted is not None and component.key not in wanted:
            continue
        if isinstance(component, Postgres):
            marker = _postgres_marker(stack)
            if wanted is None and not marker.exists():
                if component.state().running:
                    print("stackctl: PostgreSQL cluster 15/mentoring was not started by this "
                          "stack; left running")
                continue
            marker.unlink(missing_ok=True)
        _stopped(component.label, component.stop())


def _stopped(label: str, stopped: bool) -> None:
    print(f"stackctl: {label:<22} {'stopped' if stopped else 'was not running'}", flush=True)


# -- status --------------------------------------------------------------------


def status(stack: Stack, manifest: Path) -> bool:
    specs = load_manifest(manifest, stack)
    everything: list[Component] = [*servers(stack, specs), *(Process(stack, s) for s in specs)]
    all_running = True
    for component in everything:
        state = component.state()
        all_running &= state.running
        word = "running" if state.running else "stopped"
        detail = f"  ({state.detail})" if state.detail else ""
        print(f"{component.label:<22} {word:<8} {component.address()}{detail}")
    return all_running
