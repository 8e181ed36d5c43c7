"""Moments: aware datetimes only.

The domain has no clock (the service passes ``now``), and a naive datetime is a
bug in the caller, not a local time to guess: refused with ``ValueError``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def require_aware(moment: datetime, name: str = "now") -> datetime:
    """``moment`` itself, if it is an aware datetime."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {moment.isoformat()} is naive")
    return moment


def iso(moment: datetime, name: str = "now") -> str:
    """The ISO 8601 text events carry (``2026-01-05T10:00:00+00:00``)."""
    return require_aware(moment, name).isoformat()


def parse(value: datetime | str, name: str = "moment") -> datetime:
    """An aware datetime from a datetime or its ISO 8601 text (``Z`` accepted)."""
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        value = datetime.fromisoformat(text)
    return require_aware(value, name)


def utc_micros(value: datetime | str) -> str:
    """One spelling per instant: UTC, microseconds, ``Z`` (the store reads
    ``timestamptz`` back in the session's time zone; the instant is what counts)."""
    return parse(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
