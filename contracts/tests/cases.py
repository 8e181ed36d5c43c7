"""The catalogue walked field by field: the parameters of the schema tests."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from contracts import catalogue
from contracts import fields as cfields

ALL_VERSIONS: list[tuple[str, int]] = [
    (name, version) for name in catalogue.names() for version in catalogue.versions(name)
]


def load_fields(name: str, version: int) -> dict[str, fields.Field]:
    schema = catalogue.schema(name, version)
    return {field.data_key or attr: field for attr, field in schema.load_fields.items()}


def required_fields() -> list[tuple[str, int, str]]:
    return [
        (name, version, key)
        for name, version in ALL_VERSIONS
        for key, field in load_fields(name, version).items()
        if field.required
    ]


def every_field() -> list[tuple[str, int, str]]:
    return [
        (name, version, key)
        for name, version in ALL_VERSIONS
        for key in load_fields(name, version)
    ]


def non_nullable_fields() -> list[tuple[str, int, str]]:
    return [
        (name, version, key)
        for name, version in ALL_VERSIONS
        for key, field in load_fields(name, version).items()
        if not field.allow_none
    ]


def wrong_value(field: fields.Field) -> Any:
    """A value of the wrong JSON type for ``field`` (strings where numbers are
    expected and numbers where strings are: the mistakes producers make)."""
    if isinstance(field, cfields.Boolean):
        return "true"
    if isinstance(field, fields.Integer | fields.Float):
        return "60"
    if isinstance(field, fields.List):
        return "fr"
    return 60


def ids(params: list[tuple[Any, ...]]) -> list[str]:
    return [".".join(str(p) for p in param) for param in params]
