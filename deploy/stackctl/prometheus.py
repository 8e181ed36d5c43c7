"""Prometheus (Debian package) scraping the project's processes and itself.

The shipped ``deploy/prometheus/prometheus.yml`` is used as is: Prometheus resolves
``rule_files`` and ``file_sd_configs`` paths relative to the config file, so it
names ``rules/*.yml`` and ``../../.stack/prometheus/*.json`` and needs no generated
copy. What varies with the settings and the manifest (which processes, on which
ports, and Prometheus' own port) is in those two target files, which stackctl
writes and Prometheus re-reads by itself when they change.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.component import Daemon
from deploy.stackctl.config import child_env
from deploy.stackctl.errors import StackError
from deploy.stackctl.processes import ProcessSpec

START_TIMEOUT = 60.0


class Prometheus(Daemon):
    key = "prometheus"
    label = "Prometheus"
    grace = 15.0

    def __init__(self, stack, processes: Sequence[ProcessSpec]) -> None:  # type: ignore[no-untyped-def]
        super().__init__(stack)
        self.processes = processes

    @property
    def home(self) -> Path:
        return self.paths.stack / "prometheus"

    @property
    def config(self) -> Path:
        return self.paths.deploy / "prometheus" / "prometheus.yml"

    @property
    def rules(self) -> list[Path]:
        return sorted((self.paths.deploy / "prometheus" / "rules").glob("*.yml"))

    @property
    def url(self) -> str:
        return f"http://{self.stack.prometheus}"

    def address(self) -> str:
        return self.url

    def ports(self) -> list[int]:
        return [self.stack.prometheus.port]

    def write_targets(self) -> None:
        """The file_sd target files: every manifest process, and Prometheus itself."""
        groups = [
            {
                "targets": [f"127.0.0.1:{spec.metrics_port}"],
                # job groups alike processes (all relays: "relays") for the alert rules;
                # process names the one target.
                "labels": {"job": spec.job, "process": spec.name, **spec.labels},
            }
            for spec in self.processes
            if spec.metrics_port is not None
        ]
        system.write_atomic(self.home / "targets.json", json.dumps(groups, indent=2) + "\n")
        own = [{"targets": [str(self.stack.prometheus)], "labels": {}}]
        system.write_atomic(self.home / "self.json", json.dumps(own, indent=2) + "\n")

    def _config_mtime(self) -> str:
        return str(max(path.stat().st_mtime_ns for path in [self.config, *self.rules]))

    def check_config(self) -> None:
        """promtool's verdict on the config and rules, before Prometheus sees them."""
        log = self.paths.log("promtool")
        log.unlink(missing_ok=True)
        if system.run(["promtool", "check", "config", str(self.config)], log, timeout=60) != 0:
            raise StackError(
                f"promtool rejects {self.paths.rel(self.config)} or its rules "
                f"({self.paths.rel(log)})",
                system.tail(log),
            )

    def start(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        self.write_targets()
        self.check_config()
        command = [
            "prometheus",
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.home / 'data'}",
            "--storage.tsdb.retention.time=7d",
            f"--web.listen-address={self.stack.prometheus}",
            "--web.enable-lifecycle",
        ]
        self.child = system.spawn(command, self.paths.log(self.key),
                                  child_env(self.paths, self.key), self.paths.root)
        self.pidfile.write_text(f"{self.child.pid}\n")
        (self.home / "loaded").write_text(self._config_mtime())

    def ensure(self) -> None:
        self.write_targets()
        ready = f"{self.url}/-/ready"

        log = self.paths.log(self.key)

        def answering() -> bool:
            if not self.alive():
                raise StackError(f"Prometheus stopped while starting ({self.paths.rel(log)})",
                                 system.tail(log))
            return _http_ok(ready)

        if not system.wait_for(answering, START_TIMEOUT, interval=0.2):
            raise StackError(f"Prometheus did not answer on {ready} within {START_TIMEOUT:.0f} s "
                             f"({self.paths.rel(log)})", system.tail(log))
        self._reload_if_changed()

    def _reload_if_changed(self) -> None:
        """Have a running Prometheus of ours re-read config and rules changed since loading."""
        pid = self.pid()
        stamp = self.home / "loaded"
        if pid is None or (stamp.exists() and stamp.read_text() == self._config_mtime()):
            return
        self.check_config()
        os.kill(pid, signal.SIGHUP)
        stamp.write_text(self._config_mtime())
        print("stackctl: Prometheus reloaded its changed config/rules", flush=True)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
