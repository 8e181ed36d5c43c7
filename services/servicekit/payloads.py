"""Validation of what crosses an edge (HTTP body, RPC payload), naming every bad field.

The gateway validates a request with the same schema the service validates the
RPC payload with (``contracts.api``): the HTTP client learns of a bad field
without an RPC, and a service called by anything else is still protected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from services.servicekit.errors import ServiceError


def load(schema: Schema, payload: Any, where: str = "") -> dict[str, Any]:
    """``payload`` loaded by ``schema`` or ``ServiceError`` 422 naming each field."""
    if not isinstance(payload, Mapping):
        raise ServiceError.make(422, "validation_failed", "The body must be a JSON object.",
                                [{"field": where.rstrip(".") or "_body",
                                  "message": "Must be an object."}])
    try:
        return schema.load(dict(payload))
    except ValidationError as error:
        raise ServiceError.invalid(error.messages, where) from None


def dump(schema: Schema, value: Any) -> dict[str, Any]:
    return schema.dump(value)
