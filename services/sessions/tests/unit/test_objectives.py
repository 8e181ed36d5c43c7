"""R4: the mentee's needs, expectations and objectives are hers (she alone
states and revises them; each revision an event, numbered); the mentor comments.
R10: action items of an objective, owned by the mentee, open/done/dropped."""

from __future__ import annotations

import itertools

import pytest

from contracts import catalogue
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.domain import TRANSITIONS
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    last,
    names,
    new_id,
    pair_text,
    refusal,
)

NOW = FORMED + days(1)


def stated(pair, kind="objective"):
    objective = new_id()
    pair.state_objective(objective, pair.mentee_id, kind,
                         pair_text(pair, "goal", by=pair.mentee_id), NOW)
    return objective


def item_of(pair, objective, by=None):
    item = new_id()
    pair.add_action_item(objective, item, by or pair.mentor_id, pair_text(pair, "do", by=by), NOW)
    return item


@pytest.mark.parametrize("kind", ["need", "expectation", "objective"])
def test_r4_the_mentee_states_her_needs_expectations_and_objectives(kind):
    pair = formed_pair()
    objective = stated(pair, kind)
    data = last(pair)
    catalogue.validate("ObjectiveStated", 2, data)
    assert (data["mentee_id"], data["kind"]) == (pair.mentee_id, kind)
    assert pair.objectives[objective].revision == 1


def test_r4_the_mentor_does_not_state_revise_or_achieve_them():
    pair = formed_pair()
    objective = stated(pair)
    for call, args in [
        (pair.state_objective, (new_id(), pair.mentor_id, "objective", pair_text(pair), NOW)),
        (pair.revise_objective, (objective, pair.mentor_id, pair_text(pair), NOW)),
        (pair.achieve_objective, (objective, pair.mentor_id, NOW)),
    ]:
        error = refusal(RuleViolation, call, *args)
        assert (error.rule, error.field) == ("R4", "mentee_id"), call.__name__


def test_r4_each_revision_is_an_event_numbered_from_2():
    pair = formed_pair()
    objective = stated(pair)
    for revision in (2, 3):
        text = pair_text(pair, f"v{revision}", by=pair.mentee_id)
        assert pair.revise_objective(objective, pair.mentee_id, text, NOW) == revision
    revisions = [e for e in pair.pending if e.name == "ObjectiveRevised"]
    assert [e.data["revision"] for e in revisions] == [2, 3]
    assert revisions[0].data["text"] != revisions[1].data["text"]  # history, not overwrite
    for event in revisions:
        catalogue.validate("ObjectiveRevised", 1, event.data)


def test_r4_the_mentor_comments_without_changing_the_mentees_words():
    pair = formed_pair()
    objective = stated(pair)
    comment = new_id()
    pair.comment_objective(objective, comment, pair.mentor_id, pair_text(pair, "SQL"), NOW)
    data = last(pair)
    catalogue.validate("ObjectiveCommented", 1, data)
    assert data["author_id"] == pair.mentor_id
    assert pair.objectives[objective].revision == 1
    assert pair.objectives[objective].comment_ids == [comment]
    assert refusal(Conflict, pair.comment_objective, objective, comment, pair.mentee_id,
                   pair_text(pair), NOW).field == "comment_id"


def test_r4_only_an_objective_is_achieved_once_and_then_no_longer_revised():
    pair = formed_pair()
    need, objective = stated(pair, "need"), stated(pair)
    assert refusal(Invalid, pair.achieve_objective, need, pair.mentee_id, NOW).field == (
        "objective_id")
    pair.achieve_objective(objective, pair.mentee_id, NOW)
    catalogue.validate("ObjectiveAchieved", 1, last(pair))
    assert pair.objectives[objective].achieved
    assert refusal(Conflict, pair.achieve_objective, objective, pair.mentee_id,
                   NOW).field == "objective_id"
    assert refusal(Conflict, pair.revise_objective, objective, pair.mentee_id,
                   pair_text(pair), NOW).field == "objective_id"
    assert refusal(Conflict, pair.add_action_item, objective, new_id(), pair.mentee_id,
                   pair_text(pair), NOW).field == "objective_id"


def test_unknown_or_duplicate_objectives():
    pair = formed_pair()
    objective = stated(pair)
    assert refusal(NotFound, pair.revise_objective, new_id(), pair.mentee_id,
                   pair_text(pair), NOW).field == "objective_id"
    assert refusal(Conflict, pair.state_objective, objective, pair.mentee_id, "need",
                   pair_text(pair), NOW).field == "objective_id"
    assert refusal(Invalid, pair.state_objective, new_id(), pair.mentee_id, "wish",
                   pair_text(pair), NOW).field == "kind"


@pytest.mark.parametrize("by", ["mentor", "mentee"])
def test_r10_either_member_writes_an_item_down_the_mentee_owns_it(by):
    pair = formed_pair()
    objective = stated(pair)
    author = pair.mentor_id if by == "mentor" else pair.mentee_id
    item = item_of(pair, objective, by=author)
    data = last(pair)
    catalogue.validate("ActionItemAdded", 1, data)
    assert (data["owner_id"], data["added_by"]) == (pair.mentee_id, author)
    assert (pair.action_items[item].state, pair.action_items[item].objective_id) == (
        "open", objective)


def test_r10_an_item_belongs_to_an_objective_of_the_pair():
    pair = formed_pair()
    assert refusal(NotFound, pair.add_action_item, new_id(), new_id(), pair.mentee_id,
                   pair_text(pair), NOW).field == "objective_id"
    objective = stated(pair)
    item = item_of(pair, objective)
    assert refusal(Conflict, pair.add_action_item, objective, item, pair.mentee_id,
                   pair_text(pair), NOW).field == "action_item_id"
    pair.add_action_item(objective, new_id(), pair.mentee_id,
                         pair_text(pair, by=pair.mentee_id), NOW, due_on=NOW.date() + days(30))
    assert last(pair)["due_on"] == (NOW.date() + days(30)).isoformat()


STATES = ("open", "done", "dropped")


@pytest.mark.parametrize(("previous", "new"), list(itertools.product(STATES, STATES)))
def test_r10_action_item_transitions(previous, new):
    pair = formed_pair()
    item = item_of(pair, stated(pair))
    if previous != "open":
        pair.change_action_item_state(item, pair.mentee_id, previous, NOW)
    allowed = {("open", "done"), ("open", "dropped"), ("done", "open"), ("dropped", "open")}
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == allowed
    if (previous, new) in allowed:
        pair.change_action_item_state(item, pair.mentee_id, new, NOW)
        data = last(pair)
        catalogue.validate("ActionItemStateChanged", 1, data)
        assert (data["previous_state"], data["state"]) == (previous, new)
        assert pair.action_items[item].state == new
    else:
        error = refusal(RuleViolation, pair.change_action_item_state, item, pair.mentee_id,
                        new, NOW)
        assert (error.rule, error.field) == ("R10", "state")
        assert pair.action_items[item].state == previous


def test_r10_only_the_owner_moves_her_item():
    pair = formed_pair()
    item = item_of(pair, stated(pair))
    error = refusal(RuleViolation, pair.change_action_item_state, item, pair.mentor_id,
                    "done", NOW)
    assert (error.rule, error.field) == ("R10", "changed_by")
    assert refusal(Invalid, pair.change_action_item_state, item, pair.mentee_id, "closed",
                   NOW).field == "state"
    assert refusal(NotFound, pair.change_action_item_state, new_id(), pair.mentee_id,
                   "done", NOW).field == "action_item_id"


def test_items_of_an_achieved_objective_may_still_be_closed_out():
    pair = formed_pair()
    objective = stated(pair)
    item = item_of(pair, objective)
    pair.achieve_objective(objective, pair.mentee_id, NOW)
    pair.change_action_item_state(item, pair.mentee_id, "done", NOW)
    assert names(pair)[-1] == "ActionItemStateChanged"
