"""What sessions' queries return: read-model rows shaped for ``contracts.api.sessions``.

Two kinds of view, on purpose apart:

- ``pair`` and ``pair_summary``: states and counts, which a pair's organisations
  see as well as its members (R7: the cadence state without content);
- ``notes``, ``feedback``, ``objectives``: the pair's texts, opened here and only
  ever called for a member of the pair acting as herself (R8). A text whose key
  is gone reads as null.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg

from services.servicekit.crypto import Keyring


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


# -- states and counts (the pair and its organisations) -----------------------------------


def cadence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "interval_days": row["interval_days"],
        "last_session_at": _iso(row["last_session_at"]),
        "due_on": row["due_on"].isoformat(),
        "overdue": row["overdue"],
        "overdue_since": _iso(row["overdue_since"]),
    }


def pair_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "pair_id": str(row["pair_id"]),
        "status": row["status"],
        "mentor_id": str(row["mentor_id"]),
        "mentee_id": str(row["mentee_id"]),
        "mentor_organisation_id": str(row["mentor_organisation_id"]),
        "mentee_organisation_id": str(row["mentee_organisation_id"]),
        "formed_at": row["formed_at"].isoformat(),
        "closed_at": _iso(row["closed_at"]),
        "close_cause": row["close_cause"],
        "cadence": cadence(row),
        "version": row["version"],
    }


def meeting_plan(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "revision": row["revision"],
        "interval_days": row["interval_days"],
        "preferred_modality": row["preferred_modality"],
        "first_meeting_on": row["first_meeting_on"].isoformat(),
        "next_dates": [d.isoformat() for d in row["next_dates"]],
        "recorded_by": str(row["recorded_by"]),
        "recorded_at": row["recorded_at"].isoformat(),
    }


def session(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "session_id": str(row["session_id"]),
        "state": row["state"],
        "modality": row["modality"],
        "starts_at": _iso(row["starts_at"]),
        "planned_minutes": row["planned_minutes"],
        "scheduled_by": _id(row["scheduled_by"]),
        "started_at": _iso(row["started_at"]),
        "duration_minutes": row["duration_minutes"],
        "held_by": _id(row["held_by"]),
        "confirmed_by": _id(row["confirmed_by"]),
        "confirmed_at": _iso(row["confirmed_at"]),
        "cancelled_by": _id(row["cancelled_by"]),
        "cancel_reason": row["cancel_reason"],
    }


def pair(row: dict[str, Any], plans: list[dict[str, Any]], sessions: list[dict[str, Any]],
         counts: dict[str, int]) -> dict[str, Any]:
    history = [meeting_plan(p) for p in plans]
    return {
        **pair_summary(row),
        "plan": history[-1] if history else None,
        "plan_history": history,
        "sessions": [session(s) for s in sessions],
        "counts": counts,
    }


# -- the pair's texts (R8: a member of the pair, acting as herself) -------------------------


class Texts:
    """Opens the pair's sealed texts on one connection."""

    def __init__(self, conn: psycopg.Connection, keyring: Keyring) -> None:
        self.conn = conn
        self.keyring = keyring

    def open(self, sealed: str | None) -> str | None:
        return self.keyring.open_or_none(self.conn, sealed)

    def notes(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"items": [{
            "note_id": str(r["note_id"]),
            "session_id": _id(r["session_id"]),
            "author_id": str(r["author_id"]),
            "text": self.open(r["text"]),
            "added_at": r["added_at"].isoformat(),
        } for r in rows]}

    def feedback(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"items": [{
            "feedback_id": str(r["feedback_id"]),
            "session_id": str(r["session_id"]),
            "from_member_id": str(r["from_member_id"]),
            "to_member_id": str(r["to_member_id"]),
            "text": self.open(r["text"]),
            "given_at": r["given_at"].isoformat(),
        } for r in rows]}

    def objectives(self, objectives: list[dict[str, Any]], revisions: list[dict[str, Any]],
                   comments: list[dict[str, Any]],
                   items: list[dict[str, Any]]) -> dict[str, Any]:
        def of(rows: list[dict[str, Any]], objective_id: Any) -> list[dict[str, Any]]:
            return [r for r in rows if r["objective_id"] == objective_id]

        listed = []
        for o in objectives:
            wordings = [{"revision": r["revision"], "text": self.open(r["text"]),
                         "written_at": r["written_at"].isoformat()}
                        for r in of(revisions, o["objective_id"])]
            listed.append({
                "objective_id": str(o["objective_id"]),
                "kind": o["kind"],
                "revision": o["revision"],
                "text": wordings[-1]["text"] if wordings else None,
                "achieved": o["achieved_at"] is not None,
                "stated_at": o["stated_at"].isoformat(),
                "achieved_at": _iso(o["achieved_at"]),
                "revisions": wordings,
                "comments": [{"comment_id": str(c["comment_id"]),
                              "author_id": str(c["author_id"]),
                              "text": self.open(c["text"]),
                              "commented_at": c["commented_at"].isoformat()}
                             for c in of(comments, o["objective_id"])],
                "action_items": [{"action_item_id": str(i["action_item_id"]),
                                  "owner_id": str(i["owner_id"]),
                                  "added_by": str(i["added_by"]),
                                  "text": self.open(i["text"]),
                                  "state": i["state"],
                                  "due_on": _iso(i["due_on"]),
                                  "added_at": i["added_at"].isoformat()}
                                 for i in of(items, o["objective_id"])],
            })
        return {"items": listed}
