"""The member aggregate and the charter rules (R2, R3), pure: no server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts import catalogue
from services.identity.domain.charter import CHARTER_ID, SEED_COMMITMENTS, Charter
from services.identity.domain.member import Member, refuse_excluded
from services.servicekit.errors import Conflict, Invalid, RuleViolation

NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)
SEALED = "enc:v1:member-x:" + "A" * 40


def published() -> Charter:
    charter = Charter(CHARTER_ID)
    charter.publish("Charte v1", SEED_COMMITMENTS["mentor"], SEED_COMMITMENTS["mentee"], NOW)
    return charter


def member(role: str = "mentee", **profile: object) -> Member:
    base = {"languages": ["fr"], "topics": ["software"], "preferred_modality": "remote",
            "region": None, "capacity": 2 if role == "mentor" else None}
    base.update(profile)
    return Member.register(str(uuid.uuid4()), str(uuid.uuid4()), role,
                           "fp:v1:platform-1:" + "0" * 64,
                           {"display_name": SEALED, "email": SEALED}, base, NOW)


def test_registration_records_a_valid_member_registered():
    mentor = member("mentor")
    (event,) = mentor.pending
    assert event.name == "MemberRegistered"
    assert catalogue.validate("MemberRegistered", catalogue.latest_version("MemberRegistered"),
                              event.data)
    assert (mentor.role, mentor.capacity, mentor.partner_org) == (
        "mentor", 2, event.data["organisation_id"])


def test_acceptance_needs_the_current_version_and_every_commitment():
    charter = published()
    mentee = member()
    with pytest.raises(RuleViolation) as partial:
        mentee.accept_charter(charter.current, 1, SEED_COMMITMENTS["mentee"][:-1], NOW)
    assert partial.value.rule == "R3" and partial.value.field == "commitments"
    assert "mentee.no_solicitation" in partial.value.detail
    with pytest.raises(RuleViolation, match="another role"):
        mentee.accept_charter(charter.current, 1, SEED_COMMITMENTS["mentor"], NOW)
    with pytest.raises(RuleViolation) as stale:
        mentee.accept_charter(charter.current, 2, SEED_COMMITMENTS["mentee"], NOW)
    assert stale.value.field == "charter_version"

    mentee.accept_charter(charter.current, 1, list(reversed(SEED_COMMITMENTS["mentee"])), NOW)
    assert mentee.charter_up_to_date(charter.current)
    with pytest.raises(Conflict):
        mentee.accept_charter(charter.current, 1, SEED_COMMITMENTS["mentee"], NOW)


def test_a_new_charter_version_makes_the_acceptance_stale():
    charter = published()
    mentee = member()
    mentee.accept_charter(charter.current, 1, SEED_COMMITMENTS["mentee"], NOW)
    charter.publish("Charte v2", SEED_COMMITMENTS["mentor"],
                    [*SEED_COMMITMENTS["mentee"], "mentee.punctuality"], NOW)
    assert charter.current.version == 2
    assert not mentee.charter_up_to_date(charter.current)
    with pytest.raises(RuleViolation, match=r"missing: mentee\.punctuality"):
        mentee.accept_charter(charter.current, 2, SEED_COMMITMENTS["mentee"], NOW)


def test_publishing_the_same_version_twice_is_a_conflict():
    charter = published()
    with pytest.raises(Conflict):
        charter.publish("Charte v1", SEED_COMMITMENTS["mentor"], SEED_COMMITMENTS["mentee"], NOW)
    with pytest.raises(Invalid):
        charter.publish("v2", ["mentor.a", "mentor.a"], ["mentee.b"], NOW)


@pytest.mark.parametrize("changes, field", [
    ({"capacity": 3}, "capacity"),            # a mentee has no capacity
    ({"expectations": SEALED, "capacity": None}, None),
    ({"preferred_modality": "in_person"}, "region"),
    ({"colour": "blue"}, "colour"),
])
def test_profile_changes_keep_the_profile_coherent(changes, field):
    mentee = member()
    if field is None:
        mentee.update_profile(changes, NOW)
        assert mentee.pending[-1].name == "MemberProfileUpdated"
        return
    with pytest.raises(Invalid) as refused:
        mentee.update_profile(changes, NOW)
    assert refused.value.field == field


def test_a_mentor_keeps_a_capacity_and_has_no_expectations():
    mentor = member("mentor")
    with pytest.raises(Invalid, match="capacity"):
        mentor.update_profile({"capacity": None}, NOW)
    with pytest.raises(Invalid, match="R4"):
        mentor.update_profile({"expectations": SEALED}, NOW)


def test_an_erased_member_can_no_longer_change():
    mentee = member()
    key_id = mentee.erase("member", NOW)
    assert key_id == f"member-{mentee.id}"
    with pytest.raises(Conflict):
        mentee.update_profile({"topics": ["x"]}, NOW)
    with pytest.raises(Conflict):
        mentee.erase("organisation", NOW)


def test_replay_gives_the_state_the_events_say():
    from services.eventcore.events import RecordedEvent

    charter = published()
    mentee = member()
    mentee.accept_charter(charter.current, 1, SEED_COMMITMENTS["mentee"], NOW)
    history = [RecordedEvent(position=i, stream_id=mentee.id, stream_version=i,
                             event_id=uuid.uuid4(), name=e.name, version=1, data=dict(e.data),
                             partner_org=mentee.partner_org, recorded_at=NOW)
               for i, e in enumerate(mentee.collect(), start=1)]
    again = Member.replay(mentee.id, history)
    assert (again.version, again.accepted_version, again.role, again.partner_org) == (
        2, 1, "mentee", mentee.partner_org)


def test_an_excluded_identity_is_refused_naming_r2():
    refuse_excluded("fp", excluded=False)
    with pytest.raises(RuleViolation) as refused:
        refuse_excluded("fp", excluded=True)
    assert refused.value.rule == "R2" and refused.value.field == "email"
