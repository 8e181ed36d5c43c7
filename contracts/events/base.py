"""The base of every event ``data`` schema."""

from __future__ import annotations

from marshmallow import RAISE, Schema


class EventData(Schema):
    """An unknown field is an error, never silently dropped: a producer that
    adds a field must publish a new version (and consumers see it named)."""

    class Meta:
        unknown = RAISE
