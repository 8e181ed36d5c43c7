"""A refused request is an answer, not a fault: one access line in the log, never a
traceback (ops read these logs; a 4xx is the system working)."""

from __future__ import annotations

import uuid
from pathlib import Path

from services.gateway.client import PartnerApi
from tests.e2e.moderation import enrol

LOGS = Path(__file__).resolve().parents[2] / ".stack" / "logs"


def _appended(name: str, offset: int) -> str:
    with open(LOGS / f"{name}.log", "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def _size(name: str) -> int:
    return (LOGS / f"{name}.log").stat().st_size


def test_refusals_at_both_apis_leave_no_traceback(org: PartnerApi) -> None:
    moderator = enrol()
    before = {name: _size(name) for name in ("gateway", "moderation")}

    refusals = [
        org.get(f"/v1/members/{uuid.uuid4()}"),                        # 404 from identity
        org.post("/v1/members", {"role": "sorceress"}),                 # 422 at the edge
        moderator.get(f"/v1/cases/{uuid.uuid4()}"),                     # 404 from moderation
        moderator.post(f"/v1/cases/{uuid.uuid4()}/confirmations", {}),  # 4xx from moderation
    ]
    assert all(400 <= answer.status < 500 for answer in refusals), \
        [answer.status for answer in refusals]

    for name, offset in before.items():
        written = _appended(name, offset)
        ids = [a.headers["X-Request-Id"] for a in refusals]
        assert any(i in written for i in ids), f"{name}: no access line for the refusals"
        assert "Traceback" not in written, f"{name}.log:\n{written}"
        assert "error handling worker" not in written, f"{name}.log:\n{written}"
