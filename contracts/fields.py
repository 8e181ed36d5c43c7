"""Reusable marshmallow fields of the catalogue.

Each field knows its own JSON Schema (``json_schema()``), so the generator
never has to guess what a custom field accepts. The built-in number and
boolean fields of marshmallow coerce strings ("60" -> 60); event contracts must
not, or a producer's bug would be silently "fixed" on one side only, so the
fields here are strict.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import uuid
from typing import Any

from marshmallow import fields, validate

from contracts import charter, sealed


class Id(fields.Field):
    """A UUID, kept as its canonical lowercase string (ids are strings on the wire)."""

    default_error_messages = {"invalid": "Not a valid UUID string."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, uuid.UUID):
            return str(value)
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return str(uuid.UUID(value))
        except ValueError as error:
            raise self.make_error("invalid") from error

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "uuid"}


class Ciphertext(fields.String):
    """R8: confidential or personal text, only ever in the sealed format.

    Every name, e-mail, free text, note, objective, feedback and report
    description is one of these: a plaintext value is a validation error, so it
    cannot reach the event store, Kafka or a log by accident.
    """

    default_error_messages = {"not_sealed": "{reason}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            sealed.parse(text)
        except sealed.NotSealed as error:
            raise self.make_error("not_sealed", reason=str(error)) from error
        return text

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": sealed.SEALED_PATTERN,
            "minLength": sealed.MIN_LENGTH,
            "maxLength": sealed.MAX_LENGTH,
            "description": "Sealed text (R8): enc:v1:<key-id>:<base64url AEAD output>; "
            "never plaintext.",
        }


#: ``fp:<v1|v2>:<key-id>:<hex HMAC-SHA256>`` of a normalised identity (e-mail): v1
#: of its case and Unicode form, v2 of its mailbox (``crypto.canonical_mailbox``).
FINGERPRINT_PATTERN = rf"^fp:v[12]:{sealed.KEY_ID_PATTERN}:[0-9a-f]{{64}}$"


class Fingerprint(fields.String):
    """R2: a keyed, one-way fingerprint of a person's identity.

    Exclusion is permanent "even after the personal data is erased": the
    fingerprint survives crypto-shredding (it cannot be reversed to the e-mail)
    and lets identity refuse the same person under any organisation.
    """

    default_error_messages = {
        "invalid_fingerprint": "Not a fingerprint 'fp:<v1|v2>:<key-id>:<hex>'."}
    _pattern = re.compile(FINGERPRINT_PATTERN)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self._pattern.match(text):
            raise self.make_error("invalid_fingerprint")
        return text

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": FINGERPRINT_PATTERN}


class Timestamp(fields.AwareDateTime):
    """An aware ISO 8601 datetime: a naive one is refused, not guessed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class Day(fields.Date):
    """A calendar date (ISO 8601 ``YYYY-MM-DD``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        # fields.Date would accept a datetime object and keep its time part.
        if isinstance(value, dt.datetime):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class Integer(fields.Integer):
    """An integer, never a string or a float (``strict``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


class Number(fields.Float):
    """A JSON number, never a string or a boolean."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Boolean(fields.Boolean):
    """``true`` or ``false``, not "yes", 1 or "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def choice(
    values: tuple[str, ...] | list[str], error: str | None = None, **kwargs: Any
) -> fields.String:
    """A string from a closed vocabulary (no free text can hide in it, R8)."""
    return fields.String(validate=validate.OneOf(values, error=error), **kwargs)


#: A tag of a controlled vocabulary (topics, languages): lowercase, no spaces.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


def slug(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Regexp(SLUG_PATTERN), **kwargs)


def role(**kwargs: Any) -> fields.String:
    """R3: mentor or mentee."""
    return choice(charter.ROLES, **kwargs)


def modality(**kwargs: Any) -> fields.String:
    """R6: remote or in person, nothing else."""
    return choice(
        charter.MODALITIES, error="Must be one of: {choices} (R6).", **kwargs
    )


def session_minutes(**kwargs: Any) -> Integer:
    """R6: one to two hours."""
    return Integer(
        validate=validate.Range(
            min=charter.SESSION_MIN_MINUTES,
            max=charter.SESSION_MAX_MINUTES,
            error="A session lasts {min} to {max} minutes (R6).",
        ),
        **kwargs,
    )
