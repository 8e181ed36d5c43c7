"""R7's timer: nameko's ``@timer`` with its interval read from the service config.

nameko fixes a timer's interval when the class is defined; the cadence check's
interval is a deployment setting (``CADENCE_CHECK_SECONDS``, 60 by default), and
a test runs the same service with a short one.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs: Any) -> None:
        self.setting = setting
        self.default = default
        # Not eager: extensions start together, and a first tick at once could run
        # before the database pool is open. The first check is one interval in.
        super().__init__(interval=default, eager=False, **kwargs)

    def setup(self) -> None:
        raw = self.container.config.get(self.setting, self.default)
        try:
            interval = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{self.setting}={raw!r} is not a number of seconds") from None
        if interval <= 0:
            raise ValueError(f"{self.setting}={raw!r} must be a positive number of seconds")
        self.interval = interval


cadence_timer = ConfiguredTimer.decorator
