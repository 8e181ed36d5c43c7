"""``@configured_timer("SETTING_SECONDS", default)``: nameko's ``@timer`` with its
interval read from the service config.

nameko fixes a timer's interval when the class is defined; a sweep's interval is
a deployment setting, and a test runs the same service with a short one. The
timer is not eager: a container's extensions start together, and a first tick
at once could run before the database pool is open (the unit of work waits for
it anyway); the first tick comes one interval in.
"""

from __future__ import annotations

from typing import Any

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs: Any) -> None:
        self.setting = setting
        self.default = default
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


configured_timer = ConfiguredTimer.decorator
