"""Organisation A's world for the isolation test, one module per context.

Each module has ``build(org, ids) -> dict`` (the ids it adds, by path parameter
name, made through the API as A) and ``VALID_BODIES`` (a valid body per
operation id of its routes). ``test_isolation`` runs them in ``ORDER``: a later
context may use the ids of an earlier one (a pair needs members).
"""

from __future__ import annotations

import importlib
from types import ModuleType

ORDER = ("identity", "matching", "sessions")


def modules() -> list[ModuleType]:
    found = []
    for context in ORDER:
        try:
            found.append(importlib.import_module(f"tests.e2e.worlds.{context}"))
        except ModuleNotFoundError as missing:
            if missing.name != f"tests.e2e.worlds.{context}":
                raise
    return found
