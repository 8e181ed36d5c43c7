"""The audit trail: who decided what, when and why, for every case, from its events;
the rationale stays sealed (R8)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts import catalogue, sealed
from services.moderation.domain.audit import ENTRIES, Action, ActorRole, audit_trail, audit_trails
from services.moderation.domain.case import Case
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    CAROL,
    FINGERPRINT,
    MEMBER,
    OTHER_MEMBER,
    REPORTER,
    SECOND_REPORTER,
    Log,
    report,
    sealed_text,
)


def story() -> tuple[Log, str, str]:
    """Case 1 against MEMBER: two reports, a vote, a second vote: excluded.
    Case 1 against OTHER_MEMBER: dismissed by one moderator."""
    log = Log()
    case = Case.open(report("a1"), 1, log.now)
    log.save(case)
    other = Case.open(report("b1", member=OTHER_MEMBER, reporter=SECOND_REPORTER), 1, log.tick())
    log.save(other)
    case.add_report(report("a2", reporter=SECOND_REPORTER), log.tick())
    log.save(case)
    case.confirm(ALICE, "payment_requested", sealed_text("alice saw the invoice"),
                 seen_version=case.version, identity_fingerprint=FINGERPRINT, now=log.tick())
    log.save(case)
    other.dismiss(CAROL, "not_commercial", sealed_text("a free book"),
                  seen_version=other.version, now=log.tick())
    log.save(other)
    case.confirm(BOB, "services_offered", sealed_text("bob concurs"),
                 seen_version=case.version, identity_fingerprint=FINGERPRINT, now=log.tick())
    log.save(case)
    return log, case.id, other.id


def test_the_trail_of_a_confirmed_case_says_who_did_what_when_and_why():
    log, case_id, _ = story()
    trail = audit_trail(log.history(case_id))
    assert [(e.action, e.actor_role, e.actor_id) for e in trail] == [
        (Action.CASE_OPENED, ActorRole.REPORTER, REPORTER),
        (Action.REPORT_JOINED, ActorRole.REPORTER, SECOND_REPORTER),
        (Action.VOTED_TO_CONFIRM, ActorRole.MODERATOR, ALICE),
        (Action.VOTED_TO_CONFIRM, ActorRole.MODERATOR, BOB),
        (Action.CASE_CONFIRMED, ActorRole.MODERATOR, BOB),
        (Action.MEMBER_EXCLUDED, ActorRole.PLATFORM, None),
        (Action.PROFILE_FLAGGED, ActorRole.PLATFORM, None),
    ]
    opened, joined, first_vote, second_vote, confirmed, excluded, flagged = trail
    assert (opened.report_id, opened.member_id) == (report("a1").report_id, MEMBER)
    assert joined.report_id == report("a2").report_id
    assert (first_vote.reason, second_vote.reason) == ("payment_requested", "services_offered")
    assert first_vote.rationale == sealed_text("alice saw the invoice")  # sealed, as stored
    assert (confirmed.reason, confirmed.moderator_ids, confirmed.quorum) == (
        "payment_requested", (ALICE, BOB), 2)
    assert excluded.member_id == flagged.member_id == MEMBER
    assert flagged.reason == "commercial_solicitation"
    # When: as the command saw it, and as the store recorded it; tied to the log.
    assert first_vote.at < second_vote.at == confirmed.at == excluded.at
    assert [e.recorded_at for e in trail] == [e.recorded_at for e in log.history(case_id)]
    assert [e.position for e in trail] == [e.position for e in log.history(case_id)]
    assert [e.event_id for e in trail] == [str(e.event_id) for e in log.history(case_id)]
    assert [e.stream_version for e in trail] == list(range(1, 8))


def test_the_trail_of_a_dismissed_case_names_its_one_moderator_and_reason():
    log, _, other_id = story()
    opened, dismissed = audit_trail(log.history(other_id))
    assert (opened.actor_id, opened.member_id) == (SECOND_REPORTER, OTHER_MEMBER)
    assert (dismissed.action, dismissed.actor_id, dismissed.reason, dismissed.moderator_ids) == (
        Action.CASE_DISMISSED, CAROL, "not_commercial", (CAROL,))
    assert dismissed.rationale == sealed_text("a free book")


def test_every_case_has_its_trail_from_the_whole_log():
    log, case_id, other_id = story()
    trails = audit_trails(log.history(case_id) + log.history(other_id))
    assert set(trails) == {case_id, other_id}
    assert len(trails[case_id]) == 7 and len(trails[other_id]) == 2


def test_no_plaintext_leaves_through_the_trail():
    log, case_id, other_id = story()
    for entry in audit_trail(log.history(case_id)) + audit_trail(log.history(other_id)):
        if entry.rationale is not None:
            assert sealed.is_sealed(entry.rationale)


def test_every_moderation_event_has_an_audit_entry():
    assert set(ENTRIES) == set(catalogue.names("moderation"))


def test_an_unknown_event_or_a_hole_in_the_stream_is_refused_not_skipped():
    log, case_id, _ = story()
    history = log.history(case_id)
    with pytest.raises(ValueError, match="not versions"):
        audit_trail(history[:2] + history[3:])
    with pytest.raises(ValueError, match="no audit entry"):
        audit_trail([*history[:1], replace(history[1], name="SomethingNew")])
    with pytest.raises(ValueError, match="one case"):
        audit_trail([*history, replace(history[0], stream_id="another")])
