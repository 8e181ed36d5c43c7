"""Identity through the partner API: organisations, keys, members, the charter (R3),
erasure and export, over real HTTP against the running stack."""

from __future__ import annotations

import uuid

import pytest

from services.gateway.client import PartnerApi, member_profile
from tests.e2e.credentials import credentials_epoch

MENTEE_COMMITMENTS = [
    "mentee.confidentiality", "mentee.commitment", "mentee.co_responsibility",
    "mentee.respect_honesty", "mentee.openness", "mentee.receive_feedback",
    "mentee.reflection", "mentee.no_solicitation",
]


def counts(org: PartnerApi) -> dict[str, int]:
    return org.get("/v1/organisation").ok()["members"]


# -- organisations and keys ----------------------------------------------------------


def test_an_organisation_is_registered_with_a_key_shown_once(operator):
    answer = operator.post("/v1/operator/organisations", {
        "name": "Elles Codent", "kind": "association", "contact_email": "hello@example.org",
    })
    assert answer.status == 201
    key = answer.body["api_key"]
    assert key.startswith("mk_")
    org = PartnerApi(key)
    me = org.get("/v1/organisation").ok()
    assert me["organisation_id"] == answer.body["organisation_id"]
    assert me["name"] == "Elles Codent"
    assert me["matching_scope"] == "own"
    (listed,) = me["api_keys"]
    assert listed["key_id"] == answer.body["key_id"]
    assert key.split("_")[1] == listed["prefix"]
    assert key not in str(me), "the secret is never shown again"


def test_a_revoked_key_stops_working_at_once_and_the_new_one_works(org):
    old_key_id = org.get("/v1/organisation").ok()["api_keys"][0]["key_id"]
    issued = org.post("/v1/organisation/api-keys").ok()
    rotated = PartnerApi(issued["api_key"])
    assert rotated.get("/v1/organisation").status == 200

    revoked = org.post(f"/v1/organisation/api-keys/{old_key_id}/revocation",
                       {"reason": "rotated"})
    assert revoked.status == 200
    stale = org.get("/v1/organisation")
    assert stale.status == 401, "the very next request with the revoked key is refused"
    assert stale.problem["code"] == "unauthenticated"
    assert rotated.get("/v1/organisation").status == 200

    again = rotated.post(f"/v1/organisation/api-keys/{old_key_id}/revocation", {})
    assert again.status == 409
    unknown = rotated.post(f"/v1/organisation/api-keys/{uuid.uuid4()}/revocation", {})
    assert unknown.status == 404
    keys = {k["key_id"]: k for k in rotated.get("/v1/organisation").ok()["api_keys"]}
    assert keys[old_key_id]["revoked_reason"] == "rotated"


@pytest.mark.parametrize("credential", ["", "mk_nonsense", "Basic abc", "mk_AAAAAAAA_" + "x" * 43])
def test_a_bad_credential_is_401_problem(operator, credential):
    client = PartnerApi(credential or None)
    answer = client.get("/v1/organisation", headers={"Authorization": credential}
                        if credential.startswith("Basic") else None)
    assert answer.status == 401
    assert answer.problem["code"] == "unauthenticated"
    assert answer.headers["X-Request-Id"] == answer.problem["request_id"]


def test_operator_and_organisation_routes_are_kept_apart(operator, org):
    assert org.post("/v1/operator/organisations", {
        "name": "X", "kind": "company", "contact_email": "x@example.org"}).status == 403
    assert operator.get("/v1/organisation").status == 403
    assert operator.get("/v1/members").status == 403


def test_the_matching_policy_is_the_organisation_s_to_set(org):
    assert org.call("PUT", "/v1/organisation/matching-policy",
                    json={"matching_scope": "open"}).status == 200
    assert org.get("/v1/organisation").ok()["matching_scope"] == "open"
    bad = org.call("PUT", "/v1/organisation/matching-policy", json={"matching_scope": "all"})
    assert bad.status == 422 and bad.fields() == ["matching_scope"]


# -- members -------------------------------------------------------------------------


def test_members_are_registered_and_read_back(org):
    mentor = org.register_member("mentor", email="ada@example.org", display_name="Ada",
                                 preferred_modality="in_person", region="fr-idf", capacity=3)
    mentee = org.register_member("mentee", display_name="Zoé",
                                 expectations="Changer de métier", topics=["career-change"])
    profile = org.get(f"/v1/members/{mentor}").ok()
    assert (profile["display_name"], profile["email"]) == ("Ada", "ada@example.org")
    assert (profile["role"], profile["capacity"], profile["region"]) == ("mentor", 3, "fr-idf")
    assert profile["status"] == "active" and profile["flag"] is None
    assert profile["charter"]["up_to_date"] is False
    assert org.get(f"/v1/members/{mentee}").ok()["expectations"] == "Changer de métier"

    listing = org.get("/v1/members", params={"role": "mentee"}).ok()
    assert [m["member_id"] for m in listing["items"]] == [mentee]
    assert "display_name" not in listing["items"][0], "the listing shows states, not people"
    assert counts(org) == {"mentor_active": 1, "mentee_active": 1}


def test_a_member_acts_for_herself_and_only_herself(org):
    zoe = org.register_member("mentee")
    ada = org.register_member("mentor")
    assert org.as_member(zoe).get(f"/v1/members/{zoe}").status == 200
    assert org.as_member(zoe).get(f"/v1/members/{ada}").status == 404
    assert org.as_member(zoe).get("/v1/members").status == 403, "listing is the admins'"


DROP = object()  # a field left out of the body

BAD_MEMBERS = [
    ({"role": DROP}, "role"),
    ({"role": "coach"}, "role"),
    ({"email": "not-an-email"}, "email"),
    ({"email": DROP}, "email"),
    ({"display_name": ""}, "display_name"),
    ({"languages": []}, "languages"),
    ({"languages": ["fra"]}, "languages.0"),
    ({"topics": ["Career Change"]}, "topics.0"),
    ({"preferred_modality": "phone"}, "preferred_modality"),
    ({"preferred_modality": "in_person"}, "region"),
    ({"region": "Paris"}, "region"),
    ({"role": "mentor", "capacity": None}, "capacity"),
    ({"role": "mentor", "capacity": 0}, "capacity"),
    ({"role": "mentor", "capacity": 11}, "capacity"),
    ({"role": "mentor", "capacity": "2"}, "capacity"),
    ({"capacity": 1}, "capacity"),
    ({"role": "mentor", "capacity": 1, "expectations": "x"}, "expectations"),
    ({"price": 40}, "price"),
    ({"fee": "free"}, "fee"),
]


@pytest.mark.parametrize("change, field", BAD_MEMBERS, ids=[f for _, f in BAD_MEMBERS])
def test_each_invalid_member_is_refused_naming_the_field_and_nothing_is_written(
        org, change, field):
    before = counts(org)
    body = member_profile("mentee")
    for name, value in change.items():
        if value is DROP:
            body.pop(name, None)
        else:
            body[name] = value
    answer = org.post("/v1/members", body)
    assert answer.status == 422, answer.body
    assert field in answer.fields(), answer.problem
    assert answer.problem["code"] == "validation_failed"
    assert counts(org) == before, "a refused request writes nothing"


@pytest.mark.parametrize("raw, status", [("{not json", 400), ("", 400), ("[1, 2]", 422),
                                          ('"text"', 422)])
def test_a_body_that_is_not_a_json_object_is_refused(org, raw, status):
    answer = org.call("POST", "/v1/members", data=raw)
    assert answer.status == status
    assert answer.problem["errors"], "the problem names what is wrong"


def test_the_same_person_registers_once_per_role_and_organisation(org, new_organisation):
    org.register_member("mentee", email="Twice@Example.org")
    again = org.post("/v1/members", member_profile("mentee", email="TWICE@example.org"))
    assert again.status == 409, "the same mailbox, however it is spelt"
    assert again.fields() == ["email"]
    org.register_member("mentor", email="twice@example.org")  # the other role: allowed
    new_organisation().register_member("mentee", email="twice@example.org")  # elsewhere


def test_a_profile_update_changes_only_what_is_sent(org):
    mentor = org.register_member("mentor", capacity=2)
    assert org.call("PATCH", f"/v1/members/{mentor}", json={"capacity": 4,
                                                             "region": "fr-69"}).status == 200
    profile = org.get(f"/v1/members/{mentor}").ok()
    assert (profile["capacity"], profile["region"], profile["languages"]) == (4, "fr-69",
                                                                              ["fr", "en"])
    empty = org.call("PATCH", f"/v1/members/{mentor}", json={})
    assert empty.status == 422
    no_capacity = org.call("PATCH", f"/v1/members/{mentor}", json={"capacity": None})
    assert no_capacity.status == 422 and no_capacity.fields() == ["capacity"]


# -- the charter (R3) -------------------------------------------------------------------


def test_the_charter_names_each_role_s_commitments(org):
    charter = org.get("/v1/charter").ok()
    assert charter["charter_version"] >= 1
    assert "mentor.no_solicitation" in charter["commitments"]["mentor"]
    assert "mentee.no_solicitation" in charter["commitments"]["mentee"]
    assert charter["text"].strip()


def test_acceptance_needs_every_commitment_of_the_role(org):
    mentee = org.register_member("mentee")
    version = org.get("/v1/charter").ok()["charter_version"]
    as_her = org.as_member(mentee)
    path = f"/v1/members/{mentee}/charter-acceptance"

    partial = as_her.post(path, {"charter_version": version,
                                 "commitments": ["mentee.confidentiality"]})
    assert partial.status == 422
    assert partial.problem["rule"] == "R3" and partial.fields() == ["commitments"]
    assert "mentee.no_solicitation" in partial.problem["detail"], "names what is missing"

    other_role = as_her.post(path, {"charter_version": version,
                                    "commitments": ["mentor.commitment"]})
    assert other_role.status == 422 and other_role.problem["rule"] == "R3"
    stale = as_her.post(path, {"charter_version": version + 1,
                               "commitments": MENTEE_COMMITMENTS})
    assert stale.status == 422 and stale.fields() == ["charter_version"]
    by_admin = org.post(path, {"charter_version": version, "commitments": MENTEE_COMMITMENTS})
    assert by_admin.status == 403 and by_admin.problem["rule"] == "R8"

    accepted = as_her.post(path, {"charter_version": version,
                                  "commitments": MENTEE_COMMITMENTS})
    assert accepted.status == 201
    assert org.get(f"/v1/members/{mentee}").ok()["charter"]["up_to_date"] is True
    assert as_her.post(path, {"charter_version": version,
                              "commitments": MENTEE_COMMITMENTS}).status == 409


def test_another_member_cannot_accept_for_her(org):
    zoe = org.register_member("mentee")
    lea = org.register_member("mentee")
    version = org.get("/v1/charter").ok()["charter_version"]
    answer = org.as_member(lea).post(f"/v1/members/{zoe}/charter-acceptance",
                                     {"charter_version": version,
                                      "commitments": MENTEE_COMMITMENTS})
    assert answer.status == 404


# -- erasure and access ---------------------------------------------------------------------


def test_an_erased_member_is_ciphertext_only(org):
    marker = f"Erasable {uuid.uuid4().hex[:8]}"
    mentee = org.register_member("mentee", display_name=marker, expectations="Mes objectifs")
    before = org.get(f"/v1/members/{mentee}/export").ok()["identity"]
    assert before["member"]["display_name"] == marker

    refused = org.post(f"/v1/members/{mentee}/erasure", {"confirm": False})
    assert refused.status == 422 and refused.fields() == ["confirm"]
    assert org.post(f"/v1/members/{mentee}/erasure", {"confirm": True}).status == 200

    profile = org.get(f"/v1/members/{mentee}").ok()
    assert profile["status"] == "erased"
    assert (profile["display_name"], profile["email"], profile["expectations"]) == (
        None, None, None)
    export = org.get(f"/v1/members/{mentee}/export").ok()["identity"]
    registered = next(e for e in export["events"] if e["name"] == "MemberRegistered")
    assert registered["data"]["display_name"].startswith("enc:v1:member-"), \
        "the event stays, its content sealed"
    assert marker not in str(export), "nothing readable is left of her"
    assert [e["name"] for e in export["events"]][-1] == "PersonalDataErased"
    assert org.as_member(mentee).get(f"/v1/members/{mentee}").status == 404, \
        "an erased member no longer acts"
    assert org.post(f"/v1/members/{mentee}/erasure", {"confirm": True}).status == 409
    for change in ({"display_name": "Someone"}, {"languages": ["fr"]}):
        edited = org.call("PATCH", f"/v1/members/{mentee}", json=change)
        assert edited.status == 409 and edited.fields() == ["member_id"], edited.body


def test_an_export_returns_everything_identity_holds(org):
    mentee = org.ready_member("mentee", display_name="Inès", expectations="Trouver ma voie")
    whole = org.as_member(mentee).get(f"/v1/members/{mentee}/export").ok()
    export = whole["identity"]
    assert export["member"]["display_name"] == "Inès"
    assert export["member"]["expectations"] == "Trouver ma voie"
    assert [a["charter_version"] for a in export["charter_acceptances"]] == [
        org.get("/v1/charter").ok()["charter_version"]]
    assert [e["name"] for e in export["events"]] == ["MemberRegistered", "CharterAccepted"]
    assert export["exclusion"] is None
    assert whole["matching"]["pairs"] == [] and whole["sessions"]["pairs"] == []


def test_a_revoked_key_is_refused_at_once_even_when_the_gateway_remembered_it(org):
    """The gateway remembers for a moment who a key acts for (services/gateway/
    actors.py); a revocation must still be refused on the very next request."""
    key = org.post("/v1/organisation/api-keys").ok()
    spare = PartnerApi(key["api_key"])
    assert spare.get("/v1/organisation").status == 200  # now remembered
    assert org.post(f"/v1/organisation/api-keys/{key['key_id']}/revocation", {}).status == 200
    assert spare.get("/v1/organisation").status == 401


def test_every_change_of_who_may_act_advances_the_credentials_epoch(org):
    """What lets a gateway that missed a broadcast notice the change (gateway/actors.py):
    a revocation and an erasure advance the epoch with their commit; one identity
    refuses does not. (An exclusion does too: test_exclusion_registry.)"""
    key = org.post("/v1/organisation/api-keys").ok()
    before = credentials_epoch()
    assert org.post(f"/v1/organisation/api-keys/{key['key_id']}/revocation", {}).status == 200
    assert credentials_epoch() >= before + 1
    mentee = org.ready_member("mentee")
    before = credentials_epoch()
    assert org.post(f"/v1/members/{mentee}/erasure", {"confirm": True}).status == 200
    assert credentials_epoch() >= before + 1
    before = credentials_epoch()
    assert org.post(f"/v1/members/{mentee}/erasure", {"confirm": True}).status == 409
    assert credentials_epoch() == before  # refused by identity: rolled back with it
