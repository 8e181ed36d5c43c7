"""The two errors of the catalogue, both ``ValueError``s naming what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ContractError(ValueError):
    """Event data that breaks its contract, or an event the catalogue does not know.

    ``fields`` maps each offending field (dotted path for nested values, e.g.
    ``commitments.2``) to its messages, so an HTTP edge can turn it into a
    problem+json body naming the fields without parsing the message.
    """

    def __init__(self, message: str, fields: Mapping[str, list[str]] | None = None) -> None:
        self.fields: dict[str, list[str]] = dict(fields or {})
        if self.fields:
            message = f"{message}: {describe(self.fields)}"
        super().__init__(message)


class EnvelopeError(ContractError):
    """Bytes that are not a well-formed CloudEvent of this platform."""


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages dict to ``{"a.b.0": ["..."]}``.

    marshmallow nests errors of ``Nested`` and ``List`` fields by key or index;
    a flat map is what callers (and problem+json) can use directly.
    Schema-level errors (``_schema``) keep the name of the enclosing field, or
    ``_schema`` at the top.
    """
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "_schema"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for field, texts in flatten(value, path).items():
                flat.setdefault(field, []).extend(texts)
        return flat
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_schema": list(messages)}
        flat = {}
        for item in messages:
            for field, texts in flatten(item, prefix).items():
                flat.setdefault(field, []).extend(texts)
        return flat
    return {prefix or "_schema": [str(messages)]}


def describe(fields: Mapping[str, list[str]]) -> str:
    """``a: msg; b: msg1 msg2`` in field order, for exception messages."""
    return "; ".join(
        " ".join(texts) if name == "_schema" else f"{name}: {' '.join(texts)}"
        for name, texts in sorted(fields.items())
    )
