"""Tenant isolation, for every /v1 route of the gateway: organisation B probing
organisation A's ids gets exactly what an id that does not exist gets.

The test walks the gateway's own route table, so a new route is covered the day
it is added: each path parameter needs a way to make one of A's ids and each
body route a valid body (``tests/e2e/worlds/<context>.py``), or the test fails
naming what is missing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.gateway.client import PartnerApi, member_profile
from services.gateway.routes import ROUTES
from tests.e2e import worlds

PARTNER_ROUTES = [r for r in ROUTES if r.path.startswith("/v1/")
                  and r.acting in ("organisation", "member")]
WITH_IDS = [r for r in PARTNER_ROUTES if r.path_params]

#: A valid body per operation, so that a refusal can only come from the id.
VALID_BODIES: dict[str, Any] = {
    name: body for module in worlds.modules() for name, body in module.VALID_BODIES.items()}


@pytest.fixture(scope="module")
def a_world(operator: PartnerApi) -> dict[str, Any]:
    """Organisation A and one real id of A's for each path parameter."""
    a = operator.register_organisation("Organisation A", matching_scope="open")
    ids: dict[str, str] = {}
    for module in worlds.modules():
        ids.update(module.build(a, ids))
    return {"org": a, "ids": ids}


@pytest.fixture(scope="module")
def b(operator: PartnerApi) -> PartnerApi:
    return operator.register_organisation("Organisation B", matching_scope="open")


def body_for(route: Any, caller: PartnerApi) -> Any:
    if route.body is None:
        return None
    assert route.operation_id in VALID_BODIES, (
        f"test_isolation needs a valid body for {route.operation_id}")
    body = VALID_BODIES[route.operation_id]
    if body == "charter":
        charter = caller.get("/v1/charter").ok()
        body = {"charter_version": charter["charter_version"],
                "commitments": charter["commitments"]["mentee"]}
    return body


def comparable(answer: Any) -> tuple[int, Any]:
    """Status and body without what differs from one request to the next."""
    body = answer.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("request_id", "instance")}
    return answer.status, body


def probe(route: Any, caller: PartnerApi, ids: dict[str, str]) -> Any:
    path = route.path.format(**ids)
    return caller.call(route.method, path, json=body_for(route, caller))


def test_every_partner_route_with_an_id_is_known_to_this_test(a_world):
    missing = sorted({p for r in WITH_IDS for p in r.path_params} - set(a_world["ids"]))
    assert not missing, f"no id of organisation A for: {missing} (extend a_world)"


@pytest.mark.parametrize("route", WITH_IDS, ids=[r.operation_id for r in WITH_IDS])
@pytest.mark.parametrize("acting", ["organisation", "member"])
def test_another_organisation_s_id_reads_like_a_missing_id(route, acting, a_world, b):
    caller = b if acting == "organisation" else b.as_member(b.ready_member("mentee"))
    theirs = {p: a_world["ids"][p] for p in route.path_params}
    nobody = {p: str(uuid.uuid4()) for p in route.path_params}
    with_theirs = probe(route, caller, theirs)
    with_nobody = probe(route, caller, nobody)
    assert comparable(with_theirs) == comparable(with_nobody), (
        f"{route.method} {route.path}: A's ids answer {with_theirs.status} "
        f"{with_theirs.body}, a missing id {with_nobody.status} {with_nobody.body}")
    assert with_theirs.status in (403, 404), "and neither is a success"


def test_nothing_of_a_s_was_changed_by_b(a_world, b):
    """After every probe above (run first in this module), A's member is intact."""
    a = a_world["org"]
    member = a.get(f"/v1/members/{a_world['ids']['member_id']}").ok()
    assert member["status"] == "active" and member["topics"] == ["software", "career-change"]
    assert member["charter"]["up_to_date"] is True
    keys = a.get("/v1/organisation").ok()["api_keys"]
    assert [k["revoked_at"] for k in keys] == [None]


def test_b_acting_as_a_s_member_is_refused_like_a_stranger(a_world, b):
    theirs = b.as_member(a_world["ids"]["member_id"]).get("/v1/organisation")
    nobody = b.as_member(str(uuid.uuid4())).get("/v1/organisation")
    assert comparable(theirs) == comparable(nobody)
    assert theirs.status == 404


def test_listings_show_only_the_caller_s_own(a_world, b):
    b.register_member("mentor", **{"capacity": 1})
    listed = b.get("/v1/members", params={"limit": 500}).ok()
    assert a_world["ids"]["member_id"] not in {m["member_id"] for m in listed["items"]}
    assert b.get("/v1/organisation").ok()["organisation_id"] == b.organisation_id


def test_the_same_email_in_b_is_a_different_member(a_world, b):
    """Registering someone A already has tells B nothing about A."""
    answer = b.post("/v1/members", member_profile("mentee"))
    assert answer.status == 201


@pytest.fixture(scope="module")
def b_world(b: PartnerApi) -> dict[str, str]:
    """B's own world, built the same way: B's own pair, its own sessions and objectives."""
    ids: dict[str, str] = {}
    for module in worlds.modules():
        ids.update(module.build(b, ids))
    return ids


CHILD_ROUTES = [r for r in WITH_IDS if "pair_id" in r.path_params and len(r.path_params) > 1]


@pytest.mark.parametrize("route", CHILD_ROUTES, ids=[r.operation_id for r in CHILD_ROUTES])
def test_a_s_child_ids_under_b_s_own_pair_read_like_missing_ones(route, a_world, b, b_world):
    """B's member in her own pair, naming A's session, objective or action item: what a
    missing one gets (an id is only ever its own pair's)."""
    caller = b.as_member(b_world["pair_mentee"])
    theirs = {p: (b_world["pair_id"] if p == "pair_id" else a_world["ids"][p])
              for p in route.path_params}
    nobody = {p: (b_world["pair_id"] if p == "pair_id" else str(uuid.uuid4()))
              for p in route.path_params}
    with_theirs = probe(route, caller, theirs)
    with_nobody = probe(route, caller, nobody)
    assert comparable(with_theirs) == comparable(with_nobody), (
        f"{route.method} {route.path}: A's child ids answer {with_theirs.status} "
        f"{with_theirs.body}, a missing one {with_nobody.status} {with_nobody.body}")
    assert with_theirs.status in (403, 404, 409, 422), "and neither is a success"
