"""marshmallow schemas to JSON Schema (draft 2020-12), for the field types the
catalogue uses.

Written here rather than through apispec because apispec emits OpenAPI 3.0
schema objects (``nullable``, no ``const``), not draft 2020-12. An unknown
field or validator type is an error, not a silently looser schema: the
published document must be at least as strict as the code about shape.
(Cross-field rules, e.g. "ended_by is null only when the counterpart was
excluded", stay in the schemas' ``@validates_schema``; the documents say so.)
"""

from __future__ import annotations

import inspect
from typing import Any

from marshmallow import Schema, fields, validate

from contracts import envelope
from contracts.registry import REGISTRY

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "urn:mentoring:contracts:"


def event_document(name: str, version: int) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of ``name`` v``version``."""
    context = REGISTRY.context_of(name)
    data_schema = REGISTRY.schema(name, version)
    return {
        "$schema": DIALECT,
        "$id": f"{ID_BASE}{name}.v{version}",
        "title": f"{name} v{version}",
        "description": _doc(data_schema)
        or f"{name} v{version}, a CloudEvent of the {context} context.",
        "type": "object",
        "properties": {
            "specversion": {"const": envelope.SPECVERSION},
            "id": {"type": "string", "format": "uuid"},
            "source": {"const": envelope.SOURCE_PREFIX + context},
            "type": {"const": envelope.event_type(context, name, version)},
            "subject": {
                "type": "string",
                "minLength": 1,
                "maxLength": envelope.MAX_SUBJECT,
                "description": "The aggregate id; also the Kafka message key.",
            },
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": {"const": envelope.DATACONTENTTYPE},
            "partnerorg": {
                "type": "string",
                "format": "uuid",
                "description": "The partner organisation; absent for platform-level events.",
            },
            "aggregateversion": {
                "type": "integer",
                "minimum": 1,
                "description": "Position of the event in its aggregate's stream.",
            },
            "data": object_schema(data_schema),
        },
        "required": [
            "specversion", "id", "source", "type", "subject", "time",
            "datacontenttype", "aggregateversion", "data",
        ],
        "additionalProperties": False,
    }


def object_schema(schema: Schema) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for attr, field in schema.load_fields.items():
        key = field.data_key or attr
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = False  # RAISE on unknown fields
    return out


def field_schema(field: fields.Field) -> dict[str, Any]:
    out = _base(field)
    for validator in _validators(field):
        out.update(_constraint(validator, out))
    if field.allow_none:
        out = _nullable(out)
    return out


def _base(field: fields.Field) -> dict[str, Any]:
    own = getattr(field, "json_schema", None)
    if callable(own):
        return dict(own())
    if isinstance(field, fields.Nested):
        return object_schema(field.schema)
    if isinstance(field, fields.List):
        return {"type": "array", "items": field_schema(field.inner)}
    if isinstance(field, fields.Dict):
        return {"type": "object"}
    if isinstance(field, fields.Boolean):
        return {"type": "boolean"}
    if isinstance(field, fields.Integer):
        return {"type": "integer"}
    if isinstance(field, fields.Float):
        return {"type": "number"}
    if isinstance(field, fields.UUID):
        return {"type": "string", "format": "uuid"}
    if isinstance(field, fields.DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(field, fields.Date):
        return {"type": "string", "format": "date"}
    if isinstance(field, fields.String):
        return {"type": "string"}
    raise TypeError(f"no JSON Schema for field type {type(field).__name__}")


def _validators(field: fields.Field) -> list[Any]:
    found = list(field.validators)
    # validate.And wraps several validators; flatten it.
    while any(isinstance(v, validate.And) for v in found):
        flat: list[Any] = []
        for v in found:
            flat.extend(v.validators if isinstance(v, validate.And) else [v])
        found = flat
    return found


def _constraint(validator: Any, base: dict[str, Any]) -> dict[str, Any]:
    if isinstance(validator, validate.Range):
        out: dict[str, Any] = {}
        if validator.min is not None:
            out["minimum" if validator.min_inclusive else "exclusiveMinimum"] = validator.min
        if validator.max is not None:
            out["maximum" if validator.max_inclusive else "exclusiveMaximum"] = validator.max
        return out
    if isinstance(validator, validate.Length):
        array = base.get("type") == "array"
        out = {}
        if validator.equal is not None:
            bounds = (validator.equal, validator.equal)
        else:
            bounds = (validator.min, validator.max)
        if bounds[0] is not None:
            out["minItems" if array else "minLength"] = bounds[0]
        if bounds[1] is not None:
            out["maxItems" if array else "maxLength"] = bounds[1]
        return out
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Regexp):
        return {"pattern": validator.regex.pattern}
    if isinstance(validator, validate.Equal):
        return {"const": validator.comparable}
    raise TypeError(f"no JSON Schema for validator {type(validator).__name__}")


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and "enum" not in schema and "const" not in schema:
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _doc(schema: Schema) -> str:
    return inspect.cleandoc(type(schema).__doc__ or "")
