"""Processes and ports, as this machine sees them through /proc.

Detached start, pid files, stopping with a grace period, and finding which process
listens on a port (so that "port in use" names the culprit). Linux only, by design:
the stack targets Debian.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy.stackctl.config import STACK_PROCESS_ENV, STACK_ROOT_ENV

_PROC = Path("/proc")


@dataclass(frozen=True)
class Identity:
    """Which stack process a pid is, read from its environment (None fields: not ours)."""

    root: str | None
    name: str | None


def pid_alive(pid: int) -> bool:
    """True for a live process; a zombie (dead, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself hold spaces.
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def identity(pid: int) -> Identity:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return Identity(None, None)
    env = dict(item.partition(b"=")[::2] for item in raw.split(b"\0") if item)
    root = env.get(STACK_ROOT_ENV.encode())
    name = env.get(STACK_PROCESS_ENV.encode())
    return Identity(root.decode() if root else None, name.decode() if name else None)


def cmdline(pid: int, limit: int = 120) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    text = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_pidfile(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def our_pid(pidfile: Path, root: Path, name: str) -> int | None:
    """The pid in ``pidfile`` if that process is alive and is our ``name``; else None.

    Checking the environment, not just liveness, makes a stale pid file whose pid was
    reused by an unrelated process harmless.
    """
    pid = read_pidfile(pidfile)
    if pid is None or not pid_alive(pid):
        return None
    who = identity(pid)
    return pid if who.root == str(root) and who.name == name else None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (_PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            if int(fields[1].rpartition(":")[2], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def port_owner(port: int) -> int | None:
    """The pid of a process listening on TCP ``port`` (any address), if one is found."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in targets:
                    return int(entry.name)
            except OSError:
                continue
    return None


def port_listening(port: int) -> bool:
    return bool(_listening_inodes(port))


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def spawn(
    command: Sequence[str], log: Path, env: Mapping[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` fully detached: new session, stdin /dev/null, output to ``log``.

    A child that inherited our stdout would keep the caller's pipe (CI's, make's) open
    for as long as it runs, and the caller would never see end-of-file.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


def run(
    command: Sequence[str],
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    stdin_text: str | None = None,
) -> int:
    """Run a short command to completion, its output appended to ``log``; its exit status."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(command)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                list(command),
                input=stdin_text.encode() if stdin_text is not None else None,
                stdin=None if stdin_text is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            out.write(f"timed out after {timeout:.0f} s\n".encode())
            return 124
        except FileNotFoundError:
            out.write(f"{command[0]}: command not found\n".encode())
            return 127
    return done.returncode


def stop(pid: int, grace: float) -> None:
    """SIGTERM the process (and its session's group), SIGKILL after ``grace`` seconds."""
    _signal(pid, signal.SIGTERM)
    if wait_for(lambda: not pid_alive(pid), grace):
        return
    _signal(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 10)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        # Our processes lead their own session and group: signal the group so that any
        # helper they forked goes too. Anything else gets only the pid itself.
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int = 15) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return f"    (no log at {path})"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step: a watcher (Prometheus' file_sd) never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
