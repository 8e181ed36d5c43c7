"""Debian packages the stack needs, installed only when missing.

Java 17 and Maven are assumed present (the machine's image has them; ``check``
reports them otherwise). ``--no-install-recommends`` keeps out extras such as
prometheus-node-exporter, which would be one more daemon on a port.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.config import Paths
from deploy.stackctl.errors import StackError

#: Package -> a file it installs that stackctl runs (proof enough that it is usable).
PACKAGES: dict[str, str] = {
    "postgresql": "/usr/lib/postgresql/15/bin/postgres",
    "rabbitmq-server": "/usr/lib/rabbitmq/bin/rabbitmq-server",
    "prometheus": "/usr/bin/prometheus",
}

_POLICY_RC = Path("/usr/sbin/policy-rc.d")


def installed(package: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "install ok installed"


def missing() -> list[str]:
    return [pkg for pkg, path in PACKAGES.items() if not (installed(pkg) and Path(path).exists())]


def ensure(paths: Paths) -> list[str]:
    """Install the missing packages; the list of those installed."""
    needed = missing()
    if not needed:
        return []
    log = paths.log("apt")
    if os.geteuid() != 0:
        raise StackError(f"Debian packages missing: {' '.join(needed)} "
                         "(run as root, or install them)")
    print(f"stackctl: installing {' '.join(needed)} (log: {paths.rel(log)})", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Debian's maintainer scripts start each new service at once (system RabbitMQ on 5672,
    # Prometheus on 9090, cluster 15/main): the very ports our own instances need.
    # policy-rc.d exit 101 ("action forbidden") is Debian's switch to prevent that; set it
    # only for the duration of the install if the machine has none.
    temporary_policy = not _POLICY_RC.exists()
    if temporary_policy:
        _POLICY_RC.write_text("#!/bin/sh\n# written by stackctl during apt-get install\nexit 101\n")
        _POLICY_RC.chmod(0o755)
    try:
        if system.run(["apt-get", "update", "-q"], log, env) != 0:
            raise StackError(f"apt-get update failed ({paths.rel(log)})", system.tail(log))
        command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *needed]
        if system.run(command, log, env) != 0:
            raise StackError(f"apt-get install {' '.join(needed)} failed ({paths.rel(log)})",
                             system.tail(log))
    finally:
        if temporary_policy:
            _POLICY_RC.unlink(missing_ok=True)
    return needed
