"""Sessions' part of organisation A's world: a pair of A's mentor and mentee with a
held session, an objective and an action item, and a valid body for each of
sessions' routes with a body (valid by schema: a refusal can only come from the id)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.gateway.client import PartnerApi
from tests.e2e.pairs import form_pair

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
    mentor, mentee = ids["mentor_id"], ids["mentee_id"]
    pair_id = form_pair(org, mentor, org, mentee, formed_ago=timedelta(days=2))
    as_mentee = org.as_member(mentee)
    session = as_mentee.post(f"/v1/pairs/{pair_id}/held-sessions", {
        "started_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
        "duration_minutes": 90, "modality": "remote"}).ok()["id"]
    objective = as_mentee.post(f"/v1/pairs/{pair_id}/objectives", {
        "kind": "objective", "text": "Find my first job in tech"}).ok()["id"]
    item = as_mentee.post(f"/v1/pairs/{pair_id}/objectives/{objective}/action-items", {
        "text": "Rewrite my CV"}).ok()["id"]
    assert all(uuid.UUID(v) for v in (pair_id, session, objective, item))
    return {"pair_id": pair_id, "session_id": session, "objective_id": objective,
            "action_item_id": item}
