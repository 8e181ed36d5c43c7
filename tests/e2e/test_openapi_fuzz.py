"""schemathesis against each API's own /openapi.json — the partner gateway with a
valid partner key, the moderator API with a valid moderator credential: whatever
it generates, valid or not, no 5xx, and every answer conforms to the document
(status documented, content type, body schema, headers)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.gateway.client import PartnerApi, default_base_url
from tests.e2e.moderation import case_of, enrol, moderation_url, publish_report

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = 20


def fuzz(base_url: str, headers: dict[str, str], at_least: int) -> list[str]:
    """Every operation, in both generation modes; returns what failed, one line each."""
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= at_least, "the document lists the API's operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # Nothing invalid can be sent to an operation without any input.
                assert mode is GenerationMode.NEGATIVE and not operation.body and not any(
                    p for p in operation.iter_parameters() if p.location != "header")
            except (Exception, BaseExceptionGroup) as failure:  # one report for the whole API
                first = str(failure).strip().splitlines()[:12]
                failures.append(f"{operation.label} [{mode.value}]: " + " | ".join(first))
    return failures


@pytest.fixture(scope="module")
def partner_key(operator: PartnerApi) -> str:
    org = operator.register_organisation("Fuzzed", matching_scope="open")
    org.ready_member("mentee")
    org.ready_member("mentor")
    assert org.credential
    return org.credential


def test_the_gateway_honours_its_openapi_document(partner_key):
    failures = fuzz(default_base_url(), {"Authorization": f"Bearer {partner_key}"}, 15)
    assert not failures, "\n".join(failures)


def test_the_moderator_api_honours_its_openapi_document(org):
    moderator = enrol("Fuzzing moderator")
    mentor, mentee = org.ready_member("mentor"), org.ready_member("mentee")
    publish_report(mentee, mentor, org.organisation_id)
    case_of(moderator, mentor)  # at least one real case to read and decide on
    failures = fuzz(moderation_url(), {"Authorization": f"Bearer {moderator.credential}"}, 10)
    assert not failures, "\n".join(failures)
