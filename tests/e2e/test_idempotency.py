"""Guarantee: a command sent again under its ``Idempotency-Key`` is carried out once.

A partner whose request timed out cannot tell whether it was carried out; sending
it again must neither record a meeting twice nor fail. Through real HTTP against
the running stack (``eventcore.commands``, ``servicekit.rpc``, ``servicekit.http``):
the same request under the same key answers what it first answered and changes
nothing (while the first is still being answered: a 409 to send it again in a
second; its answer lost when its service stopped before answering: a 409 that
says so); another request under that key is a 422 naming the header; a key that
is no key is a 400; an API key is never kept (sent again, it answers null); and
a key is its organisation's own.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests

from services.eventcore import settings as stack_settings
from services.eventcore.commands import ANSWER_DEADLINE
from services.gateway.client import Answer, PartnerApi, default_base_url, member_profile
from tests.e2e.pairs import form_pair
from tests.e2e.test_sessions_api import Pairing, comparable, names, plan

HEADER = "Idempotency-Key"


@pytest.fixture
def pair(org: PartnerApi) -> tuple[PartnerApi, str]:
    """A pair of ``org``'s members; the mentee's API and the pair's path."""
    mentor, mentee = org.ready_member("mentor", capacity=3), org.ready_member("mentee")
    pairing = Pairing(form_pair(org, mentor, org, mentee, timedelta(days=2)), mentor, mentee,
                      org, org)
    # R5: the plan first, so that the pair may record more than one session.
    plan(pairing.as_mentee, pairing).ok()
    return pairing.as_mentee, pairing.pair_id


#: When the sessions a test records took place: one request is the same to the
#: byte each time it is sent.
THREE_HOURS_AGO = (datetime.now(UTC) - timedelta(hours=3)).isoformat()


def held(caller: PartnerApi, pair_id: str, key: str | None, minutes: int = 90,
         started: str = THREE_HOURS_AGO) -> Answer:
    return caller.post(f"/v1/pairs/{pair_id}/held-sessions", {
        "started_at": started, "duration_minutes": minutes, "modality": "remote",
    }, headers={HEADER: key} if key is not None else None)


def sessions_of(caller: PartnerApi, pair_id: str) -> list[dict[str, Any]]:
    return list(caller.get(f"/v1/pairs/{pair_id}").ok()["sessions"])


def test_a_session_sent_again_under_its_key_is_recorded_once_and_answered_alike(pair):
    her, pair_id = pair
    key = str(uuid.uuid4())
    first = held(her, pair_id, key)
    assert first.status == 201, first.body
    for _ in range(2):
        again = held(her, pair_id, key)
        assert comparable(again) == comparable(first)
    assert [s["session_id"] for s in sessions_of(her, pair_id)] == [first.body["id"]]
    assert names(pair_id).count("SessionHeld") == 1
    # The quoted form of the key (the IETF draft's sf-string) is the same key.
    assert comparable(held(her, pair_id, f'"{key}"')) == comparable(first)
    another = held(her, pair_id, str(uuid.uuid4()),
                   started=(datetime.now(UTC) - timedelta(hours=6)).isoformat())
    assert another.status == 201 and another.body["id"] != first.body["id"], another.body
    assert len(sessions_of(her, pair_id)) == 2, "another key is another request"


def test_a_key_sent_with_another_request_is_a_422_naming_it_and_changes_nothing(pair):
    her, pair_id = pair
    key = str(uuid.uuid4())
    assert held(her, pair_id, key).status == 201
    before = names(pair_id)
    other = held(her, pair_id, key, minutes=75)
    assert other.status == 422, other.body
    assert other.problem["code"] == "idempotency_key_reused"
    assert other.fields() == [HEADER]
    assert names(pair_id) == before


def test_four_sendings_at_once_record_one_session_and_the_late_ones_are_told_to_retry(pair):
    """Sendings racing: each later one waits for the first's commit; it then has the
    first's answer if it was kept by then, or a 409 with Retry-After (the first is
    still being answered), and sent again it has the answer."""
    her, pair_id = pair
    key = str(uuid.uuid4())
    answers: list[Answer] = []

    def send() -> None:
        caller = PartnerApi(her.credential, her.base_url, her.acting_member, requests.Session())
        answers.append(held(caller, pair_id, key))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (recorded,) = sessions_of(her, pair_id)
    assert len(answers) == 4
    for answer in answers:
        assert (answer.status == 201 and answer.body["id"] == recorded["session_id"]) or (
            answer.status == 409 and answer.headers.get("Retry-After") == "1"
            and "being carried out" in answer.problem["detail"]), answer.body
    again = held(her, pair_id, key)
    assert again.status == 201 and again.body["id"] == recorded["session_id"]


def test_a_sending_whose_answer_was_lost_is_told_so_not_to_retry_for_ever(pair):
    """The sessions service stopped between recording the session and keeping its
    answer (the mark as such a stop leaves it, a minute on): sent again, the request
    is a 409 saying so, without Retry-After, and records nothing."""
    her, pair_id = pair
    key = str(uuid.uuid4())
    first = held(her, pair_id, key)
    assert first.status == 201, first.body
    with psycopg.connect(stack_settings.load().database_url("sessions")) as conn:
        lost = conn.execute(
            "UPDATE processed_commands SET reply = NULL, "
            "applied_at = now() - make_interval(secs => %s) "
            "WHERE reply->'answer'->>'id' = %s", (ANSWER_DEADLINE + 1, first.body["id"])).rowcount
    assert lost == 1
    again = held(her, pair_id, key)
    assert again.status == 409, again.body
    assert "Retry-After" not in again.headers
    assert "answer was lost" in again.problem["detail"]
    assert [s["session_id"] for s in sessions_of(her, pair_id)] == [first.body["id"]]


@pytest.mark.parametrize("key", ["", '""', "k" * 256, "clé", "a\tb", "a,b"])
def test_a_key_that_is_no_key_is_a_400_naming_the_header_and_changes_nothing(pair, key):
    her, pair_id = pair
    answer = held(her, pair_id, key)
    assert answer.status == 400, answer.body
    assert answer.problem["code"] == "malformed_header"
    assert answer.fields() == [HEADER]
    assert sessions_of(her, pair_id) == []


def test_a_key_sent_twice_is_a_400_not_one_key_of_both(pair):
    """Two headers reach the gateway joined by a comma: that is no key."""
    her, pair_id = pair
    url = urllib.parse.urlsplit(her.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.putrequest("POST", f"/v1/pairs/{pair_id}/held-sessions")
    for name, value in (("Authorization", f"Bearer {her.credential}"),
                        ("X-Acting-Member", her.acting_member), ("Content-Type",
                                                                 "application/json"),
                        (HEADER, "first"), (HEADER, "second")):
        conn.putheader(name, value)
    body = json.dumps({"started_at": THREE_HOURS_AGO, "duration_minutes": 90,
                       "modality": "remote"}).encode()
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    answer = conn.getresponse()
    assert answer.status == 400 and HEADER in answer.read().decode()
    conn.close()
    assert sessions_of(her, pair_id) == []


def test_a_read_ignores_the_header(pair):
    her, pair_id = pair
    assert her.get(f"/v1/pairs/{pair_id}", headers={HEADER: "clé"}).status == 200


def test_an_api_key_is_never_kept_so_sent_again_its_issue_answers_null_for_it(org):
    key = str(uuid.uuid4())
    issued = org.post("/v1/organisation/api-keys", headers={HEADER: key})
    assert issued.status == 201 and issued.body["api_key"], issued.body
    again = org.post("/v1/organisation/api-keys", headers={HEADER: key})
    assert (again.status, again.body) == (201, {**issued.body, "api_key": None})
    keys = org.get("/v1/organisation").ok()["api_keys"]
    assert len(keys) == 2, "the organisation's first key and the one issued, no third"
    # What a partner does with a lost key: revoke it by its id.
    assert org.post(f"/v1/organisation/api-keys/{again.body['key_id']}/revocation",
                    {}).status == 200


def test_an_organisation_registered_again_under_its_key_is_one_and_answers_its_id(operator):
    """The operator's answer was lost: sent again, the registration answers the
    organisation's id (its first key is not kept), for her to issue another."""
    key, body = str(uuid.uuid4()), {
        "name": f"Idempotent {uuid.uuid4().hex[:6]}", "kind": "association",
        "contact_email": f"contact+{uuid.uuid4().hex[:8]}@example.org",
        "matching_scope": "own"}
    first = operator.post("/v1/operator/organisations", body, headers={HEADER: key})
    assert first.status == 201, first.body
    again = operator.post("/v1/operator/organisations", body, headers={HEADER: key})
    assert (again.status, again.body) == (201, {**first.body, "api_key": None})
    issued = operator.post(f"/v1/operator/organisations/{again.body['organisation_id']}"
                           "/api-keys")
    assert issued.status == 201 and issued.body["api_key"]
    organisation = PartnerApi(issued.body["api_key"]).get("/v1/organisation").ok()
    assert organisation["name"] == body["name"]
    assert len(organisation["api_keys"]) == 2


def test_a_key_is_its_organisations_own(new_organisation):
    """Another organisation sending the same key and body registers its own member;
    one of the organisation's members reusing it for herself is another request."""
    key, profile = str(uuid.uuid4()), member_profile("mentee")
    ours, theirs = new_organisation(), new_organisation()
    first = ours.post("/v1/members", profile, headers={HEADER: key})
    assert first.status == 201, first.body
    assert comparable(ours.post("/v1/members", profile, headers={HEADER: key})) == \
        comparable(first)
    other = theirs.post("/v1/members", member_profile("mentee"), headers={HEADER: key})
    assert other.status == 201 and other.body["member_id"] != first.body["member_id"]
    as_her = ours.as_member(first.body["member_id"])
    reused = as_her.post("/v1/members", profile, headers={HEADER: key})
    assert reused.status == 422 and reused.fields() == [HEADER], reused.body
    listed = ours.get("/v1/members").ok()
    assert [m["member_id"] for m in listed["items"]] == [first.body["member_id"]]


def test_the_header_is_documented_on_every_command_and_no_read():
    document = requests.get(default_base_url() + "/openapi.json", timeout=30).json()
    commands = reads = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security"):
                continue  # public: health, the document itself
            named = [p for p in operation["parameters"] if p.get("name") == HEADER]
            if method == "get":
                reads += 1
                assert named == [], (method, path)
            else:
                commands += 1
                assert len(named) == 1 and named[0]["in"] == "header", (method, path)
                assert not named[0]["required"]
                assert "422" in operation["responses"]
    assert commands >= 20 and reads >= 10
