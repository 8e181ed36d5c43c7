"""Who may be matched (R2, R3), as a rule on one candidate and as the pool folds
identity's and moderation's events."""

from __future__ import annotations

import pytest

from contracts import catalogue, charter, examples
from services.matching.domain.eligibility import assert_eligible, eligibility
from services.matching.domain.pool import Pool
from services.matching.tests.unit.factories import candidate, fingerprint, uid
from services.servicekit.errors import NotFound, RuleViolation

# -- the rule --------------------------------------------------------------------------------


def test_a_member_who_accepted_the_current_charter_is_eligible():
    assert eligibility(candidate("ada", "mentee", accepted_charter=2), 2).eligible


@pytest.mark.parametrize(("changes", "current", "reason", "rule"), [
    ({"accepted_charter": None}, 1, "charter_not_accepted", "R3"),
    ({"accepted_charter": 1}, 2, "charter_stale", "R3"),
    ({"accepted_charter": 1}, None, "no_charter_published", "R3"),
    ({"excluded": True}, 1, "excluded", "R2"),
])
def test_a_member_who_breaks_a_rule_is_not_eligible(changes, current, reason, rule):
    member = candidate("ada", "mentee", **changes)
    assert eligibility(member, current).reasons == (reason,)
    with pytest.raises(RuleViolation) as caught:
        assert_eligible(member, current, field="mentee_id")
    assert (caught.value.rule, caught.value.field) == (rule, "mentee_id")


def test_an_erased_member_is_not_found():
    member = candidate("ada", "mentee").as_erased()
    assert eligibility(member, 1).reasons == ("erased",)
    with pytest.raises(NotFound):
        assert_eligible(member, 1)


def test_an_acceptance_of_a_version_not_yet_seen_counts():
    # CharterAccepted v2 may be read before CharterPublished v2 (different keys).
    assert eligibility(candidate("ada", "mentor", accepted_charter=2), 1).eligible


def test_the_most_serious_reason_comes_first():
    member = candidate("ada", "mentee", accepted_charter=None, excluded=True)
    assert eligibility(member, 1).reasons == ("excluded", "charter_not_accepted")
    with pytest.raises(RuleViolation) as caught:
        assert_eligible(member, 1)
    assert caught.value.rule == "R2"


def test_an_acceptance_for_the_other_role_is_not_hers():
    member = candidate("ada", "mentee", accepted_charter=None)
    assert member.with_charter("mentor", 1).accepted_charter is None
    assert member.with_charter("mentee", 1).accepted_charter == 1
    assert member.with_charter("mentee", 3).with_charter("mentee", 2).accepted_charter == 3


# -- the pool, from events ----------------------------------------------------------------------


def event(name: str, version: int, **changes) -> tuple[str, dict]:
    """An event's data as a consumer gets it: valid, upcast to the latest version."""
    data = examples.example(name, version) | changes
    catalogue.validate(name, version, data)
    _, data = catalogue.upcast(name, version, data)
    return name, data


ADA, BEA = uid("ada"), uid("bea")
ADA_FP, BEA_FP = fingerprint("ada"), fingerprint("bea")
ORG = examples.ORG


def registered(member_id: str, role: str, person: str, **changes) -> tuple[str, dict]:
    capacity = 2 if role == "mentor" else None
    return event("MemberRegistered", 2, member_id=member_id, role=role,
                 identity_fingerprint=person, capacity=capacity, **changes)


def accepted(member_id: str, role: str, version: int) -> tuple[str, dict]:
    return event("CharterAccepted", 1, member_id=member_id, role=role,
                 charter_version=version, commitments=list(charter.COMMITMENTS[role]))


def published(version: int) -> tuple[str, dict]:
    return event("CharterPublished", 1, charter_version=version)


def fold(pool: Pool, *events: tuple[str, dict]):
    return [pool.apply(name, data) for name, data in events]


def a_pool() -> Pool:
    pool = Pool()
    fold(pool, published(1), registered(ADA, "mentee", ADA_FP), accepted(ADA, "mentee", 1),
         registered(BEA, "mentor", BEA_FP), accepted(BEA, "mentor", 1))
    return pool


def test_registration_and_acceptance_bring_a_member_in():
    pool = Pool()
    changes = fold(pool, published(1), registered(ADA, "mentee", ADA_FP),
                   accepted(ADA, "mentee", 1))
    assert [c.joined for c in changes] == [frozenset(), frozenset(), {ADA}]
    assert [c.member_id for c in pool.eligible("mentee")] == [ADA]
    assert pool.sizes() == {(ORG, "mentee"): 1}


def test_a_new_charter_version_takes_everyone_out_at_once_until_they_accept_it():
    pool = a_pool()
    [change] = fold(pool, published(2))
    assert change.left == {ADA, BEA}  # R3
    assert pool.eligibility(ADA).reasons == ("charter_stale",)
    [change] = fold(pool, accepted(ADA, "mentee", 2))
    assert change.joined == {ADA}
    assert [c.member_id for c in pool.eligible()] == [ADA]


def test_an_exclusion_takes_the_person_out_in_every_role():
    pool = a_pool()
    ada_as_mentor = uid("ada as mentor")
    fold(pool, registered(ada_as_mentor, "mentor", ADA_FP), accepted(ada_as_mentor, "mentor", 1))
    [change] = fold(pool, event("MemberExcluded", 1, member_id=ADA, identity_fingerprint=ADA_FP))
    assert change.left == {ADA, ada_as_mentor}  # R2: the person, not one registration
    assert pool.eligibility(ADA).reasons == ("excluded",)
    assert [c.member_id for c in pool.eligible()] == [BEA]
    # Accepting a new charter does not bring her back: exclusion is permanent.
    fold(pool, published(2), accepted(ADA, "mentee", 2))
    assert not pool.eligibility(ADA).eligible


def test_an_exclusion_read_before_the_registration_still_holds():
    pool = Pool()
    fold(pool, published(1), event("MemberExcluded", 1, member_id=ADA,
                                   identity_fingerprint=ADA_FP))
    changes = fold(pool, registered(ADA, "mentee", ADA_FP), accepted(ADA, "mentee", 1))
    assert not any(c.joined for c in changes)
    assert pool.eligibility(ADA).reasons == ("excluded",)


def test_an_erasure_takes_her_out_and_forgets_her_profile():
    pool = a_pool()
    [change] = fold(pool, event("PersonalDataErased", 1, member_id=ADA))
    assert change.left == {ADA}
    assert pool.candidate(ADA).topics == frozenset()
    # A late profile update does not bring her data back.
    fold(pool, event("MemberProfileUpdated", 2, member_id=ADA, topics=["software"]))
    assert pool.candidate(ADA).topics == frozenset()
    assert not pool.eligibility(ADA).eligible


def test_a_profile_update_changes_only_what_it_carries():
    pool = a_pool()
    before = pool.candidate(BEA)
    update = {"member_id": BEA, "topics": ["leadership"], "capacity": 3,
              "updated_at": "2025-03-05T10:00:00+00:00"}
    catalogue.validate("MemberProfileUpdated", 2, update)
    pool.apply("MemberProfileUpdated", update)
    after = pool.candidate(BEA)
    assert (after.topics, after.capacity) == (frozenset({"leadership"}), 3)
    assert (after.languages, after.preferred_modality, after.region) == (
        before.languages, before.preferred_modality, before.region)


def test_an_organisation_s_scope_reaches_its_members_old_and_new():
    pool = a_pool()
    assert pool.candidate(ADA).matching_scope == "own"
    change = pool.apply(*event("OrganisationPolicyChanged", 1, organisation_id=ORG,
                               matching_scope="open"))
    assert not change  # who is in the pool did not change
    assert pool.candidate(ADA).matching_scope == "open"
    newcomer = uid("newcomer")
    fold(pool, registered(newcomer, "mentee", fingerprint("newcomer")))
    assert pool.candidate(newcomer).matching_scope == "open"


def test_a_redelivered_registration_changes_nothing():
    pool = a_pool()
    fold(pool, event("MemberProfileUpdated", 2, member_id=BEA, topics=["leadership"]))
    fold(pool, registered(BEA, "mentor", BEA_FP))
    assert pool.candidate(BEA).topics == frozenset({"leadership"})


def test_an_old_registration_is_read_through_its_upcaster():
    pool = Pool()
    v1 = examples.example("MemberRegistered", 1) | {"member_id": ADA, "role": "mentor"}
    _, data = catalogue.upcast("MemberRegistered", 1, v1)
    pool.apply("MemberRegistered", data)
    assert (pool.candidate(ADA).capacity, pool.candidate(ADA).preferred_modality) == (1, "either")


def test_other_events_are_ignored_and_unknown_members_not_found():
    pool = a_pool()
    assert not pool.apply("SessionHeld", {"pair_id": uid("pair")})
    with pytest.raises(NotFound):
        pool.candidate(uid("nobody"))
