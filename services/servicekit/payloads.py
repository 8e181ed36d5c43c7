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
        rule = rule_of(schema, error.messages)
        raise ServiceError.invalid(error.messages, where, rule) from None


#: The metadata key a field names its charter rule under (``contracts.api``); an
#: OpenAPI extension, so the document says it too.
RULE = "x-rule"


def rule_of(schema: Schema, messages: Any) -> str | None:
    """The charter rule the refused fields stand for, when they all stand for the
    same one: a duration that is no whole number breaks R6 as much as one of 59
    minutes does, and the refusal names R6 either way."""
    if not isinstance(messages, Mapping) or not messages:
        return None
    rules = set()
    for name, texts in messages.items():
        field = schema.fields.get(name)
        missing = field is not None and texts == [field.error_messages["required"]]
        # A field left out is a malformed request, not a value the rule refuses.
        rules.add(None if field is None or missing else field.metadata.get(RULE))
    return rules.pop() if len(rules) == 1 else None


def dump(schema: Schema, value: Any) -> dict[str, Any]:
    return schema.dump(value)
