"""R8: notes of the pair, sealed for the pair; R11: feedback after a held
session, from one member to the other. Texts are sealed under the right key."""

from __future__ import annotations

import pytest

from contracts import catalogue
from services.servicekit import crypto
from services.servicekit.errors import Conflict, NotFound, RuleViolation
from services.sessions.domain.confidentiality import (
    MODERATORS_KEY_PREFIX,
    author_key_id,
)
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    held_session,
    last,
    moderators_text,
    new_id,
    pair_text,
    refusal,
    sealed_text,
)

NOW = FORMED + days(2)


@pytest.mark.parametrize("author", ["mentor", "mentee"])
def test_r8_either_member_adds_a_note_sealed_for_the_pair(author):
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    by = pair.mentor_id if author == "mentor" else pair.mentee_id
    pair.add_note(new_id(), by, pair_text(pair, "note", by=by), NOW, session_id=session)
    data = last(pair)
    catalogue.validate("NoteAdded", 1, data)
    assert (data["author_id"], data["session_id"]) == (by, session)
    pair.add_note(new_id(), by, pair_text(pair, "general", by=by), NOW)
    assert last(pair)["session_id"] is None


def test_a_note_names_a_session_of_the_pair_and_its_own_id():
    pair = formed_pair()
    assert refusal(NotFound, pair.add_note, new_id(), pair.mentor_id, pair_text(pair), NOW,
                   session_id=new_id()).field == "session_id"
    note = new_id()
    pair.add_note(note, pair.mentor_id, pair_text(pair), NOW)
    assert refusal(Conflict, pair.add_note, note, pair.mentee_id,
                   pair_text(pair, by=pair.mentee_id), NOW).field == "note_id"


@pytest.mark.parametrize("text", [
    "Talked about her salary negotiation",  # plaintext
    sealed_text("pair-someone-else"),  # another pair's key: the wrong readers
    moderators_text(),  # the moderators' key: the pair could not read it
    sealed_text("member-x"),
    None,
])
def test_r8_pair_texts_are_sealed_under_this_pairs_key_only(text):
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    objective = new_id()
    for call, args in [
        (pair.add_note, (new_id(), pair.mentor_id, text, NOW)),
        (pair.give_feedback, (new_id(), session, pair.mentor_id, text, NOW)),
        (pair.state_objective, (objective, pair.mentee_id, "objective", text, NOW)),
    ]:
        error = refusal(RuleViolation, call, *args)
        assert (error.rule, error.field) == ("R8", "text"), call.__name__


def test_r8_the_domain_key_ids_are_the_keyrings():
    pair_id = new_id()
    member_id = new_id()
    assert author_key_id(pair_id, member_id) == crypto.author_key_id(pair_id, member_id)
    assert crypto.MODERATORS_KEY_ID.startswith(MODERATORS_KEY_PREFIX)


@pytest.mark.parametrize("author", ["mentor", "mentee"])
def test_r11_after_a_held_session_each_member_gives_feedback_to_the_other(author):
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    by = pair.mentor_id if author == "mentor" else pair.mentee_id
    pair.give_feedback(new_id(), session, by, pair_text(pair, "thanks", by=by), NOW)
    data = last(pair)
    catalogue.validate("FeedbackGiven", 1, data)
    assert (data["from_member_id"], data["to_member_id"]) == (by, pair.other(by))


def test_r11_feedback_follows_a_held_session_once_per_member():
    pair = formed_pair()
    scheduled = new_id()
    pair.schedule_session(scheduled, pair.mentor_id, NOW + days(3), 60, "remote", NOW)
    error = refusal(RuleViolation, pair.give_feedback, new_id(), scheduled, pair.mentee_id,
                    pair_text(pair), NOW)
    assert (error.rule, error.field) == ("R11", "session_id")
    pair.cancel_session(scheduled, pair.mentee_id, "other", NOW)
    assert refusal(RuleViolation, pair.give_feedback, new_id(), scheduled, pair.mentee_id,
                   pair_text(pair), NOW).rule == "R11"
    assert refusal(NotFound, pair.give_feedback, new_id(), new_id(), pair.mentee_id,
                   pair_text(pair), NOW).field == "session_id"

    held = held_session(pair, FORMED + days(1))
    pair.give_feedback(new_id(), held, pair.mentee_id, pair_text(pair, by=pair.mentee_id),
                       NOW)
    pair.give_feedback(new_id(), held, pair.mentor_id, pair_text(pair), NOW)  # the other's
    assert refusal(Conflict, pair.give_feedback, new_id(), held, pair.mentee_id,
                   pair_text(pair), NOW).field == "session_id"
    assert len(pair.feedback) == 2
