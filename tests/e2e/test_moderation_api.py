"""The moderator API against the running stack: credentials apart from partners',
cases from reports (never doubled), four eyes, no reinstatement (R2), races,
audit, and its OpenAPI honoured."""

from __future__ import annotations

import threading
import uuid

import pytest

from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi
from tests.e2e.moderation import case_of, enrol, moderator_api, publish_report, redeliver

CONFIRM = {"reason": "services_offered", "rationale": "Paid coaching offered at session 2"}
DISMISS = {"reason": "not_commercial", "rationale": "A free book recommendation"}


@pytest.fixture(scope="module")
def first():
    return enrol("Claire")


@pytest.fixture(scope="module")
def second():
    return enrol("Inès")


@pytest.fixture
def reported(org: PartnerApi):
    """A mentee reports her mentor: returns (org, mentor, mentee, report)."""
    mentor = org.ready_member("mentor")
    mentee = org.ready_member("mentee")
    report = publish_report(mentee, mentor, org.organisation_id)
    return org, mentor, mentee, report


def test_credentials_of_partners_and_moderators_never_cross(first, org):
    assert moderator_api(org.credential).get("/v1/cases").status == 401
    assert PartnerApi(first.credential).get("/v1/organisation").status == 401
    assert moderator_api(None).get("/v1/cases").status == 401
    assert moderator_api("md_nonsense").get("/v1/cases").status == 401


def test_a_report_opens_a_case_with_its_evidence_for_moderators_only(first, reported):
    _, mentor, mentee, report = reported
    (case,) = case_of(first, mentor)
    assert (case["status"], case["reports"], case["votes"]) == ("open", 1, 0)
    full = first.get(f"/v1/cases/{case['case_id']}").ok()
    (evidence,) = full["evidence"]
    assert evidence["details"] == "She offered paid coaching sessions"
    assert (evidence["reporter_id"], evidence["report_id"]) == (mentee, report["report_id"])


def test_a_replayed_report_never_opens_a_second_case_and_a_new_one_joins(first, reported):
    org, mentor, _, report = reported
    case_of(first, mentor)
    redeliver(report["pair_id"], report["_raw"])  # the very same event, delivered again
    other = org.ready_member("mentee")
    publish_report(other, mentor, org.organisation_id, details="Asked me to buy her book")

    def joined():
        (case,) = first.get("/v1/cases", params={"member_id": mentor}).ok()["items"]
        return case if case["reports"] == 2 else None

    case = wait_until(joined, timeout=30, what="the second report to join")
    assert case["status"] == "open"
    details = {e["details"] for e in first.get(f"/v1/cases/{case['case_id']}").ok()["evidence"]}
    assert details == {"She offered paid coaching sessions", "Asked me to buy her book"}


def test_four_eyes_one_vote_excludes_nobody_two_different_ones_do(first, second, reported):
    org, mentor, _, _ = reported
    (case,) = case_of(first, mentor)
    path = f"/v1/cases/{case['case_id']}"
    vote = first.post(f"{path}/confirmations", {**CONFIRM, "seen_version": case["version"]}).ok()
    assert (vote["status"], vote["votes"], vote["quorum"], vote["excluded"]) == (
        "open", 1, 2, False)
    assert org.as_member(mentor).get(f"/v1/members/{mentor}").status == 200, "not yet"

    twice = first.post(f"{path}/confirmations", {**CONFIRM, "seen_version": vote["version"]})
    assert twice.status == 403 and twice.problem["rule"] == "R2", "the same eyes twice"

    final = second.post(f"{path}/confirmations", {**CONFIRM, "seen_version": vote["version"]})
    assert final.status == 200 and final.body["excluded"] is True
    assert final.body["status"] == "confirmed"
    wait_until(lambda: org.as_member(mentor).get(f"/v1/members/{mentor}").status == 403,
               timeout=20, what="identity to refuse the excluded mentor")
    assert org.get(f"/v1/members/{mentor}").ok()["flag"] == "commercial_solicitation"

    late = second.post(f"{path}/dismissal", {**DISMISS, "seen_version": final.body["version"]})
    assert late.status == 409 and late.problem["rule"] == "R2"
    again = first.post(f"{path}/reinstatement", {})
    assert again.status == 422 and again.problem["rule"] == "R2"


def test_a_dismissal_needs_one_moderator_and_a_later_report_opens_a_new_case(first, reported):
    org, mentor, mentee, _ = reported
    (case,) = case_of(first, mentor)
    dismissed = first.post(f"/v1/cases/{case['case_id']}/dismissal",
                           {**DISMISS, "seen_version": case["version"]})
    assert dismissed.status == 200 and dismissed.body["status"] == "dismissed"
    assert org.as_member(mentor).get(f"/v1/members/{mentor}").status == 200
    publish_report(mentee, mentor, org.organisation_id, details="Again, a paid offer")
    cases = case_of(first, mentor, count=2)
    assert [c["status"] for c in cases] == ["dismissed", "open"]
    assert [c["sequence"] for c in cases] == [1, 2]


def test_two_moderators_deciding_at_once_one_wins_the_other_is_told(first, second, reported):
    _, mentor, _, _ = reported
    (case,) = case_of(first, mentor)
    path = f"/v1/cases/{case['case_id']}"
    answers = {}
    barrier = threading.Barrier(2)

    def decide(name, moderator, route, body):
        barrier.wait()
        answers[name] = moderator.post(f"{path}/{route}", {**body,
                                                            "seen_version": case["version"]})

    threads = [threading.Thread(target=decide, args=("a", first, "dismissal", DISMISS)),
               threading.Thread(target=decide, args=("b", second, "confirmations", CONFIRM))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status for a in answers.values())
    assert statuses == [200, 409], {k: (a.status, a.body) for k, a in answers.items()}
    loser = next(a for a in answers.values() if a.status == 409)
    assert loser.problem["code"] == "conflict"


def test_the_audit_says_who_decided_what_when_and_why(first, second, reported):
    _, mentor, mentee, report = reported
    (case,) = case_of(first, mentor)
    path = f"/v1/cases/{case['case_id']}"
    vote = first.post(f"{path}/confirmations", {**CONFIRM, "seen_version": case["version"]}).ok()
    second.post(f"{path}/confirmations", {**CONFIRM, "seen_version": vote["version"]}).ok()
    entries = first.get(f"{path}/audit").ok()["entries"]
    assert [e["action"] for e in entries] == [
        "case_opened", "voted_to_confirm", "voted_to_confirm", "case_confirmed",
        "member_excluded", "profile_flagged"]
    assert entries[0]["actor_id"] == mentee and entries[0]["report_id"] == report["report_id"]
    assert [e["actor_id"] for e in entries[1:3]] == [first.moderator_id, second.moderator_id]
    assert entries[1]["rationale"] == CONFIRM["rationale"]
    assert entries[3]["moderator_ids"] == [first.moderator_id, second.moderator_id]
    assert entries[3]["quorum"] == 2
    assert [e["position"] for e in entries] == sorted(e["position"] for e in entries)


def test_the_hash_chained_log_verifies_intact(first, reported):
    case_of(first, reported[1])
    verification = first.get("/v1/audit/chain").ok()
    assert verification["intact"] is True, verification["findings"][:3]
    assert verification["events"] >= 1 and verification["first_broken"] is None


@pytest.mark.parametrize("body, field", [
    ({"reason": "looked_shady", "rationale": "x", "seen_version": 1}, "reason"),
    ({"reason": "services_offered", "rationale": "", "seen_version": 1}, "rationale"),
    ({"reason": "services_offered", "rationale": "x"}, "seen_version"),
    ({"reason": "services_offered", "rationale": "x", "seen_version": 1, "fee": 30}, "fee"),
])
def test_a_bad_decision_is_refused_naming_the_field(first, reported, body, field):
    (case,) = case_of(first, reported[1])
    answer = first.post(f"/v1/cases/{case['case_id']}/confirmations", body)
    assert answer.status == 422 and field in answer.fields()
    assert first.get(f"/v1/cases/{case['case_id']}").ok()["votes"] == 0, "nothing written"


def test_an_unknown_case_is_404_and_a_stale_version_409(first, reported):
    assert first.get(f"/v1/cases/{uuid.uuid4()}").status == 404
    (case,) = case_of(first, reported[1])
    stale = first.post(f"/v1/cases/{case['case_id']}/confirmations",
                       {**CONFIRM, "seen_version": case["version"] + 5})
    assert stale.status == 409 and stale.fields() == ["case_version"]


def test_the_chain_can_be_checked_from_the_topic_alone(first, second, reported):
    """Each moderation event leaves for Kafka carrying its link: outside the database
    (out of reach of whoever could rewrite it), every link re-computes from the event
    as published, and each follows the one before."""
    from contracts import envelope
    from services.moderation.domain.chain import StoredEvent, link_hash
    from tests.e2e.test_privacy import topic_bytes

    _, mentor, _, _ = reported
    (case,) = case_of(first, mentor)
    vote = first.post(f"/v1/cases/{case['case_id']}/confirmations",
                      {**CONFIRM, "seen_version": case["version"]}).ok()

    def chained() -> list:
        events = [envelope.decode(value) for _, value in topic_bytes("moderation.events")]
        ours = [e for e in events if e.chainpos is not None and e.subject == case["case_id"]]
        return ours if len(ours) >= vote["version"] else None

    ours = wait_until(chained, timeout=30, what="the case's events on Kafka")
    for event in ours:
        stored = StoredEvent(event.chainpos, event.subject, event.aggregateversion, event.id,
                             event.event_name, event.event_version, event.data,
                             event.partnerorg, event.time)
        assert link_hash(event.chainprev, stored) == event.chainhash, event.event_name
    everything = sorted({e.chainpos: e for e in (envelope.decode(v) for _, v in
                         topic_bytes("moderation.events")) if e.chainpos}.values(),
                        key=lambda e: e.chainpos)
    follows = {later.chainprev for later in everything[1:]}
    assert all(e.chainhash in follows for e in everything[:-1]), "each link follows the last"


# -- sent again under an Idempotency-Key -------------------------------------------------


KEY = "Idempotency-Key"
VOTED = "voted_to_confirm"


def test_a_vote_sent_again_under_its_key_counts_once_and_answers_alike(first, second, reported):
    """A moderator whose vote timed out sends it again: one vote, the same answer
    (without a key the retry is refused as the same eyes twice, R2)."""
    _, mentor, _, _ = reported
    (case,) = case_of(first, mentor)
    path, key = f"/v1/cases/{case['case_id']}/confirmations", str(uuid.uuid4())
    body = {**CONFIRM, "seen_version": case["version"]}
    # Refused first (a version she has not seen): a refusal takes no key.
    stale = first.post(path, {**body, "seen_version": case["version"] + 5}, headers={KEY: key})
    assert stale.status == 409, stale.body
    vote = first.post(path, body, headers={KEY: key})
    assert vote.status == 200 and vote.body["votes"] == 1, vote.body
    again = first.post(path, body, headers={KEY: key})
    assert (again.status, again.body) == (vote.status, vote.body)
    actions = [e["action"] for e in first.get(f"/v1/cases/{case['case_id']}/audit").ok()[
        "entries"]]
    assert actions.count(VOTED) == 1, actions

    other = first.post(path, {**body, "rationale": "Another text"}, headers={KEY: key})
    assert other.status == 422 and other.fields() == [KEY], other.body
    theirs = second.post(path, body, headers={KEY: key})
    assert theirs.status == 409 and theirs.problem["code"] == "conflict", (
        "her key is not another moderator's: hers is another request, on a stale version")


def test_a_moderator_enrolled_again_under_its_key_is_one_and_no_credential_is_kept(
        operator_moderation):
    key = str(uuid.uuid4())
    enrolled = operator_moderation.post("/v1/operator/moderators", {"display_name": "Aude"},
                                        headers={KEY: key})
    assert enrolled.status == 201 and enrolled.body["credential"], enrolled.body
    again = operator_moderation.post("/v1/operator/moderators", {"display_name": "Aude"},
                                     headers={KEY: key})
    assert again.status == 201, again.body
    assert again.body == {"moderator_id": enrolled.body["moderator_id"], "credential": None}
    assert moderator_api(enrolled.body["credential"]).get("/v1/cases").status == 200


@pytest.fixture
def operator_moderation() -> PartnerApi:
    from tests.e2e.moderation import moderation_url

    return PartnerApi.operator(moderation_url())


def test_the_moderator_api_documents_the_header_on_its_commands_only():
    from tests.e2e.moderation import moderation_url

    document = PartnerApi(None, base_url=moderation_url()).get("/openapi.json").ok()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            named = [p.get("name") for p in operation.get("parameters", [])]
            takes = method != "get" and operation.get("security")
            assert (KEY in named) == bool(takes), (method, path)


def test_a_revoked_moderator_is_refused_at_once_and_her_votes_stay(operator_moderation,
                                                                     reported):
    """She left the platform: her credential stops working at once (report details are
    for moderators only, R8); revoking her again is the same state; only the operator
    revokes; a moderator nobody knows is a 404."""
    leaving = enrol("Leaving")
    _, mentor, _, _ = reported
    (case,) = case_of(leaving, mentor)
    leaving.post(f"/v1/cases/{case['case_id']}/confirmations",
                 {**CONFIRM, "seen_version": case["version"]}).ok()
    path = f"/v1/operator/moderators/{leaving.moderator_id}/revocation"
    assert leaving.post(path).status == 403, "not hers to do"

    revoked = operator_moderation.post(path)
    assert revoked.status == 200 and revoked.body["moderator_id"] == leaving.moderator_id
    assert leaving.get(f"/v1/cases/{case['case_id']}").status == 401
    assert operator_moderation.post(path).body == revoked.body, "revoked once, for good"
    stayed = enrol("Staying")
    audit = stayed.get(f"/v1/cases/{case['case_id']}/audit").ok()["entries"]
    assert [e["actor_id"] for e in audit if e["action"] == VOTED] == [leaving.moderator_id]

    unknown = operator_moderation.post(f"/v1/operator/moderators/{uuid.uuid4()}/revocation")
    assert unknown.status == 404 and unknown.fields() == ["moderator_id"], unknown.body
    assert operator_moderation.post(path, {"reason": "left"}).fields() == ["reason"]
