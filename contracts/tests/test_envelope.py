"""The CloudEvents envelope: round trip, stable bytes, and errors naming the field."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts import envelope, examples
from contracts.envelope import CloudEvent, EnvelopeError
from contracts.errors import ContractError

PAIR = examples.PAIR
ORG = examples.ORG


def held(**overrides) -> CloudEvent:
    arguments = dict(
        context="sessions", name="SessionHeld", version=2, subject=PAIR,
        data=examples.example("SessionHeld", 2), aggregate_version=3, partner_org=ORG,
    )
    arguments.update(overrides)
    return CloudEvent.new(**arguments)


def body() -> dict:
    return json.loads(envelope.encode(held()))


def decode_error(value) -> EnvelopeError:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(EnvelopeError) as caught:
        envelope.decode(raw)
    return caught.value


def test_round_trip():
    event = held()
    assert envelope.decode(envelope.encode(event)) == event


def test_round_trip_without_partner_org():
    event = CloudEvent.new("identity", "CharterPublished", 1, examples.example_id("charter"),
                           examples.example("CharterPublished", 1), 1)
    raw = envelope.encode(event)
    assert b"partnerorg" not in raw  # absent, not null
    decoded = envelope.decode(raw)
    assert decoded == event and decoded.partnerorg is None


def test_the_attributes():
    event = held()
    assert event.specversion == "1.0"
    assert event.datacontenttype == "application/json"
    assert event.source == "/mentoring/sessions"
    assert event.type == "org.mentoring.sessions.SessionHeld.v2"
    assert (event.context, event.event_name, event.event_version) == ("sessions", "SessionHeld", 2)
    assert event.subject == PAIR and event.partnerorg == ORG and event.aggregateversion == 3
    assert str(uuid.UUID(event.id)) == event.id
    assert event.time.endswith("Z") and event.timestamp.tzinfo is not None


def test_encoding_is_compact_sorted_utf8_and_stable():
    event = held(event_id=examples.example_id("e"), time="2025-03-04T10:00:00Z",
                 data={"a": "é", "b": 1})
    raw = envelope.encode(event)
    assert raw == envelope.encode(envelope.decode(raw))
    text = raw.decode("utf-8")
    assert " " not in text.replace("é", "") and "é" in text  # compact, not \\u escaped
    keys = list(json.loads(raw))
    assert keys == sorted(keys)
    assert raw.startswith(b'{"aggregateversion":3,"data":{"a":"\xc3\xa9","b":1}')


def test_time_is_normalised_to_utc():
    paris = dt.timezone(dt.timedelta(hours=2))
    event = held(time=dt.datetime(2025, 3, 4, 12, 30, tzinfo=paris))
    assert event.time == "2025-03-04T10:30:00Z"


def test_new_refuses_a_naive_time():
    with pytest.raises(EnvelopeError) as caught:
        held(time=dt.datetime(2025, 3, 4, 12, 30))
    assert list(caught.value.fields) == ["time"]


def test_new_puts_data_in_json_form():
    started = dt.datetime(2025, 3, 4, 10, tzinfo=dt.UTC)
    event = held(data={"started_at": started, "id": uuid.UUID(PAIR), "on": dt.date(2025, 3, 4)})
    assert event.data == {"started_at": "2025-03-04T10:00:00+00:00", "id": PAIR,
                          "on": "2025-03-04"}
    assert envelope.decode(envelope.encode(event)) == event


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"subject": ""}, "subject"), ({"aggregate_version": 0}, "aggregateversion"),
     ({"partner_org": "acme"}, "partnerorg"), ({"event_id": "42"}, "id"),
     ({"context": "billing"}, "type"), ({"name": "session_held"}, "type"),
     ({"version": 0}, "type"), ({"time": "yesterday"}, "time")],
)
def test_new_checks_like_decode(overrides, field):
    with pytest.raises(EnvelopeError) as caught:
        held(**overrides)
    assert field in caught.value.fields


def test_extension_names_follow_cloudevents():
    for name in envelope.EXTENSIONS:
        assert envelope.EXTENSION_NAME.match(name), name
    assert {"partnerorg", "aggregateversion"} <= set(body())


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"\x00\xff", b'{"specversion": "1.0"', b"[1, 2]", b'"a string"',
            b"null"],
)
def test_what_is_not_a_json_object_is_refused(raw):
    error = decode_error(raw)
    assert list(error.fields) == ["_schema"]
    assert isinstance(error, ContractError) and isinstance(error, ValueError)


@pytest.mark.parametrize(
    "field",
    ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data",
     "aggregateversion"],
)
def test_a_missing_attribute_is_named(field):
    value = body()
    del value[field]
    error = decode_error(value)
    assert field in error.fields
    assert field in str(error)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("specversion", "0.3"),
        ("specversion", 1.0),
        ("id", "not-a-uuid"),
        ("id", 7),
        ("source", "mentoring/sessions"),
        ("source", "/mentoring/identity"),  # not the type's context
        ("type", "SessionHeld"),
        ("type", "org.mentoring.sessions.SessionHeld"),  # no version
        ("type", "org.mentoring.sessions.SessionHeld.v0"),
        ("type", "org.mentoring.sessions.sessionHeld.v2"),
        ("type", "org.mentoring.billing.InvoiceSent.v1"),
        ("type", "com.example.sessions.SessionHeld.v2"),
        ("subject", ""),
        ("subject", 42),
        ("subject", "x" * 201),
        ("time", "2025-03-04T10:00:00"),  # no time zone
        ("time", "2025-03-04"),
        ("time", "2025-13-04T10:00:00Z"),
        ("time", 1741082400),
        ("datacontenttype", "application/xml"),
        ("data", "a string"),
        ("data", [1, 2]),
        ("data", None),
        ("aggregateversion", 0),
        ("aggregateversion", "3"),
        ("aggregateversion", 2.5),
        ("aggregateversion", True),
        ("partnerorg", "acme"),
        ("partnerorg", 5),
    ],
)
def test_a_bad_attribute_is_named(field, value):
    bad = body()
    bad[field] = value
    error = decode_error(bad)
    assert list(error.fields) == [field], error.fields
    assert field in str(error)


ODD_VALUES = [None, True, False, 0, 1, -1, 2.5, "", "x" * 201, [], {}, "1.0", 1.0,
              PAIR.upper(), "{" + PAIR + "}", PAIR.replace("-", ""), PAIR + "\n", " " + PAIR,
              "2025-03-04T10:00:00Z\n", "2025-03-04T10:00:00.123456789+02:00",
              "2025-02-30T10:00:00Z", "/mentoring/sessions\n", "/mentoring/moderation",
              "org.mentoring.sessions.SessionHeld.v2\n", "org.mentoring.moderation.X.v1",
              "a" * 64, "A" * 64, "a" * 64 + "\n", {"k": 1}, {"": None}, 10**12]


@pytest.mark.parametrize("field", [*envelope._KNOWN, "traceparent", "Trace-Parent"])
def test_the_quick_check_never_accepts_what_the_schema_refuses_nor_loads_otherwise(field):
    """``decode`` first tries a quick check of the usual envelope, and asks the schema
    about anything else: on every odd value of every attribute, the quick check either
    steps aside or loads exactly what the schema loads."""
    stepped_aside = 0
    for value in [*ODD_VALUES, body().get(field)]:
        candidate = body()
        if value is None and field in candidate and field != "partnerorg":
            del candidate[field]
        else:
            candidate[field] = value
        quick = envelope._plainly_right(candidate)
        if quick is None:
            stepped_aside += 1
            continue
        loaded = envelope._SCHEMA.load(candidate)  # raises if the quick check was wrong
        assert quick == loaded, (field, value)
    assert stepped_aside, "every odd value accepted?"
    usual = body()
    assert envelope._plainly_right(usual) == envelope._SCHEMA.load(usual), "the usual: quick"


def test_an_unknown_extension_is_ignored_and_anything_else_named():
    """CloudEvents receivers tolerate extensions they do not know (a tracing header, an
    attribute a newer producer added); a name that cannot be an extension is refused."""
    plain = body()
    tolerated = {**plain, "traceparent": "00-abc"}
    assert envelope.decode(json.dumps(tolerated).encode()) == envelope.decode(
        json.dumps(plain).encode())
    bad = body()
    bad["Trace-Parent"] = "00-abc"
    assert list(decode_error(bad).fields) == ["Trace-Parent"]


def test_a_null_partnerorg_reads_as_absent():
    value = body()
    value["partnerorg"] = None
    assert envelope.decode(json.dumps(value).encode()).partnerorg is None


def test_rfc3339_times_with_offsets_and_nanoseconds_are_accepted():
    for time in ("2025-03-04T12:00:00+02:00", "2025-03-04T10:00:00.123456789Z"):
        value = body() | {"time": time}
        assert envelope.decode(json.dumps(value).encode()).time == time


def test_parse_type():
    assert envelope.parse_type("org.mentoring.moderation.MemberExcluded.v1") == (
        "moderation", "MemberExcluded", 1)
    with pytest.raises(EnvelopeError, match="type"):
        envelope.parse_type("org.mentoring.moderation.MemberExcluded")


def test_the_envelope_does_not_check_data_the_catalogue_does():
    # An unknown event decodes (it is a well-formed envelope) and is refused by
    # the catalogue, naming it: consumers dead-letter it with that reason.
    from contracts import catalogue

    value = body() | {"type": "org.mentoring.sessions.SessionTeleported.v1"}
    event = envelope.decode(json.dumps(value).encode())
    with pytest.raises(ContractError, match="SessionTeleported"):
        catalogue.upcast(event.event_name, event.event_version, event.data)
