"""The project's own processes, described by a manifest (``deploy/processes.toml``).

Each ``[[process]]`` has a ``name``, a ``command`` (a list: no shell) and usually a
``metrics_port``; optional ``job`` (Prometheus job label, default the name),
``url`` (printed by ``up``: an API's address), ``env`` (extra variables) and
``labels`` (extra target labels). In ``command``, ``url`` and ``env`` values,
``{python}`` is the venv's interpreter, ``{root}`` the project root,
``{metrics_port}`` the entry's own metrics port, and ``{<setting>}`` any field of
``services.eventcore.settings.Settings`` (``{gateway_port}``...).

A process is ready when ``http://127.0.0.1:<metrics_port>/metrics`` answers 200.
"""

from __future__ import annotations

import re
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.component import Component, State
from deploy.stackctl.config import Stack, child_env
from deploy.stackctl.errors import StackError

READY_TIMEOUT = 30.0
#: Names taken by the servers' own pid files and records.
RESERVED = {"postgres", "rabbitmq", "kafka", "prometheus"}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: list[str]
    metrics_port: int | None
    job: str
    url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def metrics_url(self) -> str | None:
        return None if self.metrics_port is None else f"http://127.0.0.1:{self.metrics_port}/metrics"


def load_manifest(path: Path, stack: Stack) -> list[ProcessSpec]:
    where = stack.paths.rel(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise StackError(f"cannot read the process manifest: {exc.strerror} ({where})") from None
    except tomllib.TOMLDecodeError as exc:
        raise StackError(f"process manifest is not valid TOML: {exc} ({where})") from None
    specs: list[ProcessSpec] = []
    for index, entry in enumerate(data.get("process", [])):
        specs.append(_spec(entry, index, where, stack))
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise StackError(f"process manifest names {duplicates[0]!r} twice ({where})")
    return specs


def _spec(entry: dict[str, object], index: int, where: str, stack: Stack) -> ProcessSpec:
    name = entry.get("name")
    label = f"process #{index + 1}" if not isinstance(name, str) else f"process {name!r}"
    if not isinstance(name, str) or not _NAME.match(name) or name in RESERVED:
        raise StackError(f"{label}: name must be lowercase letters, digits, '-', '_', '.' "
                         f"and not one of {sorted(RESERVED)} ({where})")
    port = entry.get("metrics_port")
    if isinstance(port, str):
        # An HTTP service serves /metrics on its own port: "{gateway_port}".
        setting = _PLACEHOLDER.fullmatch(port)
        value = getattr(stack.settings, setting.group(1), None) if setting else None
        port = value if isinstance(value, int) else port
    if port is not None and (not isinstance(port, int) or not 0 < port < 65536):
        raise StackError(f"{label}: metrics_port must be a port number or a port "
                         f"setting like '{{gateway_port}}' ({where})")
    command = entry.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command):
        raise StackError(f"{label}: command must be a non-empty list of strings ({where})")
    values = {
        **{key: str(value) for key, value in asdict(stack.settings).items()},
        "python": str(stack.paths.python),
        "root": str(stack.paths.root),
        "metrics_port": str(port) if port is not None else "",
    }

    def expand(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise StackError(f"{label}: unknown placeholder {match.group(0)} ({where})")
            return values[match.group(1)]

        return _PLACEHOLDER.sub(one, text)

    env = entry.get("env", {})
    labels = entry.get("labels", {})
    url = entry.get("url")
    if not isinstance(env, dict) or not isinstance(labels, dict):
        raise StackError(f"{label}: env and labels must be tables ({where})")
    return ProcessSpec(
        name=name,
        command=[expand(arg) for arg in command],
        metrics_port=port,
        job=str(entry.get("job", name)),
        url=expand(url) if isinstance(url, str) else None,
        env={str(k): expand(str(v)) for k, v in env.items()},
        labels={str(k): str(v) for k, v in labels.items()},
    )


class Process(Component):
    """One manifest entry as a component: started detached, ready on its /metrics."""

    def __init__(self, stack: Stack, spec: ProcessSpec) -> None:
        super().__init__(stack)
        self.spec = spec
        self.key = f"process:{spec.name}"
        self.label = spec.name
        self._child: subprocess.Popen[bytes] | None = None

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile(self.spec.name)

    @property
    def log(self) -> Path:
        return self.paths.log(self.spec.name)

    def address(self) -> str:
        return self.spec.metrics_url or "-"

    def ports(self) -> list[int]:
        return [self.spec.metrics_port] if self.spec.metrics_port is not None else []

    def owns(self, pid: int) -> bool:
        return system.identity(pid).name == self.spec.name

    def pid(self) -> int | None:
        return system.our_pid(self.pidfile, self.paths.root, self.spec.name)

    def state(self) -> State:
        pid = self.pid()
        if pid is not None:
            return State(True, detail=f"pid {pid}")
        if self.spec.metrics_port is None:
            return State(False)
        owner = system.port_owner(self.spec.metrics_port)
        if owner is not None:
            who = system.identity(owner)
            if who.name == self.spec.name and who.root and who.root != str(self.paths.root):
                return State(True, ours=False, detail=f"started from {who.root}")
        return State(False)

    def start(self) -> None:
        env = child_env(self.paths, self.spec.name, {"PYTHONUNBUFFERED": "1", **self.spec.env})
        if self.spec.metrics_port is not None:
            env["MENTORING_METRICS_PORT"] = str(self.spec.metrics_port)
        with open(self.log, "ab") as out:
            out.write(f"\n==== stackctl {time.strftime('%Y-%m-%d %H:%M:%S')}: "
                      f"{' '.join(self.spec.command)}\n".encode())
        self._child = system.spawn(self.spec.command, self.log, env, self.paths.root)
        self.pidfile.write_text(f"{self._child.pid}\n")

    def problem(self) -> str | None:
        """Why it is not (and will not become) ready, or None while it may still be."""
        if self._child is not None:
            code = self._child.poll()
            if code is not None:
                return f"exited with status {code}"
        elif self.pid() is None:
            return "is not running"
        return None

    def ready(self) -> bool:
        url = self.spec.metrics_url
        if url is None:
            return True
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def failure(self, what: str) -> StackError:
        return StackError(f"process {self.spec.name} {what} ({self.paths.rel(self.log)})",
                          system.tail(self.log))

    def ensure(self) -> None:
        wait_ready([self])

    def stop(self) -> bool:
        stopped = stop_by_pidfile(self.stack, self.spec.name)
        if self._child is not None:
            self._child.poll()  # reap it, if this invocation started it
        return stopped


def wait_ready(processes: Sequence[Process], timeout: float = READY_TIMEOUT) -> None:
    """Wait for all of them at once: n processes start in the time of the slowest."""
    pending = list(processes)
    deadline = time.monotonic() + timeout
    while pending:
        for process in list(pending):
            if process.ready():
                pending.remove(process)
                continue
            problem = process.problem()
            if problem is not None:
                url = process.spec.metrics_url
                where = f" before answering on {url}" if url else ""
                raise process.failure(f"{problem}{where}")
        if pending and time.monotonic() > deadline:
            first = pending[0]
            raise first.failure(
                f"did not answer on {first.spec.metrics_url} within {timeout:.0f} s")
        if pending:
            time.sleep(0.2)


def stop_by_pidfile(stack: Stack, name: str, grace: float = 10.0) -> bool:
    """Stop the process ``name`` if its pid file names a live process of ours."""
    pidfile = stack.paths.pidfile(name)
    pid = system.our_pid(pidfile, stack.paths.root, name)
    if pid is not None:
        system.stop(pid, grace)
    pidfile.unlink(missing_ok=True)
    return pid is not None


def running_names(stack: Stack) -> list[str]:
    """Processes with a pid file of ours, manifest or not (the manifest may have changed)."""
    if not stack.paths.pids.exists():
        return []
    names = sorted(path.stem for path in stack.paths.pids.glob("*.pid"))
    return [name for name in names if name not in RESERVED]
