"""Issue 4 through real HTTP, rule by rule (R2, R3, R9), against the running stack:
the gateway, the matching service behind it, identity's and moderation's events
reaching it through Kafka.

Every test makes its own organisations and members, and gives them a topic of
their own, so that mentors of other tests (other open organisations of the
stack) never come first in a suggestion. Expiry, which needs a clock the test
controls, is proven in a container of the service itself
(``services/matching/tests/test_expiry_clock.py``).
"""

from __future__ import annotations

import math
import threading
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from contracts import envelope
from contracts.events.matching import CRITERIA
from services.eventcore import settings as stack_settings
from services.eventcore.testing import read_topic, wait_until
from services.gateway.client import Answer, PartnerApi
from services.matching.domain.proposal import rederive
from tests.e2e.test_exclusion_registry import publish_exclusion

# -- helpers -------------------------------------------------------------------------------


def topic() -> str:
    """A topic nobody else's members have: ours score first on it."""
    return f"m-{uuid.uuid4().hex[:12]}"


def eligibility(org: PartnerApi, member_id: str) -> Answer:
    return org.get(f"/v1/matching/members/{member_id}/eligibility")


def wait_eligibility(org: PartnerApi, member_id: str, eligible: bool = True,
                     reason: str | None = None) -> dict[str, Any]:
    """Once matching has read what identity (or moderation) said about her."""
    def seen() -> dict[str, Any] | None:
        answer = eligibility(org, member_id)
        if answer.status != 200 or answer.body["eligible"] is not eligible:
            return None
        if reason is not None and reason not in [r["reason"] for r in answer.body["reasons"]]:
            return None
        return answer.body

    return wait_until(seen, timeout=30, what=f"matching to see {member_id} eligible="
                      f"{eligible} {reason or ''}")


def ready(org: PartnerApi, role: str, **profile: Any) -> str:
    """Registered, charter accepted (R3), and in matching's pool."""
    member = org.ready_member(role, **profile)
    wait_eligibility(org, member)
    return member


def suggestions(org: PartnerApi, mentee: str, **params: Any) -> dict[str, Any]:
    return org.get(f"/v1/matching/mentees/{mentee}/suggestions", params=params).ok()


def suggested(org: PartnerApi, mentee: str, limit: int = 20) -> list[str]:
    return [s["mentor_id"] for s in suggestions(org, mentee, limit=limit)["suggestions"]]


def ask(org: PartnerApi, mentee: str, mentor: str) -> Answer:
    """The mentee, acting as herself, asks for this mentor."""
    return org.as_member(mentee).post(f"/v1/matching/mentees/{mentee}/requests",
                                      {"mentor_id": mentor})


def act(org: PartnerApi, member: str, pair_id: str, action: str, body: Any = None) -> Answer:
    return org.as_member(member).post(f"/v1/matching/pairs/{pair_id}/{action}", body)


def pair_of(org: PartnerApi, pair_id: str) -> dict[str, Any]:
    return org.get(f"/v1/matching/pairs/{pair_id}").ok()


def formed_pair(org: PartnerApi, mentee: str, mentor: str) -> str:
    pair_id = ask(org, mentee, mentor).ok()["pair_id"]
    assert act(org, mentor, pair_id, "acceptance").ok()["state"] == "formed"
    return pair_id


def matching_events(pair_id: str, count: int) -> list[envelope.CloudEvent]:
    """The pair's events on matching.events, as the relay published them."""
    conf = stack_settings.load()
    key = pair_id.encode()
    records = read_topic(conf, conf.topic("matching"),
                         until=lambda rs: sum(1 for r in rs if r.key == key) >= count,
                         timeout=30)
    found = [envelope.decode(r.value) for r in records if r.key == key]
    assert len(found) >= count, f"{len(found)} of the pair's {count} events on Kafka"
    return found


# -- R3, R2: who may be suggested at all ---------------------------------------------------


def test_suggestions_are_scored_best_first_with_the_part_each_criterion_played(org):
    t = topic()
    mentee = ready(org, "mentee", topics=[t, "software"], languages=["fr"])
    best = ready(org, "mentor", topics=[t, "software"], languages=["fr", "en"], capacity=2)
    half = ready(org, "mentor", topics=[t], languages=["fr"], capacity=1)
    no_language = ready(org, "mentor", topics=[t, "software"], languages=["de"])
    in_person = ready(org, "mentor", topics=[t, "software"], languages=["fr"],
                      preferred_modality="in_person", region="fr-idf")

    answer = suggestions(org, mentee, limit=10)
    ids = [s["mentor_id"] for s in answer["suggestions"]]
    assert ids == [best, half], "best first; hard constraints exclude, never score low"
    assert answer["excluded"]["no_shared_language"] >= 1
    assert answer["excluded"]["incompatible_modality"] >= 1
    assert no_language not in ids and in_person not in ids
    assert answer["considered"] >= 4

    first, second = answer["suggestions"]
    for s in answer["suggestions"]:
        criteria = s["criteria"]
        assert list(criteria) == list(CRITERIA)
        assert math.fsum(c["weight"] for c in criteria.values()) == pytest.approx(1)
        for part in criteria.values():
            assert part["contribution"] == pytest.approx(part["weight"] * part["value"])
        assert math.fsum(c["contribution"] for c in criteria.values()) == pytest.approx(
            s["score"])
        assert s["algorithm_version"] == 1
    assert first["criteria"]["topics"]["value"] == 1.0  # both of her needs covered
    assert second["criteria"]["topics"]["value"] == 0.5  # one of two
    assert first["criteria"]["organisation"]["value"] == 1.0
    assert first["score"] > second["score"]

    # The mentee herself may ask; another member of her organisation may not.
    assert org.as_member(mentee).get(f"/v1/matching/mentees/{mentee}/suggestions").status \
        == 200
    assert org.as_member(best).get(f"/v1/matching/mentees/{mentee}/suggestions").status \
        == 404
    assert suggestions(org, mentee, limit=1)["suggestions"][0]["mentor_id"] == best
    bad = org.get(f"/v1/matching/mentees/{mentee}/suggestions", params={"limit": 0})
    assert bad.status == 422 and bad.fields() == ["limit"]
    unknown = org.get(f"/v1/matching/mentees/{mentee}/suggestions", params={"price": 1})
    assert unknown.status == 422 and unknown.fields() == ["price"]  # R1: no such thing


def test_only_eligible_mentors_are_ever_suggested_or_asked_for(org):
    """R3: a current acceptance for her role; R2: never an excluded member; and never
    an erased one."""
    t = topic()
    mentee = ready(org, "mentee", topics=[t])
    eligible = ready(org, "mentor", topics=[t])
    no_charter = org.register_member("mentor", topics=[t])
    seller_email = f"seller-{uuid.uuid4().hex[:8]}@example.org"
    excluded = ready(org, "mentor", email=seller_email, topics=[t])
    erased = ready(org, "mentor", topics=[t])

    publish_exclusion(excluded, seller_email, org.organisation_id)
    org.post(f"/v1/members/{erased}/erasure", {"confirm": True}).ok()
    not_accepted = wait_eligibility(org, no_charter, eligible=False)
    assert not_accepted["reasons"] == [{"reason": "charter_not_accepted", "rule": "R3"}]
    assert wait_eligibility(org, excluded, False, "excluded")["reasons"][0]["rule"] == "R2"
    assert wait_eligibility(org, erased, False, "erased")["reasons"][0]["rule"] is None

    assert suggested(org, mentee) == [eligible]

    for mentor, status, rule in ((no_charter, 422, "R3"), (excluded, 422, "R2"),
                                 (erased, 404, None)):
        refused = ask(org, mentee, mentor)
        assert refused.status == status, refused.body
        assert refused.problem.get("rule") == rule
        assert refused.fields() == ["mentor_id"]
    assert eligibility(org, mentee).body["open_pairs"] == 0, "nothing was changed"
    assert ask(org, mentee, eligible).status == 201

    # An ineligible mentee is not suggested anyone (R3), naming her.
    newcomer = org.register_member("mentee", topics=[t])
    wait_eligibility(org, newcomer, eligible=False)
    refused = org.get(f"/v1/matching/mentees/{newcomer}/suggestions")
    assert (refused.status, refused.problem["rule"], refused.fields()) == (
        422, "R3", ["mentee_id"])


def test_a_new_charter_version_takes_everyone_out_until_they_accept_it(org, operator):
    """R3: a stale acceptance removes a member at once; accepting again brings her back.
    (The commitments stay those of the current version: other tests accept them.)"""
    t = topic()
    mentee = ready(org, "mentee", topics=[t])
    mentor = ready(org, "mentor", topics=[t])
    assert suggested(org, mentee) == [mentor]

    current = org.get("/v1/charter").ok()
    published = operator.post("/v1/operator/charters", {
        "text": current["text"] + f"\n\n(révision {t})",
        "mentor_commitments": current["commitments"]["mentor"],
        "mentee_commitments": current["commitments"]["mentee"]}).ok()
    assert published["charter_version"] == current["charter_version"] + 1
    stale = wait_eligibility(org, mentor, False, "charter_stale")
    assert stale["reasons"] == [{"reason": "charter_stale", "rule": "R3"}]
    assert stale["charter_version"] == published["charter_version"]
    refused = org.get(f"/v1/matching/mentees/{mentee}/suggestions")
    assert refused.status == 422 and refused.problem["rule"] == "R3"

    org.as_member(mentee).accept_charter().ok()
    wait_eligibility(org, mentee)
    assert suggested(org, mentee) == [], "her mentor has not accepted it yet"
    assert ask(org, mentee, mentor).problem["rule"] == "R3"
    org.as_member(mentor).accept_charter().ok()
    wait_eligibility(org, mentor)
    assert suggested(org, mentee) == [mentor]


def test_an_organisation_s_policy_decides_whom_its_mentees_may_meet(new_organisation):
    """Own members only, or also the members of other organisations that opened theirs."""
    t = topic()
    closed = new_organisation(matching_scope="own")
    ours, theirs_org = (new_organisation(matching_scope="open") for _ in range(2))
    theirs = ready(theirs_org, "mentor", topics=[t])
    closed_mentor = ready(closed, "mentor", topics=[t])
    mentee = ready(ours, "mentee", topics=[t])
    closed_mentee = ready(closed, "mentee", topics=[t])

    # Both open: the other organisation's mentor is suggested, its criterion at 0. (The
    # organisations' policies are other streams than their members': read in any order.)
    first = wait_until(lambda: next((s for s in suggestions(ours, mentee)["suggestions"][:1]
                                     if s["mentor_id"] == theirs), None),
                       timeout=30, what="matching to read both organisations' policies")
    assert first["criteria"]["organisation"]["value"] == 0.0
    assert closed_mentor not in suggested(ours, mentee), "a closed organisation's mentor"

    # Own only: the closed organisation's mentee sees its own mentors, no other.
    answer = suggestions(closed, closed_mentee)
    assert [s["mentor_id"] for s in answer["suggestions"]] == [closed_mentor]
    assert answer["excluded"]["organisation_not_open"] >= 1
    refused = ask(closed, closed_mentee, theirs)
    assert (refused.status, refused.fields()) == (404, ["mentor_id"]), \
        "another organisation's mentor she may not meet reads like none"

    # Across two open organisations: a pair both of them see, nobody else.
    pair_id = formed_pair_across(ours, mentee, theirs_org, theirs)
    assert theirs_org.get(f"/v1/matching/pairs/{pair_id}").status == 200
    assert closed.get(f"/v1/matching/pairs/{pair_id}").status == 404

    # The other organisation closes its matching: its mentors leave ours' suggestions.
    theirs_org.call("PUT", "/v1/organisation/matching-policy",
                    json={"matching_scope": "own"}).ok()
    wait_until(lambda: theirs not in suggested(ours, mentee), timeout=30,
               what="matching to read the new policy")


def formed_pair_across(mentee_org: PartnerApi, mentee: str, mentor_org: PartnerApi,
                       mentor: str) -> str:
    pair_id = ask(mentee_org, mentee, mentor).ok()["pair_id"]
    formed = act(mentor_org, mentor, pair_id, "acceptance").ok()
    assert formed["state"] == "formed"
    assert (formed["mentee_organisation_id"], formed["mentor_organisation_id"]) == (
        mentee_org.organisation_id, mentor_org.organisation_id)
    return pair_id


# -- R9: requests, answers, and the life of a pair -------------------------------------------


def test_a_request_accepted_by_the_mentor_forms_the_pair(org):
    t = topic()
    mentee, mentor = ready(org, "mentee", topics=[t]), ready(org, "mentor", topics=[t])
    requested = ask(org, mentee, mentor)
    assert requested.status == 201
    pair = requested.body
    assert (pair["state"], pair["source"], pair["accepted_by"]) == (
        "proposed", "request", [mentee]), "asking is accepting on her side"
    assert pair["mentee_organisation_id"] == org.organisation_id

    # The mentor finds it among her pending proposals; the organisation sees it too.
    pending = org.as_member(mentor).get("/v1/matching/pairs", params={"state": "proposed"})
    assert [p["pair_id"] for p in pending.ok()["items"]] == [pair["pair_id"]]
    assert pair["pair_id"] in [p["pair_id"] for p in org.get("/v1/matching/pairs").ok()["items"]]

    formed = act(org, mentor, pair["pair_id"], "acceptance").ok()
    assert formed["state"] == "formed" and formed["formed_at"]
    assert sorted(formed["accepted_by"]) == sorted([mentee, mentor])
    again = act(org, mentor, pair["pair_id"], "acceptance")
    assert again.status == 409 and again.fields() == ["pair_id"]

    # PairFormed v2 on Kafka: both organisations named, tagged with the mentee's.
    events = matching_events(pair["pair_id"], 4)
    assert [e.event_name for e in events] == ["MatchProposed", "MatchAccepted",
                                              "MatchAccepted", "PairFormed"]
    formed_event = events[-1]
    assert formed_event.event_version == 2
    assert formed_event.partnerorg == org.organisation_id
    assert (formed_event.data["mentor_organisation_id"],
            formed_event.data["mentee_organisation_id"]) == (org.organisation_id,) * 2
    # ... and the sessions service opens the pair from it.
    wait_until(lambda: org.as_member(mentee).get(f"/v1/pairs/{pair['pair_id']}").status == 200,
               timeout=30, what="sessions to open the pair matching formed")


def test_either_member_may_decline_and_the_mentee_then_asks_the_next_one(org):
    """R9: the mentor declines a request; the mentee, free again, asks another."""
    t = topic()
    mentee = ready(org, "mentee", topics=[t])
    first, second = ready(org, "mentor", topics=[t]), ready(org, "mentor", topics=[t])
    pair_id = ask(org, mentee, first).ok()["pair_id"]
    assert ask(org, mentee, second).status == 409, "one pending request at a time"

    hers = act(org, mentee, pair_id, "decline", {"reason": "other"})
    assert hers.status == 409, "she asked: she withdraws rather than declines"
    priced = act(org, first, pair_id, "decline", {"reason": "unavailable", "price": 10})
    assert priced.status == 422 and priced.fields() == ["price"]  # R1: no such field
    bad = act(org, first, pair_id, "decline", {"reason": "too busy"})
    assert bad.status == 422 and bad.fields() == ["reason"]
    assert pair_of(org, pair_id)["state"] == "proposed", "bad input changes nothing"

    declined = act(org, first, pair_id, "decline", {"reason": "unavailable"}).ok()
    assert (declined["state"], declined["close_reason"]) == ("declined", "unavailable")
    assert act(org, first, pair_id, "acceptance").status == 409
    assert eligibility(org, mentee).body["open_pairs"] == 0
    assert ask(org, mentee, second).status == 201, "she asks the next one"


def test_the_mentee_may_withdraw_her_request_before_it_is_answered(org):
    t = topic()
    mentee, mentor = ready(org, "mentee", topics=[t]), ready(org, "mentor", topics=[t],
                                                             capacity=1)
    pair_id = ask(org, mentee, mentor).ok()["pair_id"]
    assert eligibility(org, mentor).body["free_places"] == 0, "a pending request holds it"
    assert act(org, mentor, pair_id, "withdrawal").status == 409, "she has not accepted"
    withdrawn = act(org, mentee, pair_id, "withdrawal").ok()
    assert (withdrawn["state"], withdrawn["close_reason"]) == ("withdrawn", "withdrawn")
    assert act(org, mentor, pair_id, "acceptance").status == 409
    assert eligibility(org, mentor).body["free_places"] == 1


def test_a_mentee_has_one_active_or_pending_pair_and_either_member_ends_it(org):
    """One pair per mentee; R9: either member ends it, completed or withdrawn."""
    t = topic()
    mentee = ready(org, "mentee", topics=[t])
    mentor, other = ready(org, "mentor", topics=[t]), ready(org, "mentor", topics=[t])
    stranger = ready(org, "mentee", topics=[t])
    pair_id = formed_pair(org, mentee, mentor)
    refused = ask(org, mentee, other)
    assert (refused.status, refused.fields()) == (409, ["mentee_id"])

    assert act(org, stranger, pair_id, "ending", {"reason": "completed"}).status == 404
    not_hers = act(org, mentor, pair_id, "ending", {"reason": "counterpart_excluded"})
    assert not_hers.status == 422 and not_hers.fields() == ["reason"]
    by_admin = org.post(f"/v1/matching/pairs/{pair_id}/ending", {"reason": "completed"})
    assert by_admin.status == 403 and by_admin.problem["rule"] == "R8"

    ended = act(org, mentor, pair_id, "ending", {"reason": "completed"}).ok()
    assert (ended["state"], ended["close_reason"]) == ("ended", "completed")
    assert act(org, mentee, pair_id, "ending", {"reason": "withdrawn"}).status == 409
    again = ask(org, mentee, other).ok()["pair_id"]
    assert act(org, other, again, "acceptance").ok()["state"] == "formed"
    by_her = act(org, mentee, again, "ending", {"reason": "withdrawn"}).ok()
    assert (by_her["state"], by_her["close_reason"]) == ("ended", "withdrawn")


# -- capacity and one pair per mentee, under concurrent requests -------------------------------


def _concurrently(org: PartnerApi, asks: list[tuple[str, str]]) -> list[Answer]:
    """Each (mentee, mentor) request from its own thread and HTTP session, released
    together."""
    start = threading.Barrier(len(asks))

    def one(pair: tuple[str, str]) -> Answer:
        mentee, mentor = pair
        caller = PartnerApi(org.credential, org.base_url, mentee)  # a session of its own
        start.wait(timeout=30)
        return caller.post(f"/v1/matching/mentees/{mentee}/requests", {"mentor_id": mentor})

    with ThreadPoolExecutor(len(asks)) as pool:
        return list(pool.map(one, asks))


def test_a_mentor_never_exceeds_her_capacity_under_concurrent_requests(org):
    t = topic()
    mentor = ready(org, "mentor", topics=[t], capacity=2)
    mentees = [ready(org, "mentee", topics=[t]) for _ in range(6)]
    answers = _concurrently(org, [(m, mentor) for m in mentees])
    assert sorted(a.status for a in answers) == [201, 201, 409, 409, 409, 409], \
        [a.body for a in answers]
    assert all(a.fields() == ["mentor_id"] for a in answers if a.status == 409)
    state = eligibility(org, mentor).body
    assert (state["open_pairs"], state["free_places"]) == (2, 0)
    pending = org.as_member(mentor).get("/v1/matching/pairs", params={"state": "proposed"})
    assert pending.ok()["total"] == 2
    # Full, she is no longer suggested: the constraint says why.
    waiting = next(m for m, a in zip(mentees, answers, strict=True) if a.status == 409)
    answer = suggestions(org, waiting)
    assert mentor not in [s["mentor_id"] for s in answer["suggestions"]]
    assert answer["excluded"]["no_free_capacity"] >= 1


def test_a_mentee_asking_several_mentors_at_once_gets_one(org):
    t = topic()
    mentee = ready(org, "mentee", topics=[t])
    mentors = [ready(org, "mentor", topics=[t]) for _ in range(4)]
    answers = _concurrently(org, [(mentee, m) for m in mentors])
    assert sorted(a.status for a in answers) == [201, 409, 409, 409]
    assert all(a.fields() == ["mentee_id"] for a in answers if a.status == 409)
    assert eligibility(org, mentee).body["open_pairs"] == 1


# -- cohorts ---------------------------------------------------------------------------------


def test_a_cohort_is_the_optimal_assignment_both_members_must_accept(org):
    """The intake (eligible mentees without a pair) assigned for the greatest total: here
    greedy takes the best pair first and leaves a mentee out, the optimum does not."""
    t1, t2, t3, t4 = (topic() for _ in range(4))
    ada = ready(org, "mentee", topics=[t1, t2], languages=["fr"])
    bea = ready(org, "mentee", topics=[t3, t4], languages=["de"])
    late = org.register_member("mentee", topics=[t1])  # no charter accepted: not in it
    xena = ready(org, "mentor", topics=[t1, t2, t3], languages=["fr", "de"], capacity=1)
    yvette = ready(org, "mentor", topics=[t1], languages=["fr"], capacity=1)
    wait_eligibility(org, late, eligible=False)

    preview = org.post("/v1/matching/cohorts", {"dry_run": True}).ok()
    assert (preview["cohort_id"], preview["intake"]) == (None, 2)
    optimal, greedy = preview["optimal"], preview["greedy"]
    assert {(p["mentee_id"], p["mentor_id"]) for p in optimal["pairs"]} == {
        (ada, yvette), (bea, xena)}
    assert [(p["mentee_id"], p["mentor_id"]) for p in greedy["pairs"]] == [(ada, xena)]
    assert greedy["unmatched"] == [bea]
    assert optimal["total"] >= greedy["total"]
    assert optimal["total"] == pytest.approx(1.4) and greedy["total"] == pytest.approx(0.9)
    assert preview["ratio"] == pytest.approx(1.4 / 0.9)
    assert eligibility(org, ada).body["open_pairs"] == 0, "a dry run proposes nothing"

    cohort = org.post("/v1/matching/cohorts", {}).ok()
    assert cohort["cohort_id"] and cohort["optimal"]["total"] == optimal["total"]
    proposed = {p["mentee_id"]: p["pair_id"] for p in cohort["optimal"]["pairs"]}
    for pair_id in proposed.values():
        pair = pair_of(org, pair_id)
        assert (pair["state"], pair["source"], pair["cohort_id"], pair["accepted_by"]) == (
            "proposed", "cohort", cohort["cohort_id"], []), "both members must accept"
    # R9: both accept one; the other is declined by its mentor.
    assert act(org, ada, proposed[ada], "acceptance").ok()["state"] == "proposed"
    assert act(org, yvette, proposed[ada], "acceptance").ok()["state"] == "formed"
    assert act(org, xena, proposed[bea], "decline", {"reason": "not_a_fit"}).ok()[
        "state"] == "declined"
    explained = org.get(f"/v1/matching/pairs/{proposed[bea]}/explanation").ok()
    assert explained["source"] == "cohort" and explained["rederived"]["consistent"]

    # The intake now is the one mentee left without a pair.
    again = org.post("/v1/matching/cohorts", {"dry_run": True}).ok()
    assert again["intake"] == 1 and again["optimal"]["pairs"][0]["mentee_id"] == bea
    member = org.as_member(ada).post("/v1/matching/cohorts", {"dry_run": True})
    assert member.status == 403 and member.fields() == ["X-Acting-Member"]
    bad = org.post("/v1/matching/cohorts", {"dry_run": "yes"})
    assert bad.status == 422 and bad.fields() == ["dry_run"]


# -- reproducible: every proposal re-derives from its own record --------------------------------


def test_every_proposal_re_derives_from_what_its_event_recorded(org):
    t = topic()
    mentee = ready(org, "mentee", topics=[t, "software"], languages=["fr", "en"])
    mentor = ready(org, "mentor", topics=[t], languages=["fr"], capacity=3)
    suggestion = suggestions(org, mentee)["suggestions"][0]
    assert suggestion["mentor_id"] == mentor
    pair_id = ask(org, mentee, mentor).ok()["pair_id"]

    explained = org.get(f"/v1/matching/pairs/{pair_id}/explanation").ok()
    assert explained["score"] == suggestion["score"], "what she was shown is what was recorded"
    assert explained["algorithm_version"] == 1 and explained["source"] == "request"
    assert explained["weights"] == {c: p["weight"] for c, p in suggestion["criteria"].items()}
    assert explained["components"] == {
        c: p["contribution"] for c, p in suggestion["criteria"].items()}
    assert explained["inputs"]["mentor"]["capacity"] == 3
    assert explained["inputs"]["mentor"]["load"] == 0
    assert explained["inputs"]["mentee"]["topics"] == sorted([t, "software"])
    rederived = explained["rederived"]
    assert rederived == {"score": explained["score"], "components": explained["components"],
                         "consistent": True, "findings": []}
    # The same from the event alone, as an auditor reading the topic would.
    (proposed, *_) = matching_events(pair_id, 2)
    assert proposed.event_name == "MatchProposed"
    assert rederive(proposed.data) == proposed.data["score"] == explained["score"]
    # The mentee and both organisations may audit it; another organisation may not.
    assert org.as_member(mentee).get(f"/v1/matching/pairs/{pair_id}/explanation").status == 200


# -- R2: an exclusion ends her pairs and frees the other members --------------------------------


def test_an_exclusion_ends_every_open_pair_of_hers_and_frees_the_counterparts(org):
    t = topic()
    email = f"seller-{uuid.uuid4().hex[:8]}@example.org"
    seller = ready(org, "mentor", email=email, topics=[t], capacity=2)
    seller_as_mentee = ready(org, "mentee", email=email, topics=[t])  # the same person
    formed_with, pending_with = (ready(org, "mentee", topics=[t]) for _ in range(2))
    other_mentor = ready(org, "mentor", topics=[t])
    formed = formed_pair(org, formed_with, seller)
    pending = ask(org, pending_with, seller).ok()["pair_id"]
    her_request = ask(org, seller_as_mentee, other_mentor).ok()["pair_id"]

    publish_exclusion(seller, email, org.organisation_id)

    def closed(pair_id: str) -> dict[str, Any] | None:
        pair = pair_of(org, pair_id)
        return pair if pair["state"] not in ("proposed", "formed") else None

    ended = wait_until(lambda: closed(formed), timeout=30, what="the formed pair to end")
    assert (ended["state"], ended["close_reason"]) == ("ended", "counterpart_excluded")
    for pair_id in (pending, her_request):
        withdrawn = wait_until(lambda p=pair_id: closed(p), timeout=30,
                               what="the pending proposals to be withdrawn")
        assert (withdrawn["state"], withdrawn["close_reason"]) == (
            "withdrawn", "counterpart_excluded")
    for member in (seller, seller_as_mentee):  # both her registrations (R2)
        assert wait_eligibility(org, member, False, "excluded")["reasons"][0]["rule"] == "R2"
    for mentee in (formed_with, pending_with):
        assert eligibility(org, mentee).body["open_pairs"] == 0, "back in the pool"
    assert eligibility(org, other_mentor).body["free_places"] == 2
    assert seller not in suggested(org, formed_with)
    assert ask(org, formed_with, other_mentor).status == 201, "she asks another mentor"

    ending = matching_events(formed, 5)[-1]
    assert (ending.event_name, ending.data["reason"], ending.data["ended_by"]) == (
        "PairEnded", "counterpart_excluded", None)


def test_an_erased_member_s_open_pairs_close_as_withdrawn(org):
    t = topic()
    mentee, mentor = ready(org, "mentee", topics=[t]), ready(org, "mentor", topics=[t],
                                                             capacity=1)
    partner = ready(org, "mentee", topics=[t])
    leaving_mentor = ready(org, "mentor", topics=[t])
    pending = ask(org, mentee, mentor).ok()["pair_id"]
    formed = formed_pair(org, partner, leaving_mentor)
    org.post(f"/v1/members/{mentee}/erasure", {"confirm": True}).ok()
    org.post(f"/v1/members/{leaving_mentor}/erasure", {"confirm": True}).ok()

    withdrawn = wait_until(lambda: (lambda p: p if p["state"] == "withdrawn" else None)(
        pair_of(org, pending)), timeout=30, what="her request to be withdrawn")
    assert withdrawn["close_reason"] == "withdrawn"
    ended = wait_until(lambda: (lambda p: p if p["state"] == "ended" else None)(
        pair_of(org, formed)), timeout=30, what="his pair to end")
    assert ended["close_reason"] == "withdrawn"
    assert eligibility(org, mentor).body["free_places"] == 1
    assert eligibility(org, partner).body["open_pairs"] == 0


# -- who may do what -------------------------------------------------------------------------


def comparable(answer: Answer) -> tuple[int, Any]:
    body = answer.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("request_id", "instance")}
    return answer.status, body


def test_a_pair_is_for_its_members_and_their_organisations_alone(org, new_organisation):
    t = topic()
    mentee, mentor = ready(org, "mentee", topics=[t]), ready(org, "mentor", topics=[t])
    pair_id = ask(org, mentee, mentor).ok()["pair_id"]
    nobody = str(uuid.uuid4())
    other = new_organisation()
    stranger = other.as_member(ready(other, "mentor", topics=[t]))
    for caller in (other, stranger):
        for path in ("", "/explanation"):
            theirs = caller.get(f"/v1/matching/pairs/{pair_id}{path}")
            missing = caller.get(f"/v1/matching/pairs/{nobody}{path}")
            assert comparable(theirs) == comparable(missing) and theirs.status == 404
    for action, body in (("acceptance", None), ("decline", {"reason": "other"}),
                         ("withdrawal", None), ("ending", {"reason": "completed"})):
        theirs = stranger.post(f"/v1/matching/pairs/{pair_id}/{action}", body)
        missing = stranger.post(f"/v1/matching/pairs/{nobody}/{action}", body)
        assert comparable(theirs) == comparable(missing) and theirs.status == 404
    # R8/R9: an organisation does not answer for its member.
    by_admin = org.post(f"/v1/matching/pairs/{pair_id}/acceptance")
    assert by_admin.status == 403 and by_admin.problem["rule"] == "R8"
    # A malformed body names the field and changes nothing.
    for body, field in (({"mentor_id": "not-an-id"}, "mentor_id"), ({}, "mentor_id"),
                        ({"mentor_id": mentor, "fee": 0}, "fee")):
        refused = org.as_member(mentee).post(f"/v1/matching/mentees/{mentee}/requests", body)
        assert refused.status == 422 and refused.fields() == [field]
    assert pair_of(org, pair_id)["state"] == "proposed"
    assert org.get("/v1/matching/pairs", params={"state": "paid"}).fields() == ["state"]


# -- metrics ---------------------------------------------------------------------------------


def metrics_page() -> str:
    with urllib.request.urlopen("http://127.0.0.1:9112/metrics", timeout=10) as response:
        return response.read().decode()


def sample(page: str, name: str, **labels: str) -> float:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    values = [float(line.rsplit(" ", 1)[1]) for line in page.splitlines()
              if line.startswith(name + "{") and all(w in line for w in wanted)]
    return sum(values)


def test_pools_proposals_and_pairs_are_counted_per_organisation(org):
    t = topic()
    mentees = [ready(org, "mentee", topics=[t]) for _ in range(2)]
    mentor = ready(org, "mentor", topics=[t])
    formed = formed_pair(org, mentees[0], mentor)
    declined = ask(org, mentees[1], mentor).ok()["pair_id"]
    act(org, mentor, declined, "decline", {"reason": "unavailable"}).ok()
    act(org, mentees[0], formed, "ending", {"reason": "completed"}).ok()

    mine = org.organisation_id
    page = metrics_page()
    assert sample(page, "matching_proposals_total", organisation=mine, source="request",
                  outcome="proposed") == 2
    assert sample(page, "matching_proposals_total", organisation=mine, outcome="formed") == 1
    assert sample(page, "matching_proposals_total", organisation=mine,
                  outcome="declined") == 1
    assert sample(page, "matching_pairs_formed_total", organisation=mine) == 1
    assert sample(page, "matching_pairs_ended_total", organisation=mine,
                  reason="completed") == 1

    def pool() -> tuple[float, float]:
        gauges = metrics_page()  # refreshed every few seconds: both from one refresh
        return (sample(gauges, "matching_pool_size", organisation=mine, role="mentee"),
                sample(gauges, "matching_pool_size", organisation=mine, role="mentor"))

    wait_until(lambda: pool() == (2, 1), timeout=20, what="the pool-size gauges")
    # Organisations are the tenants; no member, no pair is ever a label (R8).
    for private in (*mentees, mentor, formed, declined):
        assert private not in page
