"""The charter's numbers as checks on command values (R5, R6).

The contracts refuse the same values when an event is appended; checking here
first lets the domain answer with the rule and the field (``RuleViolation``),
before anything is decided.
"""

from __future__ import annotations

from contracts import charter
from services.servicekit.errors import RuleViolation


def _within(value: object, low: int, high: int) -> int | None:
    """``value`` if it is a whole number in low..high, else None. (bool is an
    int in Python; True minutes is not a duration.)"""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def check_duration(minutes: object, field: str = "duration_minutes") -> int:
    """R6: a session lasts one to two hours: 60..120 whole minutes."""
    low, high = charter.SESSION_MIN_MINUTES, charter.SESSION_MAX_MINUTES
    checked = _within(minutes, low, high)
    if checked is None:
        raise RuleViolation(
            "R6", f"A session lasts {low} to {high} minutes (R6); {field} was {minutes!r}.",
            field=field,
        )
    return checked


def check_modality(modality: object, field: str = "modality") -> str:
    """R6: remote or in person, nothing else."""
    if not isinstance(modality, str) or modality not in charter.MODALITIES:
        raise RuleViolation(
            "R6", f"A session is remote or in_person (R6); {field} was {modality!r}.",
            field=field,
        )
    return modality


def check_interval_days(days: object, field: str = "interval_days") -> int:
    """R5: at least one meeting every month to month and a half: 1..45 days."""
    most = charter.MAX_MEETING_INTERVAL_DAYS
    checked = _within(days, 1, most)
    if checked is None:
        raise RuleViolation(
            "R5", f"The pair meets at least every {most} days (R5); {field} must be 1 to "
            f"{most}, not {days!r}.",
            field=field,
        )
    return checked
