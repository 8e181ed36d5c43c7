"""R4, R10: the mentee's needs, expectations and objectives, and their action items.

R4: "the mentee defines her own needs, expectations and objectives, shares them
at the first meeting, and they may evolve". She alone states, revises and
marks them achieved; each revision is an event, numbered from 2 (the
statement is revision 1), so the history is kept, never overwritten. The
mentor may comment (so may the mentee); nobody rewrites another's words.

R10: "the mentor helps the mentee set up action plans". An action item belongs
to one of the pair's objectives and is owned by the mentee; either member may
write it down, only the mentee moves it between open, done and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from contracts.events.sessions import OBJECTIVE_KINDS
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.domain.base import PairBase
from services.sessions.domain.checks import aware, calendar_day, canonical_id, day_of, iso
from services.sessions.domain.confidentiality import sealed_for_pair

#: R10: from each state, where an item may go. Done and dropped are reopened
#: before changing their mind (a plan evolves, R4), never swapped directly.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"done", "dropped"}),
    "done": frozenset({"open"}),
    "dropped": frozenset({"open"}),
}


def check_transition(previous: str, state: object) -> str:
    """R10: a valid move between open, done and dropped."""
    if not isinstance(state, str) or state not in TRANSITIONS:
        raise Invalid(f"state must be one of {', '.join(TRANSITIONS)}.", field="state")
    if state not in TRANSITIONS[previous]:
        allowed = ", ".join(sorted(TRANSITIONS[previous]))
        raise RuleViolation("R10", f"An action item that is {previous} can become {allowed}, "
                            f"not {state} (R10).", field="state")
    return state


@dataclass
class Objective:
    """A need, expectation or objective of the mentee (text stays sealed elsewhere)."""

    objective_id: str
    kind: str
    revision: int = 1
    achieved: bool = False
    comment_ids: list[str] = field(default_factory=list)


@dataclass
class ActionItem:
    action_item_id: str
    objective_id: str
    owner_id: str
    added_by: str
    state: str = "open"
    due_on: date | None = None


class ObjectivesMixin(PairBase):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.objectives: dict[str, Objective] = {}
        self.action_items: dict[str, ActionItem] = {}

    def objective(self, objective_id: object) -> Objective:
        found = self.objectives.get(canonical_id(objective_id, "objective_id"))
        if found is None:
            raise NotFound("No such objective in this pair.", field="objective_id")
        return found

    def _mentee_acts(self, by: str, what: str) -> str:
        return self._mentee(by, "R4", "mentee_id", what)

    # -- the mentee's own words (R4) ---------------------------------------------------

    def state_objective(self, objective_id: str, by: str, kind: str, text: str,
                        now: datetime) -> None:
        """R4: the mentee states a need, an expectation or an objective
        (``text`` sealed under her key for the pair, R8)."""
        mentee = self._mentee_acts(by, "states her needs, expectations and objectives")
        objective_id = canonical_id(objective_id, "objective_id")
        if objective_id in self.objectives:
            raise Conflict("An objective with this id already exists.", field="objective_id")
        if kind not in OBJECTIVE_KINDS:
            raise Invalid(f"kind must be one of {', '.join(OBJECTIVE_KINDS)}.", field="kind")
        self.record("ObjectiveStated", {
            "pair_id": self.id, "objective_id": objective_id, "mentee_id": mentee,
            "kind": kind, "text": sealed_for_pair(text, self.id, mentee),
            "stated_at": iso(aware(now, "now")),
        })

    def revise_objective(self, objective_id: str, by: str, text: str, now: datetime) -> int:
        """R4: only the mentee revises; returns the new revision number (2, 3...)."""
        mentee = self._mentee_acts(by, "revises her objectives; the mentor may comment")
        objective = self.objective(objective_id)
        if objective.achieved:
            raise Conflict("This objective is achieved: state a new one.",
                           field="objective_id")
        self.record("ObjectiveRevised", {
            "pair_id": self.id, "objective_id": objective.objective_id, "mentee_id": mentee,
            "revision": objective.revision + 1, "text": sealed_for_pair(text, self.id, mentee),
            "revised_at": iso(aware(now, "now")),
        })
        return objective.revision

    def achieve_objective(self, objective_id: str, by: str, now: datetime) -> None:
        """R4: the mentee says she reached an objective (kind ``objective``)."""
        mentee = self._mentee_acts(by, "says when her objective is achieved")
        objective = self.objective(objective_id)
        if objective.kind != "objective":
            raise Invalid(f"A {objective.kind} is not achieved; an objective is.",
                          field="objective_id")
        if objective.achieved:
            raise Conflict("This objective is already achieved.", field="objective_id")
        self.record("ObjectiveAchieved", {
            "pair_id": self.id, "objective_id": objective.objective_id, "mentee_id": mentee,
            "achieved_at": iso(aware(now, "now")),
        })

    def comment_objective(self, objective_id: str, comment_id: str, by: str, text: str,
                          now: datetime) -> None:
        """R4: the mentor may comment (and the mentee too): a comment beside the
        objective, never a change of its words."""
        author = self._acting(by)
        objective = self.objective(objective_id)
        comment_id = canonical_id(comment_id, "comment_id")
        if any(comment_id in o.comment_ids for o in self.objectives.values()):
            raise Conflict("A comment with this id already exists.", field="comment_id")
        self.record("ObjectiveCommented", {
            "pair_id": self.id, "objective_id": objective.objective_id,
            "comment_id": comment_id, "author_id": author,
            "text": sealed_for_pair(text, self.id, author), "commented_at": iso(aware(now, "now")),
        })

    # -- action items (R10) -------------------------------------------------------------

    def add_action_item(self, objective_id: str, action_item_id: str, by: str, text: str,
                        now: datetime, due_on: date | None = None) -> None:
        """R10: an item of one of the pair's objectives, owned by the mentee;
        either member writes it down (the mentor helps set up the plan)."""
        member = self._acting(by)
        objective = self.objective(objective_id)
        action_item_id = canonical_id(action_item_id, "action_item_id")
        if action_item_id in self.action_items:
            raise Conflict("An action item with this id already exists.",
                           field="action_item_id")
        if objective.achieved:
            raise Conflict("This objective is achieved: no new action items.",
                           field="objective_id")
        due = None if due_on is None else calendar_day(due_on, "due_on")
        self.record("ActionItemAdded", {
            "pair_id": self.id, "objective_id": objective.objective_id,
            "action_item_id": action_item_id, "owner_id": self.mentee_id, "added_by": member,
            "text": sealed_for_pair(text, self.id, member),
            "due_on": None if due is None else due.isoformat(),
            "added_at": iso(aware(now, "now")),
        })

    def change_action_item_state(self, action_item_id: str, by: str, state: str,
                                 now: datetime) -> None:
        """R10: the owner (the mentee) moves her item along ``TRANSITIONS``."""
        mentee = self._mentee(by, "R10", "changed_by", "moves her action items (she owns them)")
        item = self.action_items.get(canonical_id(action_item_id, "action_item_id"))
        if item is None:
            raise NotFound("No such action item in this pair.", field="action_item_id")
        new_state = check_transition(item.state, state)
        self.record("ActionItemStateChanged", {
            "pair_id": self.id, "objective_id": item.objective_id,
            "action_item_id": item.action_item_id, "previous_state": item.state,
            "state": new_state, "changed_by": mentee, "changed_at": iso(aware(now, "now")),
        })

    # -- apply -------------------------------------------------------------------------

    def when_objective_stated(self, data: dict[str, Any]) -> None:
        self.objectives[data["objective_id"]] = Objective(data["objective_id"], data["kind"])

    def when_objective_revised(self, data: dict[str, Any]) -> None:
        self.objectives[data["objective_id"]].revision = data["revision"]

    def when_objective_achieved(self, data: dict[str, Any]) -> None:
        self.objectives[data["objective_id"]].achieved = True

    def when_objective_commented(self, data: dict[str, Any]) -> None:
        self.objectives[data["objective_id"]].comment_ids.append(data["comment_id"])

    def when_action_item_added(self, data: dict[str, Any]) -> None:
        self.action_items[data["action_item_id"]] = ActionItem(
            action_item_id=data["action_item_id"], objective_id=data["objective_id"],
            owner_id=data["owner_id"], added_by=data["added_by"],
            due_on=None if data.get("due_on") is None else day_of(data["due_on"]),
        )

    def when_action_item_state_changed(self, data: dict[str, Any]) -> None:
        self.action_items[data["action_item_id"]].state = data["state"]
