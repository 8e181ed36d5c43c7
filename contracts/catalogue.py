"""The event catalogue: every event of the platform, by name and version.

    from contracts import catalogue
    data = catalogue.validate("SessionHeld", 2, payload)   # ContractError names bad fields
    version, data = catalogue.upcast("SessionHeld", 1, stored_v1_data)

New events are always written at ``latest_version(name)``; older versions are
only ever read, through ``upcast`` (stored events are never rewritten).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema

import contracts.events  # noqa: F401  (registers every event)
from contracts.errors import ContractError
from contracts.registry import CONTEXTS, REGISTRY

__all__ = [
    "CONTEXTS",
    "ContractError",
    "context_of",
    "latest_version",
    "names",
    "schema",
    "upcast",
    "validate",
    "versions",
]

REGISTRY.check()


def validate(name: str, version: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` loaded by the schema of ``name`` v``version`` (datetimes and
    dates as Python objects, ids as strings), or ``ContractError`` whose
    ``.fields`` names every bad field."""
    return REGISTRY.validate(name, version, data)


def upcast(name: str, version: int, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """``(latest_version(name), data)`` brought up through each registered
    upcaster; the input is not modified. Unknown name or version: ContractError."""
    return REGISTRY.upcast(name, version, data)


def latest_version(name: str) -> int:
    return REGISTRY.latest_version(name)


def context_of(name: str) -> str:
    """The bounded context that owns (and alone may record) ``name``."""
    return REGISTRY.context_of(name)


def names(context: str | None = None) -> list[str]:
    """Every event name, sorted; only ``context``'s if given."""
    return REGISTRY.names(context)


def versions(name: str) -> list[int]:
    return REGISTRY.versions(name)


def schema(name: str, version: int) -> Schema:
    """The marshmallow schema instance of ``name`` v``version``."""
    return REGISTRY.schema(name, version)
