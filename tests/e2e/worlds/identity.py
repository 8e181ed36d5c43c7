"""Identity's part of organisation A's world."""

from __future__ import annotations

from typing import Any

from services.gateway.client import PartnerApi

VALID_BODIES: dict[str, Any] = {
    "revoke_api_key": {"reason": "compromised"},
    "update_member": {"topics": ["leadership"]},
    "accept_charter": "charter",  # the current charter's commitments, filled at call time
    "erase_member": {"confirm": True},
}


def build(org: PartnerApi, ids: dict[str, str]) -> dict[str, str]:
    mentee = org.ready_member("mentee")
    mentor = org.ready_member("mentor", capacity=2)
    return {
        "member_id": mentee,
        "mentee_id": mentee,
        "mentor_id": mentor,
        "key_id": org.get("/v1/organisation").ok()["api_keys"][0]["key_id"],
    }
