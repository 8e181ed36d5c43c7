"""The registry behind ``contracts.catalogue``: who registers what, and the checks.

Event modules register their ``data`` schemas with ``@event`` and their
upcasters with ``@upcaster``; ``catalogue`` imports them all and then calls
``REGISTRY.check()`` so a gap (a v3 without a v2, a version without its
upcaster) fails at import, not when an old event is first read.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError

from contracts.errors import ContractError, flatten

#: The four bounded contexts, each with its own topic ``<context>.events``.
CONTEXTS: tuple[str, ...] = ("identity", "matching", "sessions", "moderation")

#: Event names are PascalCase, past tense (the product's vocabulary).
NAME_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{1,63}$")

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
SchemaT = TypeVar("SchemaT", bound=type[Schema])


@dataclass
class EventEntry:
    """One event name: its context, its schemas by version, its upcasters."""

    name: str
    context: str
    schemas: dict[int, type[Schema]] = field(default_factory=dict)
    #: ``upcasters[n]`` turns version n data into version n + 1 data.
    upcasters: dict[int, Upcaster] = field(default_factory=dict)
    instances: dict[int, Schema] = field(default_factory=dict)

    @property
    def latest(self) -> int:
        return max(self.schemas)


class Registry:
    def __init__(self) -> None:
        self._entries: dict[str, EventEntry] = {}

    # -- registration ------------------------------------------------------

    def event(self, context: str, name: str, version: int) -> Callable[[SchemaT], SchemaT]:
        """Class decorator: ``@event("identity", "CharterAccepted", version=1)``."""

        def register(schema_class: SchemaT) -> SchemaT:
            if context not in CONTEXTS:
                raise ValueError(f"{name}: unknown context {context!r}, expected one of {CONTEXTS}")
            if not NAME_PATTERN.match(name):
                raise ValueError(f"event name {name!r} is not PascalCase")
            if not isinstance(version, int) or version < 1:
                raise ValueError(f"{name}: version must be an int >= 1, not {version!r}")
            entry = self._entries.setdefault(name, EventEntry(name, context))
            if entry.context != context:
                raise ValueError(f"{name} is already registered in the {entry.context} context")
            if version in entry.schemas:
                raise ValueError(f"{name} v{version} is registered twice")
            entry.schemas[version] = schema_class
            return schema_class

        return register

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Function decorator: a pure function from v``from_version`` data to the next."""

        def register(function: Upcaster) -> Upcaster:
            entry = self._entries.get(name)
            if entry is None or from_version not in entry.schemas:
                raise ValueError(f"upcaster for unregistered {name} v{from_version}")
            if from_version in entry.upcasters:
                raise ValueError(f"{name} v{from_version} has two upcasters")
            entry.upcasters[from_version] = function
            return function

        return register

    def check(self) -> None:
        """Versions 1..latest all present, each but the latest with its upcaster."""
        for entry in self._entries.values():
            expected = set(range(1, entry.latest + 1))
            if set(entry.schemas) != expected:
                missing = sorted(expected - set(entry.schemas))
                raise ValueError(f"{entry.name}: versions {missing} are missing")
            if set(entry.upcasters) != expected - {entry.latest}:
                missing = sorted(expected - {entry.latest} - set(entry.upcasters))
                raise ValueError(f"{entry.name}: no upcaster from versions {missing}")

    # -- reading -------------------------------------------------------------

    def entry(self, name: str) -> EventEntry:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ContractError(
                f"unknown event {name!r}", {"name": [f"Unknown event {name!r}."]}
            ) from None

    def schema(self, name: str, version: int) -> Schema:
        entry = self.entry(name)
        if isinstance(version, bool) or version not in entry.schemas:
            raise ContractError(
                f"unknown version {version!r} of {name} (known: 1..{entry.latest})",
                {"version": [f"Unknown version {version!r} of {name}."]},
            )
        if version not in entry.instances:
            entry.instances[version] = entry.schemas[version]()
        return entry.instances[version]

    def validate(self, name: str, version: int, data: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.schema(name, version)
        if not isinstance(data, Mapping):
            raise ContractError(
                f"{name} v{version} data must be an object",
                {"_schema": ["Data must be an object."]},
            )
        try:
            return schema.load(dict(data))
        except ValidationError as error:
            raise ContractError(
                f"invalid {name} v{version} data", flatten(error.messages)
            ) from error

    def upcast(
        self, name: str, version: int, data: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """``(latest, data as the latest version)``; the input is never modified.

        Data is in its JSON form (as stored and as on Kafka). It is not
        validated: it was when it was written, and refusing a stored event
        would make its stream unreadable.
        """
        self.schema(name, version)  # names an unknown event or version
        entry = self.entry(name)
        if version == entry.latest:
            # Nothing to change: no upcaster will touch it. (Deep-copying every event
            # read was the heaviest thing a command did while loading its aggregate.)
            return version, dict(data)
        current = copy.deepcopy(dict(data))
        for step in range(version, entry.latest):
            current = entry.upcasters[step](current)
        return entry.latest, current

    def latest_version(self, name: str) -> int:
        return self.entry(name).latest

    def context_of(self, name: str) -> str:
        return self.entry(name).context

    def names(self, context: str | None = None) -> list[str]:
        return sorted(
            name
            for name, entry in self._entries.items()
            if context is None or entry.context == context
        )

    def versions(self, name: str) -> list[int]:
        return sorted(self.entry(name).schemas)


#: The platform's one registry; ``contracts.catalogue`` fills and exposes it.
REGISTRY = Registry()
event = REGISTRY.event
upcaster = REGISTRY.upcaster
