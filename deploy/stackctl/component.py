"""What every part of the stack offers the orchestrator: state, start, readiness, stop."""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from deploy.stackctl import system
from deploy.stackctl.config import Stack


@dataclass(frozen=True)
class State:
    running: bool
    #: False when it runs but was started by another checkout's stackctl: used, never stopped.
    ours: bool = True
    detail: str = ""


class Component(ABC):
    #: Name in records, pid files and MENTORING_STACK_PROCESS.
    key: str
    #: Name for people.
    label: str

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.paths = stack.paths

    @abstractmethod
    def address(self) -> str:
        """Where clients reach it, for ``status`` and the summary of ``up``."""

    @abstractmethod
    def ports(self) -> list[int]:
        """Ports it listens on, checked by the preflight for strangers."""

    def owns(self, pid: int) -> bool:
        """Whether ``pid``, found listening on one of our ports, is this component.

        Another checkout's instance of the same component counts: it is the same server
        with the same settings, so it is used rather than reported as a conflict.
        """
        return system.identity(pid).name == self.key

    @abstractmethod
    def state(self) -> State: ...

    @abstractmethod
    def start(self) -> None:
        """Start it (it is not running); return once it has been launched."""

    def ensure(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Wait until it serves, and converge what lives inside it (databases, topics)."""

    @abstractmethod
    def stop(self) -> bool:
        """Stop it if it is ours and running; True if something was stopped."""

    def foreign_state(self, port: int) -> State:
        """``port`` held by this component started from another checkout, or stopped."""
        owner = system.port_owner(port)
        if owner is not None:
            who = system.identity(owner)
            if who.name == self.key and who.root and who.root != str(self.paths.root):
                return State(True, ours=False, detail=f"started from {who.root}")
        return State(False)


class Daemon(Component):
    """A component that is one long-lived process of ours with a pid file."""

    grace: float = 15.0
    #: The process this invocation started, if any (see ``alive``).
    child: subprocess.Popen[bytes] | None = None

    @property
    def pidfile(self) -> Path:
        return self.paths.pidfile(self.key)

    def pid(self) -> int | None:
        return system.our_pid(self.pidfile, self.paths.root, self.key)

    def alive(self) -> bool:
        """Still running, for the wait after a start.

        Asks the child itself when we started it: just after exec, /proc/<pid>/environ
        can still show the parent's environment (seen on this kernel), so the
        identity check of ``pid`` may briefly fail for a process that is fine.
        """
        if self.child is not None:
            return self.child.poll() is None
        return self.state().running

    def state(self) -> State:
        pid = self.pid()
        if pid is not None:
            return State(True, detail=f"pid {pid}")
        return self.foreign_state(self.ports()[0])

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        system.stop(pid, self.grace)
        self.pidfile.unlink(missing_ok=True)
        return True
