"""Tests of the local stack run against the real, running stack.

``make test`` brings the stack up before pytest starts; run alone, these tests need
``make up`` first and fail loudly (never skip) when a server is missing.
"""

from __future__ import annotations

import pytest

from services.eventcore import settings as project_settings


@pytest.fixture(scope="session")
def conf() -> project_settings.Settings:
    return project_settings.load()
