"""The CloudEvents 1.0 envelope (structured JSON mode) every event travels in.

    {"specversion": "1.0", "id": "<uuid>", "source": "/mentoring/sessions",
     "type": "org.mentoring.sessions.SessionHeld.v2", "subject": "<aggregate id>",
     "time": "2025-03-01T10:00:00Z", "datacontenttype": "application/json",
     "partnerorg": "<organisation id>", "aggregateversion": 7, "data": {...}}

The ``type`` carries the event name *and* its schema version, so a consumer
knows which schema (and which upcasters) apply before reading ``data``.
Extensions: ``partnerorg`` (absent for platform-level events, e.g. the
charter) and ``aggregateversion`` (the event's position in its aggregate's
stream, >= 1). Kafka key = ``subject``. Moderation's events also carry their
link in its hash-chained log: ``chainpos`` (the event's position in the log),
``chainprev`` (the hash of the event before) and ``chainhash`` (its own), so
that the chain can be checked from the topic alone, outside the database.

This module checks the envelope only; ``contracts.catalogue`` checks ``data``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mfields

from contracts.errors import EnvelopeError, flatten
from contracts.fields import Id, Integer
from contracts.registry import CONTEXTS, NAME_PATTERN

__all__ = [
    "CloudEvent", "EnvelopeError", "decode", "encode", "event_type", "json_form", "parse_type",
]

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
TYPE_PREFIX = "org.mentoring"
SOURCE_PREFIX = "/mentoring/"

_CONTEXT = r"[a-z][a-z0-9]*"
_NAME = NAME_PATTERN.pattern.strip("^$")
TYPE_PATTERN = (
    rf"^{re.escape(TYPE_PREFIX)}\.(?P<context>{_CONTEXT})\.(?P<name>{_NAME})"
    r"\.v(?P<version>[1-9][0-9]*)$"
)
SOURCE_PATTERN = rf"^{re.escape(SOURCE_PREFIX)}(?P<context>{_CONTEXT})$"
_TYPE = re.compile(TYPE_PATTERN)
_SOURCE = re.compile(SOURCE_PATTERN)

#: CloudEvents: extension names are lowercase a-z0-9, at most 20 characters.
EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
EXTENSIONS = ("partnerorg", "aggregateversion", "chainpos", "chainprev", "chainhash")
_HASH = r"^[0-9a-f]{64}$"

#: Kafka keys are the subject: bounded, and never empty.
MAX_SUBJECT = 200


def event_type(context: str, name: str, version: int) -> str:
    return f"{TYPE_PREFIX}.{context}.{name}.v{version}"


def parse_type(value: str) -> tuple[str, str, int]:
    """``(context, name, version)`` of a type string; ``EnvelopeError`` if malformed."""
    match = _TYPE.match(value) if isinstance(value, str) else None
    if not match:
        raise EnvelopeError(
            "malformed CloudEvent", {"type": [f"Not '{TYPE_PREFIX}.<context>.<Name>.v<N>'."]}
        )
    return match["context"], match["name"], int(match["version"])


@dataclass(frozen=True)
class CloudEvent:
    """One event in its envelope. ``data`` is in JSON form (strings, numbers...)."""

    id: str
    source: str
    type: str
    subject: str
    time: str
    data: dict[str, Any]
    aggregateversion: int
    partnerorg: str | None = None
    chainpos: int | None = None
    chainprev: str | None = None
    chainhash: str | None = None
    datacontenttype: str = DATACONTENTTYPE
    specversion: str = SPECVERSION

    @classmethod
    def new(
        cls,
        context: str,
        name: str,
        version: int,
        subject: str,
        data: Mapping[str, Any],
        aggregate_version: int,
        partner_org: str | uuid.UUID | None = None,
        event_id: str | uuid.UUID | None = None,
        time: dt.datetime | str | None = None,
        check: bool = True,
    ) -> CloudEvent:
        """A checked envelope: the same rules as ``decode``, so whatever is
        built here can be read back by every consumer.

        ``check=False`` is for the event store alone, on every command's path:
        it validated ``data`` against the catalogue and builds every other field
        itself (``contracts/tests`` decode what the store writes for every event).
        """
        event = cls(
            id=str(event_id or uuid.uuid4()),
            source=SOURCE_PREFIX + context,
            type=event_type(context, name, version),
            subject=str(subject),
            time=_rfc3339(time),
            data=json_form(data),
            aggregateversion=aggregate_version,
            partnerorg=None if partner_org is None else str(partner_org),
        )
        if check:
            _check(event.to_dict())
        return event

    @property
    def context(self) -> str:
        return parse_type(self.type)[0]

    @property
    def event_name(self) -> str:
        return parse_type(self.type)[1]

    @property
    def event_version(self) -> int:
        return parse_type(self.type)[2]

    @property
    def timestamp(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.time)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object; an absent extension is left out, not null."""
        out = {name: getattr(self, name) for name in _FIELD_NAMES}
        for name in ("partnerorg", "chainpos", "chainprev", "chainhash"):
            if out[name] is None:
                del out[name]
        return out


#: Looked up once: ``dataclasses.fields`` on every encode showed in the append profile.
_FIELD_NAMES = tuple(f.name for f in fields(CloudEvent))


def encode(event: CloudEvent) -> bytes:
    """Compact UTF-8 JSON with sorted keys: the same event, the same bytes."""
    return json.dumps(
        event.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def decode(raw: bytes) -> CloudEvent:
    """The ``CloudEvent`` in ``raw``; ``EnvelopeError`` naming the bad field otherwise."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, TypeError) as error:
        raise EnvelopeError(
            "malformed CloudEvent", {"_schema": [f"Not UTF-8 JSON ({error})."]}
        ) from error
    if not isinstance(body, dict):
        raise EnvelopeError(
            "malformed CloudEvent", {"_schema": ["Must be a JSON object (structured mode)."]}
        )
    loaded = _check(body)
    return CloudEvent(**loaded)


# -- checks --------------------------------------------------------------------


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
_BEYOND_MICROSECONDS = re.compile(r"(\.\d{6})\d+")


def _is_rfc3339(text: str) -> bool:
    """An aware RFC 3339 timestamp, and a real date and time."""
    if not _RFC3339.match(text):
        return False
    try:
        # Python parses at most 6 fraction digits; RFC 3339 allows more.
        dt.datetime.fromisoformat(_BEYOND_MICROSECONDS.sub(r"\1", text))
    except ValueError:
        return False
    return True


class _Rfc3339(mfields.String):
    """An aware RFC 3339 timestamp, kept as the producer wrote it."""

    default_error_messages = {"invalid_time": "Not an RFC 3339 timestamp with a time zone."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not _is_rfc3339(text):
            raise self.make_error("invalid_time")
        return text


class _EnvelopeSchema(Schema):
    specversion = mfields.String(
        required=True, validate=validate.Equal(SPECVERSION, error="Must be '1.0'.")
    )
    id = Id(required=True)
    source = mfields.String(
        required=True,
        validate=validate.Regexp(SOURCE_PATTERN, error=f"Not '{SOURCE_PREFIX}<context>'."),
    )
    type = mfields.String(
        required=True,
        validate=validate.Regexp(
            TYPE_PATTERN, error=f"Not '{TYPE_PREFIX}.<context>.<Name>.v<N>'."
        ),
    )
    subject = mfields.String(required=True, validate=validate.Length(min=1, max=MAX_SUBJECT))
    time = _Rfc3339(required=True)
    datacontenttype = mfields.String(
        required=True,
        validate=validate.Equal(DATACONTENTTYPE, error=f"Must be '{DATACONTENTTYPE}'."),
    )
    data = mfields.Dict(keys=mfields.String(), required=True)
    partnerorg = Id(load_default=None, allow_none=True)
    aggregateversion = Integer(required=True, validate=validate.Range(min=1))
    chainpos = Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    chainprev = mfields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(_HASH, error="Not a SHA-256 (hex)."))
    chainhash = mfields.String(load_default=None, allow_none=True,
                               validate=validate.Regexp(_HASH, error="Not a SHA-256 (hex)."))

    @validates_schema
    def _one_context(self, body: dict[str, Any], **kwargs: Any) -> None:
        type_context = _TYPE.match(body["type"])["context"]  # type: ignore[index]
        if type_context not in CONTEXTS:
            raise ValidationError(f"Unknown context {type_context!r}.", field_name="type")
        if _SOURCE.match(body["source"])["context"] != type_context:  # type: ignore[index]
            raise ValidationError(
                f"Must be '{SOURCE_PREFIX}{type_context}', the context of the type.",
                field_name="source",
            )


_SCHEMA = _EnvelopeSchema()
_KNOWN = frozenset(_SCHEMA.fields)
#: A UUID as ``Id`` keeps it (lower case, hyphenated): such a string loads unchanged.
_CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HASH_SHAPE = re.compile(_HASH)


def _check(body: dict[str, Any]) -> dict[str, Any]:
    """The known attributes, checked. An unknown attribute that is a well-formed
    extension (lower-case letters and digits, e.g. a tracing ``traceparent``, or one
    a newer producer added) is ignored, as CloudEvents asks of receivers: a rolling
    upgrade must not turn every event into a dead letter. Any other is refused."""
    loaded = _plainly_right(body)
    if loaded is not None:
        return loaded
    known = _KNOWN
    foreign = [name for name in body if name not in known]
    malformed = [name for name in foreign if not EXTENSION_NAME.match(str(name))]
    if malformed:
        raise EnvelopeError("malformed CloudEvent", {
            str(name): ["Not an attribute of this envelope, nor an extension name."]
            for name in malformed})
    try:
        return _SCHEMA.load({k: v for k, v in body.items() if k in known})
    except ValidationError as error:
        raise EnvelopeError("malformed CloudEvent", flatten(error.messages)) from error


def _plainly_right(body: dict[str, Any]) -> dict[str, Any] | None:
    """What the schema would load from ``body``, when every attribute is plainly right
    (as in every envelope the platform writes); ``None`` for anything else, which the
    schema then checks and names. Each test here is at least as strict as the
    schema's, so whatever passes here loads there, to the same values
    (``contracts/tests/test_envelope.py`` checks it on every bad value it knows).

    Why: every consumer decodes every event it reads, and the schema took about
    50 microseconds an envelope, about a tenth of a consumer's time per event.
    """
    if not _KNOWN.issuperset(body):
        return None  # an extension to ignore, or a name to refuse: the schema's part
    try:
        time, data, version = body["time"], body["data"], body["aggregateversion"]
        event_id, source, event_type_, subject = (body["id"], body["source"], body["type"],
                                                  body["subject"])
        if body["specversion"] != SPECVERSION or body["datacontenttype"] != DATACONTENTTYPE:
            return None
    except KeyError:
        return None
    partnerorg, chainpos = body.get("partnerorg"), body.get("chainpos")
    chainprev, chainhash = body.get("chainprev"), body.get("chainhash")
    if not (type(event_id) is str and _CANONICAL_ID.fullmatch(event_id)
            and type(source) is str and type(event_type_) is str
            and type(subject) is str and 0 < len(subject) <= MAX_SUBJECT
            and type(time) is str and _is_rfc3339(time)
            and type(data) is dict and all(type(key) is str for key in data)
            and type(version) is int and version >= 1
            and (partnerorg is None
                 or (type(partnerorg) is str and _CANONICAL_ID.fullmatch(partnerorg)))
            and (chainpos is None or (type(chainpos) is int and chainpos >= 1))
            and (chainprev is None or (type(chainprev) is str and _HASH_SHAPE.match(chainprev)))
            and (chainhash is None or (type(chainhash) is str and _HASH_SHAPE.match(chainhash)))):
        return None
    typed, sourced = _TYPE.match(event_type_), _SOURCE.match(source)
    if (typed is None or sourced is None or typed["context"] not in CONTEXTS
            or sourced["context"] != typed["context"]):
        return None
    return {"specversion": SPECVERSION, "id": event_id, "source": source, "type": event_type_,
            "subject": subject, "time": time, "datacontenttype": DATACONTENTTYPE,
            "data": data, "partnerorg": partnerorg, "aggregateversion": version,
            "chainpos": chainpos, "chainprev": chainprev, "chainhash": chainhash}


def _rfc3339(value: dt.datetime | str | None) -> str:
    """UTC with a ``Z``: one spelling, whatever the producer's time zone."""
    if value is None:
        value = dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        return value  # checked by the schema
    if value.tzinfo is None or value.utcoffset() is None:
        raise EnvelopeError(
            "malformed CloudEvent", {"time": ["Naive datetime: a time zone is required."]}
        )
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def json_form(value: Any) -> Any:
    """Validated data may hold datetimes, dates and UUIDs; the envelope holds
    what JSON holds, so ``decode(encode(e)) == e``."""
    if isinstance(value, Mapping):
        return {str(k): json_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_form(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
