"""R2 in identity: a member excluded by moderation (a ``MemberExcluded`` on Kafka) is
refused within seconds, flagged for her organisation, and her identity can never
register again, in any organisation, even after her personal data is erased."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from contracts import envelope
from services.eventcore import settings as stack_settings
from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi, member_profile
from services.servicekit import secrets
from services.servicekit.crypto import fingerprint, normalise_email
from tests.e2e.credentials import credentials_epoch, identity_database


def publish_exclusion(member_id: str, email: str, organisation_id: str,
                      identity: str | None = None) -> str:
    """What moderation publishes when a confirmation reaches its quorum (R2)."""
    conf = stack_settings.load()
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC).isoformat()
    identity = identity or fingerprint(email)
    events = [
        ("MemberExcluded", {"case_id": case_id, "member_id": member_id,
                            "identity_fingerprint": identity, "permanent": True,
                            "excluded_at": now}),
        ("ProfileFlagged", {"case_id": case_id, "member_id": member_id,
                            "identity_fingerprint": identity, "flag": "commercial_solicitation",
                            "flagged_at": now}),
    ]
    producer = KafkaProducer(bootstrap_servers=conf.kafka_bootstrap, acks="all")
    try:
        for version, (name, data) in enumerate(events, start=1):
            event = envelope.CloudEvent.new(
                context="moderation", name=name, version=1, subject=case_id, data=data,
                aggregate_version=version, partner_org=organisation_id)
            producer.send(conf.topic("moderation"), key=case_id.encode(),
                          value=envelope.encode(event)).get(timeout=30)
    finally:
        producer.close()
    return case_id


def v1_fingerprint(email: str) -> str:
    """A member's fingerprint as registrations before v2 recorded it, computed here
    the old way (not by the code under test): her spelling, case and Unicode folded."""
    digest = hmac.new(secrets.load("fingerprint"), normalise_email(email).encode("utf-8"),
                      hashlib.sha256)
    return f"fp:v1:platform-1:{digest.hexdigest()}"


@pytest.fixture
def excluded(org: PartnerApi):
    email = f"seller-{uuid.uuid4().hex[:8]}@example.org"
    member = org.ready_member("mentor", email=email)
    publish_exclusion(member, email, org.organisation_id)
    as_her = org.as_member(member)
    refused = wait_until(lambda: as_her.get(f"/v1/members/{member}").status == 403,
                         timeout=20, what="identity to refuse the excluded member")
    assert refused
    return member, email


def test_an_excluded_member_is_refused_within_seconds_naming_r2(org, excluded):
    member, _ = excluded
    answer = org.as_member(member).get(f"/v1/members/{member}")
    assert answer.status == 403
    assert answer.problem["rule"] == "R2"
    charter = org.get("/v1/charter").ok()
    accept = org.as_member(member).post(f"/v1/members/{member}/charter-acceptance", {
        "charter_version": charter["charter_version"],
        "commitments": charter["commitments"]["mentor"]})
    assert accept.status == 403, "every further command is refused"
    assert accept.problem["rule"] == "R2"
    garbage = org.as_member(member).post(f"/v1/members/{member}/charter-acceptance", {})
    assert garbage.status == 403, "refused before her request is even read"


def test_her_organisation_sees_the_flag(org, excluded):
    member, _ = excluded
    profile = org.get(f"/v1/members/{member}").ok()
    assert (profile["status"], profile["flag"]) == ("excluded", "commercial_solicitation")
    changed = org.call("PATCH", f"/v1/members/{member}", json={"capacity": 1})
    assert changed.status == 422 and changed.problem["rule"] == "R2"
    listing = org.get("/v1/members", params={"status": "excluded"}).ok()
    assert [m["member_id"] for m in listing["items"]] == [member]


def test_the_same_person_can_never_register_again_anywhere(org, new_organisation, excluded):
    _, email = excluded
    for elsewhere in (org, new_organisation(), new_organisation(matching_scope="open")):
        for role in ("mentor", "mentee"):
            answer = elsewhere.post("/v1/members", member_profile(role, email=email.upper()))
            assert answer.status == 422, answer.body
            assert answer.problem["rule"] == "R2" and answer.fields() == ["email"]


def test_not_even_after_her_personal_data_is_erased(org, new_organisation, excluded):
    member, email = excluded
    assert org.post(f"/v1/members/{member}/erasure", {"confirm": True}).status == 200
    answer = new_organisation().post("/v1/members", member_profile("mentee", email=email))
    assert answer.status == 422 and answer.problem["rule"] == "R2"


def test_nor_under_another_spelling_of_her_mailbox(org, new_organisation):
    """A sub-address, a quoted local part, Gmail's dots and its googlemail.com alias
    all reach the excluded seller's mailbox: each one registered again under v1."""
    name = f"seller{uuid.uuid4().hex[:8]}"
    email = f"{name[:3]}.{name[3:]}@gmail.com"
    member = org.ready_member("mentor", email=email)
    publish_exclusion(member, email, org.organisation_id)
    assert wait_until(lambda: org.as_member(member).get(f"/v1/members/{member}").status == 403,
                      timeout=20, what="identity to refuse the excluded member")
    elsewhere = new_organisation()
    for spelling in (f"{name}+again@gmail.com", f'"{name}"@gmail.com',
                     f"{name}@googlemail.com", f"{name[:1]}.{name[1:]}@GMAIL.com".upper()):
        answer = elsewhere.post("/v1/members", member_profile("mentee", email=spelling))
        assert answer.status == 422, (spelling, answer.body)
        assert answer.problem["rule"] == "R2" and answer.fields() == ["email"]
    assert elsewhere.post("/v1/members", member_profile(
        "mentee", email=f"{name}x@gmail.com")).status == 201, "another mailbox is welcome"


def test_an_exclusion_recorded_under_a_v1_fingerprint_still_bars_her(org, new_organisation):
    """A member registered before v2 fingerprints was excluded under her v1 one (her
    spelling, case folded): whichever spelling she comes back with, v1 is checked."""
    email = f"Old.Seller+{uuid.uuid4().hex[:8]}@example.org"
    v1 = v1_fingerprint(email)
    publish_exclusion(str(uuid.uuid4()), email, org.organisation_id, identity=v1)

    def on_record() -> bool:
        with identity_database() as conn:
            return conn.execute("SELECT 1 FROM excluded_identities WHERE fingerprint = %s",
                                (v1,)).fetchone() is not None

    assert wait_until(on_record, timeout=20, what="identity to record the v1 exclusion")
    answer = new_organisation().post("/v1/members", member_profile("mentor", email=email))
    assert answer.status == 422 and answer.problem["rule"] == "R2"


def test_a_person_on_record_under_v1_keeps_it_so_one_exclusion_reaches_all_of_her(
        org, new_organisation):
    """Registered before v2 in one organisation, and after it in another, she had two
    fingerprints: an exclusion under her v1 one left the other membership active."""
    email = f"ana.{uuid.uuid4().hex[:8]}@example.org"
    first = org.ready_member("mentor", email=email)
    v1 = v1_fingerprint(email)
    # Her read-model row as a registration before v2 left it, for the time of her
    # second registration; put back after, so that the read model equals its events
    # again (test_rebuild checks it does).
    with identity_database() as conn:
        (v2,) = conn.execute("UPDATE members SET fingerprint = %s WHERE member_id = %s "
                             "RETURNING (SELECT fingerprint FROM members WHERE member_id = %s)",
                             (v1, first, first)).fetchone()
    try:
        elsewhere = new_organisation()
        second = elsewhere.ready_member("mentee", email=email.upper())
    finally:
        with identity_database() as conn:
            conn.execute("UPDATE members SET fingerprint = %s WHERE member_id = %s",
                         (v2, first))
    with identity_database() as conn:
        (kept,) = conn.execute("SELECT fingerprint FROM members WHERE member_id = %s",
                               (second,)).fetchone()
    assert kept == v1 != v2, "one person, one fingerprint"
    publish_exclusion(first, email, org.organisation_id, identity=v1)
    assert wait_until(
        lambda: elsewhere.as_member(second).get(f"/v1/members/{second}").status == 403,
        timeout=20, what="her other membership refused too")


def test_a_member_cannot_slip_into_an_excluded_identity_by_changing_her_email(org, excluded):
    """The e-mail is the identity R2 bars: it is fixed at registration."""
    _, email = excluded
    other = org.register_member("mentee")
    changed = org.call("PATCH", f"/v1/members/{other}", json={"email": email})
    assert changed.status == 422 and changed.fields() == ["email"]


def test_an_exclusion_advances_the_credentials_epoch_with_the_registry(org):
    """What a gateway that missed the broadcast notices (services/gateway/actors.py)."""
    email = f"seller-{uuid.uuid4().hex[:8]}@example.org"
    member = org.ready_member("mentor", email=email)
    before = credentials_epoch()
    publish_exclusion(member, email, org.organisation_id)
    as_her = org.as_member(member)
    assert wait_until(lambda: as_her.get(f"/v1/members/{member}").status == 403,
                      timeout=20, what="identity to refuse the excluded member")
    assert credentials_epoch() >= before + 1


def test_an_exclusion_whose_broadcast_was_lost_is_caught_by_identitys_epoch(org):
    """The gateway remembers who a member is for 30 to 60 s while it hears identity's
    credentials epoch every second (services/gateway/actors.py). Here identity's
    registry changes as an exclusion's transaction changes it, and no
    ``credentials_changed`` is sent, as when that broadcast is lost: she is still
    served while the epoch stays (what the gateway remembers is in use), and
    refused (R2) once the next announcement carries the moved epoch."""
    member = org.ready_member("mentor")
    as_her = org.as_member(member)
    # A change made just before (the previous test's exclusion) is announced within a
    # second and makes the gateway forget everything: remember her after that.
    time.sleep(1.5)
    assert as_her.get(f"/v1/members/{member}").status == 200  # remembered now
    case_id = str(uuid.uuid4())
    with identity_database() as conn:
        conn.execute("INSERT INTO excluded_identities (fingerprint, member_id, case_id, "
                     "excluded_at) SELECT fingerprint, member_id, %s, now() FROM members "
                     "WHERE member_id = %s", (case_id, member))
    try:
        # Past the 2 s an answer lasts when no announcement is heard: what serves her
        # now is the remembered answer, trusted because the epoch is heard.
        time.sleep(4.0)
        assert as_her.get(f"/v1/members/{member}").status == 200
        with identity_database() as conn:
            conn.execute("UPDATE credentials_epoch SET epoch = epoch + 1")
        wait_until(lambda: as_her.get(f"/v1/members/{member}").status == 403,
                   timeout=10, what="the gateway to hear the epoch move")
    finally:
        # The row is not on moderation's topic: a rebuilt registry would not have it.
        with identity_database() as conn:
            conn.execute("DELETE FROM excluded_identities WHERE case_id = %s", (case_id,))
