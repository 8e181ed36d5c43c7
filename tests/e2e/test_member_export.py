"""Right of access: everything the platform holds on a member, from every service
that holds something — her texts only to herself (R8)."""

from __future__ import annotations

import uuid

from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi


def paired(org: PartnerApi) -> tuple[str, str, str]:
    """A mentee and a mentor of ``org``, paired through matching; returns their ids
    and the pair's once sessions has opened it."""
    topic = f"export-{uuid.uuid4().hex[:8]}"
    mentee = org.ready_member("mentee", topics=[topic])
    mentor = org.ready_member("mentor", topics=[topic], capacity=1)
    for member in (mentee, mentor):
        wait_until(lambda m=member: org.get(f"/v1/matching/members/{m}/eligibility")
                   .body.get("eligible"), what="matching to see her eligible")
    pair = org.as_member(mentee).post(f"/v1/matching/mentees/{mentee}/requests",
                                      {"mentor_id": mentor}).ok()["pair_id"]
    org.as_member(mentor).post(f"/v1/matching/pairs/{pair}/acceptance").ok()
    wait_until(lambda: org.as_member(mentee).get(f"/v1/pairs/{pair}").status == 200,
               what="sessions to open the pair")
    return mentee, mentor, pair


def test_she_gets_every_part_her_texts_included(org):
    mentee, _, pair = paired(org)
    as_her = org.as_member(mentee)
    as_her.post(f"/v1/pairs/{pair}/notes", {"text": "Ideas for my CV"}).ok()
    as_her.post(f"/v1/pairs/{pair}/objectives", {"kind": "objective",
                                                "text": "A first job in tech"}).ok()
    export = as_her.get(f"/v1/members/{mentee}/export").ok()
    assert export["identity"]["member"]["member_id"] == mentee
    (matching_pair,) = export["matching"]["pairs"]
    assert (matching_pair["pair_id"], matching_pair["state"]) == (pair, "formed")
    assert export["matching"]["eligibility"]["member_id"] == mentee
    (sessions_pair,) = export["sessions"]["pairs"]
    assert sessions_pair["pair"]["pair_id"] == pair
    assert [n["text"] for n in sessions_pair["notes"]["items"]] == ["Ideas for my CV"]
    assert "A first job in tech" in str(sessions_pair["objectives"])


def test_her_organisation_gets_the_states_never_the_pair_s_texts(org):
    mentee, _, pair = paired(org)
    org.as_member(mentee).post(f"/v1/pairs/{pair}/notes", {"text": "Private words"}).ok()
    export = org.get(f"/v1/members/{mentee}/export").ok()
    (sessions_pair,) = export["sessions"]["pairs"]
    assert sessions_pair["pair"]["counts"]["notes"] == 1
    assert (sessions_pair["notes"], sessions_pair["objectives"], sessions_pair["feedback"]) == (
        None, None, None)
    assert "Private words" not in str(export)


def test_nobody_else_gets_anything(org, new_organisation):
    mentee, mentor, _ = paired(org)
    assert org.as_member(mentor).get(f"/v1/members/{mentee}/export").status == 404
    stranger = new_organisation()
    assert stranger.get(f"/v1/members/{mentee}/export").status == 404
