"""Small value checks shared by the pair's commands: ids, moments, days.

Commands receive values from the service (already through the gateway's
schemas, but the domain does not rely on that): each check returns the value in
the canonical form the event will hold, or raises ``Invalid`` naming the field,
so that what a command records is exactly what a replay reads back.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from services.servicekit.errors import Invalid


def canonical_id(value: object, field: str) -> str:
    """A UUID as its canonical lowercase string (the catalogue stores ids so)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise Invalid(f"{field} must be a UUID.", field=field)


def aware(value: object, field: str) -> datetime:
    """An aware datetime, in UTC: a naive one is refused, never guessed (as in the
    contracts). Kept in the offset it came with, an offset of 16 hours or more is
    one PostgreSQL refuses, and ``9999-12-31T23:00-14:00`` is past year 9999 in UTC:
    stored, it could never be read back, and the pair's page would fail for good."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise Invalid(f"{field} must be a date and time with its UTC offset.", field=field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"{field} is out of range once in UTC.", field=field) from None


def calendar_day(value: object, field: str) -> date:
    """A calendar date, not a datetime (whose time part would be silently dropped)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise Invalid(f"{field} must be a calendar date.", field=field)
    return value


def iso(moment: datetime) -> str:
    """The JSON form an event stores a moment in."""
    return moment.isoformat()


def moment_of(text: str) -> datetime:
    """Back from the JSON form (``when_`` handlers read JSON-form data)."""
    return datetime.fromisoformat(text)


def day_of(text: str) -> date:
    return date.fromisoformat(text)


def utc_day(moment: datetime) -> date:
    """The day a moment falls on in UTC: cadence counts whole UTC days (R7), so
    every service and every replay agrees on when a pair is due."""
    return moment.astimezone(UTC).date()
