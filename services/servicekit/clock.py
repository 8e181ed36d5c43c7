"""The time a service decides with, as a dependency tests can take over.

Rules with deadlines (R5's 45 days, R7's overdue pairs, a match request that
expires) read ``self.clock.now()``, never ``datetime.now()``: a test replaces
the provider's clock with a ``ControlledClock`` and walks it across a 46-day gap
in a second, while the service, the database and Kafka stay real.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from nameko.extensions import DependencyProvider


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ControlledClock:
    """A clock that moves only when told (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


class ClockProvider(DependencyProvider):
    """``clock = ClockProvider()``; in a worker ``self.clock.now()``. Tests swap
    ``get_extension(container, ClockProvider).clock``."""

    def __init__(self) -> None:
        self.clock: Clock = SystemClock()

    def get_dependency(self, worker_ctx: Any) -> Clock:
        return self.clock
