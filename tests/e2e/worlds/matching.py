"""Matching's part of organisation A's world: a pair formed through matching's own
API (a mentee's request, her mentor's acceptance), and a valid body for each of
matching's routes with an id in its path (valid by schema: a refusal can only
come from the id).

Its own mentee and mentor, not identity's (whose mentee the isolation test acts
for elsewhere); the sessions world builds on this very pair."""

from __future__ import annotations

import uuid
from typing import Any

from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi

VALID_BODIES: dict[str, Any] = {
    "request_mentor": {"mentor_id": str(uuid.uuid4())},
    "decline_pair": {"reason": "not_a_fit"},
    "end_matching_pair": {"reason": "completed"},
}


def _eligible(org: PartnerApi, member_id: str) -> None:
    wait_until(lambda: (lambda a: a.status == 200 and a.body["eligible"])(
        org.get(f"/v1/matching/members/{member_id}/eligibility")),
        timeout=30, what="matching to see the member eligible")


def build(org: PartnerApi, ids: dict[str, str]) -> dict[str, str]:
    topic = f"world-{uuid.uuid4().hex[:8]}"
    mentee = org.ready_member("mentee", topics=[topic])
    mentor = org.ready_member("mentor", topics=[topic], capacity=1)
    _eligible(org, mentee)
    _eligible(org, mentor)
    pair_id = org.as_member(mentee).post(f"/v1/matching/mentees/{mentee}/requests",
                                         {"mentor_id": mentor}).ok()["pair_id"]
    org.as_member(mentor).post(f"/v1/matching/pairs/{pair_id}/acceptance").ok()
    # The same pair is sessions' (PairFormed opens it there): the sessions world
    # builds on it, so every route taking a pair_id is probed with one real pair.
    return {"pair_id": pair_id, "pair_mentee": mentee, "pair_mentor": mentor}
