"""ServiceError crosses RPC intact and names fields; domain errors keep their rule."""

from __future__ import annotations

from nameko.exceptions import deserialize, serialize

from services.servicekit.errors import NotFound, RuleViolation, ServiceError


def test_a_service_error_survives_nameko_serialisation_as_itself():
    error = ServiceError.make(422, "rule_violated", "R6 says so",
                              [{"field": "duration_minutes", "message": "60..120"}], rule="R6")
    again = deserialize(serialize(error))
    assert isinstance(again, ServiceError)
    assert (again.status, again.code, again.rule, again.errors) == (
        422, "rule_violated", "R6", [{"field": "duration_minutes", "message": "60..120"}])


def test_a_rule_violation_becomes_a_422_naming_rule_and_field():
    body = ServiceError.from_domain(RuleViolation("R5", "45 days at most",
                                                  field="interval_days")).body
    assert body["status"] == 422 and body["rule"] == "R5"
    assert body["errors"] == [{"field": "interval_days", "message": "45 days at most"}]
    assert ServiceError.from_domain(NotFound("No such pair.")).status == 404


def test_marshmallow_messages_become_one_entry_per_dotted_field():
    error = ServiceError.invalid({"languages": {0: ["Not a code."]}, "role": ["Missing."],
                                  "_schema": ["Inconsistent."]})
    assert [e["field"] for e in error.errors] == ["_schema", "languages.0", "role"]
    assert error.status == 422 and "languages.0" in error.detail
