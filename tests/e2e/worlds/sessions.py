"""Sessions' part of organisation A's world: the pair matching formed (the matching
world's), with a held session, an objective and an action item, and a valid body
for each of sessions' routes with a body (valid by schema: a refusal can only
come from the id)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi

_TODAY = date.today().isoformat()
_SOON = (datetime.now(UTC) + timedelta(days=7)).isoformat()
_EARLIER = (datetime.now(UTC) - timedelta(hours=3)).isoformat()

VALID_BODIES: dict[str, Any] = {
    "record_meeting_plan": {"interval_days": 30, "preferred_modality": "remote",
                            "first_meeting_on": _TODAY, "next_dates": []},
    "schedule_session": {"starts_at": _SOON, "planned_minutes": 90, "modality": "remote"},
    "record_held_session": {"started_at": _EARLIER, "duration_minutes": 90,
                            "modality": "in_person"},
    "record_session_held": {"started_at": _EARLIER, "duration_minutes": 60,
                            "modality": "remote"},
    "cancel_session": {"reason": "rescheduled"},
    "state_objective": {"kind": "need", "text": "A need of mine"},
    "revise_objective": {"text": "Said better"},
    "comment_objective": {"text": "A comment"},
    "add_action_item": {"text": "Something to do", "due_on": None},
    "change_action_item_state": {"state": "done"},
    "add_note": {"text": "A note", "session_id": None},
    "give_feedback": {"text": "Thank you"},
    "report_solicitation": {"details": "Offered to sell me a course", "session_ids": []},
}


def build(org: PartnerApi, ids: dict[str, str]) -> dict[str, str]:
    pair_id, mentee = ids["pair_id"], ids["pair_mentee"]
    as_mentee = org.as_member(mentee)
    wait_until(lambda: as_mentee.get(f"/v1/pairs/{pair_id}").status == 200, timeout=30,
               what="the sessions service to open the pair matching formed")
    session = as_mentee.post(f"/v1/pairs/{pair_id}/held-sessions", {
        "started_at": datetime.now(UTC).isoformat(),
        "duration_minutes": 90, "modality": "remote"}).ok()["id"]
    objective = as_mentee.post(f"/v1/pairs/{pair_id}/objectives", {
        "kind": "objective", "text": "Find my first job in tech"}).ok()["id"]
    item = as_mentee.post(f"/v1/pairs/{pair_id}/objectives/{objective}/action-items", {
        "text": "Rewrite my CV"}).ok()["id"]
    assert all(uuid.UUID(v) for v in (pair_id, session, objective, item))
    return {"pair_id": pair_id, "session_id": session, "objective_id": objective,
            "action_item_id": item}
