"""What no schema sees, at both HTTP edges (servicekit.http): bodies that are JSON
but no text, bodies nested past any request of ours, query strings that are not
UTF-8, and ids spelled another way. Each was a 500 with a traceback in the log,
the first three before the caller was even authenticated: now a 400 naming the
part of the request, and nothing changes."""

from __future__ import annotations

import socket
import urllib.parse
import uuid

import pytest

from services.gateway.client import PartnerApi, default_base_url, member_profile
from tests.e2e.moderation import moderation_url

#: The two HTTP edges: a route with a body, a route with a query.
EDGES = {
    "gateway": (default_base_url(), "/v1/members", "/v1/members?role="),
    "moderation": (moderation_url(), f"/v1/cases/{uuid.uuid4()}/confirmations",
                   "/v1/cases?status="),
}


def raw(base_url: str, request: bytes) -> tuple[int, bytes]:
    """One request as raw bytes (what a client library would have escaped)."""
    parts = urllib.parse.urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


@pytest.mark.parametrize("edge", EDGES)
def test_a_body_nested_thousands_deep_is_refused_before_anything(edge):
    base_url, with_body, _ = EDGES[edge]
    stranger = PartnerApi("junk", base_url)
    answer = stranger.post(with_body, data="[" * 3000 + "]" * 3000)
    assert answer.status == 400, answer.body
    assert answer.problem["code"] == "malformed_body" and answer.fields() == ["_body"]
    deep = stranger.post(with_body, data="[" * 40 + "]" * 40)
    assert deep.status == 400 and "nests deeper" in deep.problem["detail"]


@pytest.mark.parametrize("edge", EDGES)
def test_a_query_that_is_not_utf8_is_refused_naming_it(edge):
    base_url, _, query = EDGES[edge]
    host = urllib.parse.urlsplit(base_url).netloc.encode()
    status, answer = raw(base_url, b"GET " + query.encode() + b"\xff HTTP/1.1\r\nHost: " +
                         host + b"\r\nAuthorization: Bearer junk\r\nConnection: close\r\n\r\n")
    assert status == 400, answer
    assert b'"malformed_query"' in answer and b'"_query"' in answer


def test_a_lone_surrogate_is_no_text_and_is_refused_naming_its_field(org: PartnerApi):
    """``"\\ud800"`` is valid JSON, but no character: it cannot be sealed (R8)."""
    before = org.get("/v1/members").ok()["items"]
    body = member_profile("mentee", display_name="Ana \ud800")
    for sent in (body, {**body, "languages": ["fr", "\udfff"]}):
        answer = org.post("/v1/members", sent)
        assert answer.status == 400, answer.body
        assert answer.problem["code"] == "malformed_body"
    assert org.post("/v1/members", body).fields() == ["display_name"]
    assert org.post("/v1/members", {**body, "display_name": "Ana",
                                    "languages": ["fr", "\udfff"]}).fields() == ["languages.1"]
    assert org.get("/v1/members").ok()["items"] == before, "nothing registered"


def test_an_acting_member_is_her_id_however_it_is_spelled(org: PartnerApi):
    """The path's ids are read as UUIDs in any spelling; the acting member's too
    (``urn:uuid:`` was a 500, and upper case read as another member)."""
    member = org.register_member("mentee")
    for spelling in (f"urn:uuid:{member}", member.upper(), "{" + member + "}",
                     member.replace("-", "")):
        answer = org.as_member(spelling).get(f"/v1/members/{member}")
        assert answer.status == 200, (spelling, answer.body)
        assert answer.body["member_id"] == member
    assert org.as_member(f"urn:uuid:{member[:-1]}x").get(
        f"/v1/members/{member}").status == 404


def test_a_command_that_takes_nothing_accepts_no_body_or_an_empty_object_and_nothing_else(
    new_organisation,
):
    """Issuing an API key takes no body: none or ``{}`` issues one, anything else is
    named (422, 400 for no JSON) and issues none."""
    org = new_organisation()
    path = "/v1/organisation/api-keys"
    assert org.call("POST", path).status == 201
    assert org.call("POST", path, json={}).status == 201
    for body, status, field in (({"price": 10, "label": "x"}, 422, "label"),
                                ([1], 422, "_body"), (b"{not json", 400, "_body")):
        answer = org.call("POST", path, data=body) if isinstance(body, bytes) \
            else org.call("POST", path, json=body)
        assert answer.status == status and field in answer.fields(), answer.body
    assert len(org.get("/v1/organisation").ok()["api_keys"]) == 3
