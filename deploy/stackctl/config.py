"""Where everything is: the project's settings, the runtime directory, derived addresses.

Addresses come from ``services.eventcore.settings`` only (no default is repeated
here); this module adds the file layout of ``.stack/`` and parses the two settings
that are URLs or host:port pairs, so that a broken value is reported as a config
error naming its variable before anything is started.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from deploy.stackctl.errors import StackError
from services.eventcore import settings as project_settings

#: The project root: deploy/stackctl/config.py -> three levels up.
ROOT = Path(__file__).resolve().parents[2]

#: Set in the environment of every process stackctl starts (see the package docstring).
STACK_ROOT_ENV = "MENTORING_STACK_ROOT"
STACK_PROCESS_ENV = "MENTORING_STACK_PROCESS"


@dataclass(frozen=True)
class Paths:
    """The runtime layout. Everything stackctl writes lives under ``stack``, except the
    PostgreSQL cluster, which Debian's tools keep in /etc and /var/lib/postgresql."""

    root: Path

    @property
    def stack(self) -> Path:
        return self.root / ".stack"

    @property
    def logs(self) -> Path:
        return self.stack / "logs"

    @property
    def pids(self) -> Path:
        return self.stack / "pids"

    @property
    def deploy(self) -> Path:
        return self.root / "deploy"

    @property
    def manifest(self) -> Path:
        return self.deploy / "processes.toml"

    @property
    def python(self) -> Path:
        """The venv's interpreter, which the manifest's ``{python}`` stands for."""
        venv = self.root / ".venv" / "bin" / "python"
        return venv if venv.exists() else Path(sys.executable)

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pidfile(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def rel(self, path: Path) -> str:
        """``path`` relative to the root when inside it: shorter error lines."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def make_dirs(self) -> None:
        for directory in (self.stack, self.logs, self.pids):
            directory.mkdir(parents=True, exist_ok=True)

    def stack_id(self) -> str:
        """This ``.stack/``'s identity, created once and kept with it.

        Everything under ``.stack/`` (Kafka's log, the secrets) goes together, and goes
        together with ``make clean``; the databases live in the machine's cluster
        instead, so they carry this id (with the Kafka log's and the master secret's:
        ``postgres.Postgres.written_with``) and are recognised when they were
        written for another ``.stack/``.
        """
        path = self.stack / "stack.id"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(uuid.uuid4().hex + "\n")
            return path.read_text().strip()


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class AmqpAddress:
    host: str
    port: int
    user: str
    password: str
    vhost: str


@dataclass(frozen=True)
class Stack:
    """Settings plus paths: what every component needs to know."""

    settings: project_settings.Settings
    paths: Paths

    @property
    def kafka(self) -> Endpoint:
        return _host_port(
            "MENTORING_KAFKA_BOOTSTRAP", self.settings.kafka_bootstrap.split(",")[0]
        )

    @property
    def kafka_controller(self) -> Endpoint:
        return Endpoint(self.kafka.host, self.settings.kafka_controller_port)

    @property
    def amqp(self) -> AmqpAddress:
        return _amqp(self.settings.amqp_uri)

    @property
    def postgres(self) -> Endpoint:
        return Endpoint(self.settings.pg_host, self.settings.pg_port)

    @property
    def prometheus(self) -> Endpoint:
        return Endpoint("127.0.0.1", self.settings.prometheus_port)

    @property
    def node_suffix(self) -> str:
        """Short, stable per-checkout token: two clones' RabbitMQ nodes never share a name."""
        return hashlib.sha1(str(self.paths.root).encode()).hexdigest()[:8]

    def validate(self) -> None:
        """Touch every derived value, so that a broken setting fails here, named."""
        _ = (self.kafka, self.kafka_controller, self.amqp)
        if self.kafka.port == self.settings.kafka_controller_port:
            raise StackError(
                "config error: MENTORING_KAFKA_CONTROLLER_PORT equals the Kafka broker port "
                f"{self.kafka.port}"
            )


def load(root: Path = ROOT) -> Stack:
    """Read the settings from the environment; a bad value becomes a one-line config error."""
    try:
        stack = Stack(project_settings.load(), Paths(root))
    except project_settings.SettingsError as exc:
        raise StackError(f"config error: {exc}") from None
    stack.validate()
    return stack


def _host_port(variable: str, value: str) -> Endpoint:
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise StackError(f"config error: {variable}={value!r} is not host:port")
    return Endpoint(host.strip("[]"), int(port))


def _amqp(uri: str) -> AmqpAddress:
    parts = urlsplit(uri)
    try:
        port = parts.port or 5672
    except ValueError:
        port = 0
    if parts.scheme not in ("amqp", "pyamqp") or not parts.hostname or not port:
        raise StackError(f"config error: MENTORING_AMQP_URI={uri!r} is not amqp://host:port/")
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return AmqpAddress(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        vhost=vhost,
    )


def child_env(paths: Paths, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process stackctl starts: the caller's, marked as ours."""
    env = dict(os.environ)
    env.update(extra or {})
    env[STACK_ROOT_ENV] = str(paths.root)
    env[STACK_PROCESS_ENV] = name
    return env
