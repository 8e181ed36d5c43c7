"""What the matching service is configured with, read once at start-up.

- ``MatchingSettings``: nameko's ``Config`` for the ``MATCHING`` section (weights,
  request expiry days, number of suggestions), validated by the domain's
  ``MatchingConfig.from_mapping`` when the container starts: a wrong weight
  stops the service with a message naming it (``weights.topics``), instead of
  failing the first suggestion.

The expiry sweep's interval (``MATCHING_SWEEP_SECONDS``) is read the same way by
``servicekit.timers.configured_timer``.
"""

from __future__ import annotations

from typing import Any

from nameko.dependency_providers import Config

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
