"""Bases and fields shared by the API schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

from contracts.events.identity import LANGUAGE_PATTERN
from contracts.fields import SLUG_PATTERN


class Request(Schema):
    """A request body or query: an unknown field is a 422 naming it, never ignored
    (a client that sends ``price`` learns that no such thing exists here, R1)."""

    class Meta:
        unknown = RAISE


class NoBody(Request):
    """What a command that takes nothing accepts: no body, or ``{}``. Any field is
    unknown, a 422 naming it, not ignored (a ``price`` sent to a confirmation is
    refused as anywhere else, R1)."""


class Response(Schema):
    """What a service returns; the gateway documents it as the response."""


def text(max_length: int, **kwargs: Any) -> fields.String:
    """Free text a member writes: never empty, bounded; sealed before it is stored (R8)."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def languages(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.Regexp(
        LANGUAGE_PATTERN, error="Not an ISO 639-1 code (two lower-case letters).")),
        validate=validate.Length(min=1, max=10), **kwargs)


def topics(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.Regexp(
        SLUG_PATTERN, error="Not a topic slug (lower case, digits, - and _).")),
        validate=validate.Length(max=20), **kwargs)


class Page(Request):
    """Query parameters arrive as strings: these integers parse them (strictly)."""

    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


class Accepted(Response):
    """A command done: the aggregate's new version, for a client's optimistic checks."""

    id = fields.String(required=True)
    version = fields.Integer(required=True)
