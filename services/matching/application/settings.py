"""What the matching service is configured with, read once at start-up.

- ``MatchingSettings``: nameko's ``Config`` for the ``MATCHING`` section (weights,
  request expiry days, number of suggestions), validated by the domain's
  ``MatchingConfig.from_mapping`` when the container starts: a wrong weight
  stops the service with a message naming it (``weights.topics``), instead of
  failing the first suggestion.
- ``configured_timer``: nameko's ``@timer`` with its interval read from the
  config (``MATCHING_SWEEP_SECONDS``): nameko fixes a timer's interval when the
  class is defined, but the expiry sweep's is a deployment setting, and a test
  runs the same service with a short one.
"""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config
from nameko.timer import Timer

from services.matching.domain.weights import MatchingConfig
from services.servicekit.errors import Invalid


class MatchingSettings(Config):
    """``settings = MatchingSettings()``; in a worker, ``self.settings`` is the
    ``MatchingConfig``."""

    def setup(self) -> None:
        super().setup()
        try:
            self.matching = MatchingConfig.from_mapping(self.container.config.get("MATCHING"))
        except Invalid as error:
            raise ValueError(f"MATCHING: {error.detail} ({error.field})") from None

    def get_dependency(self, worker_ctx: Any) -> MatchingConfig:
        return self.matching


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs: Any) -> None:
        self.setting = setting
        self.default = default
        # Not eager: extensions start together, and a first tick at once could run
        # before the database pool is open.
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
