"""Expiry in a real matching container, its sweep driven by a clock the test controls.

The service runs against a database, topics and a consumer group of its own (real
PostgreSQL, Kafka and RabbitMQ), with a ``ControlledClock`` on its ``ClockProvider``,
a request expiry of 3 days and its sweep every fraction of a second. Identity's
events reach it on the test's identity topic. The test walks the clock past a
request's answer time: the proposal expires once (not once per sweep), the mentee
may then ask the next mentor, and ``MatchExpired`` reaches the test's matching
topic through a real outbox relay.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from contracts.examples import example
from services.eventcore.testing import wait_until
from services.matching.application.service import MatchingService
from services.servicekit.actor import Actor
from services.servicekit.errors import ServiceError

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
EXPIRY_DAYS = 3
TICK = 0.2  # seconds between two sweeps

CONFIG = {"weights": {"topics": 4, "languages": 1.5, "modality": 1, "region": 1,
                      "capacity": 1.5, "organisation": 1},
          "request_expiry_days": EXPIRY_DAYS, "suggestions": 5}


@pytest.fixture
def world(isolated_service) -> dict[str, Any]:
    service = isolated_service(MatchingService, consumes=("identity", "moderation"), config={
        "MATCHING": CONFIG, "MATCHING_SWEEP_SECONDS": TICK, "MATCHING_GAUGES_SECONDS": 60,
    }, clock_start=START)

    def publish(name: str, version: int, subject: str, data: dict[str, Any]) -> None:
        service.publish("identity", name, version, subject, data)

    def call(method: str, actor: Actor, payload: Any = None, **ids: str) -> Any:
        return service.call(method, actor.to_dict(), payload, **ids)

    return {"clock": service.clock, "publish": publish, "store_events": service.store_events,
            "topic_events": service.topic_events, "call": call,
            "sweep": lambda: service.call("sweep")}


def ready_member(world: dict[str, Any], organisation: str, role: str,
                 version: int = 2) -> str:
    """``MemberRegistered`` (v1: read upcast, either modality and one place) and
    ``CharterAccepted`` for a new member, as identity publishes them (each person her
    own fingerprint)."""
    member = str(uuid.uuid4())
    registered = example("MemberRegistered", version) | {
        "member_id": member, "organisation_id": organisation, "role": role,
        "identity_fingerprint": f"fp:v1:platform-1:{secrets.token_hex(32)}"}
    if version == 2:
        registered |= {"preferred_modality": "remote", "region": None,
                       "capacity": 1 if role == "mentor" else None}
    accepted = example("CharterAccepted", 1) | {
        "member_id": member, "role": role,
        "commitments": example("CharterPublished", 1)[f"{role}_commitments"]}
    world["publish"]("MemberRegistered", version, member, registered)
    world["publish"]("CharterAccepted", 1, member, accepted)
    return member


def proposals_expired(organisation: str) -> float:
    return REGISTRY.get_sample_value("matching_proposals_total", {
        "organisation": organisation, "source": "request", "outcome": "expired"}) or 0.0


def test_an_unanswered_request_expires_once_and_the_mentee_asks_the_next_mentor(world):
    call, clock = world["call"], world["clock"]
    organisation = str(uuid.uuid4())
    charter = example("CharterPublished", 1)
    world["publish"]("CharterPublished", 1, charter["charter_id"], charter)
    mentee = ready_member(world, organisation, "mentee")
    first = ready_member(world, organisation, "mentor")
    second = ready_member(world, organisation, "mentor", version=1)
    admin = Actor.organisation(organisation)
    as_mentee = Actor.member(organisation, mentee, "mentee")
    as_first = Actor.member(organisation, first, "mentor")

    def eligible(member: str) -> bool:
        try:
            return call("get_eligibility", admin, None, member_id=member)["eligible"]
        except ServiceError:
            return False  # not read yet

    for member in (mentee, first, second):
        wait_until(lambda m=member: eligible(m), timeout=30, what="the pool to read identity")

    # She asks the first mentor: the answer is due in three days.
    pair = call("request_mentor", as_mentee, {"mentor_id": first}, mentee_id=mentee)
    assert pair["state"] == "proposed"
    assert datetime.fromisoformat(pair["expires_at"]) == START + timedelta(days=EXPIRY_DAYS)
    with pytest.raises(ServiceError) as busy:
        call("request_mentor", as_mentee, {"mentor_id": second}, mentee_id=mentee)
    assert busy.value.status == 409

    # Two days on, the sweeps find nothing due.
    clock.advance(days=2)
    assert world["sweep"]() == {"due": 0, "expired": 0}
    assert world["store_events"]("MatchExpired") == 0

    # Past the answer time: the timer alone expires it, once.
    clock.advance(days=1, minutes=1)
    wait_until(lambda: world["store_events"]("MatchExpired") == 1, timeout=10,
               what="the sweep to expire the request")
    assert call("get_pair", admin, None, pair_id=pair["pair_id"])["state"] == "expired"
    with pytest.raises(ServiceError) as late:
        call("accept_pair", as_first, None, pair_id=pair["pair_id"])
    assert late.value.status == 409
    assert proposals_expired(organisation) == 1
    clock.advance(days=5)  # more sweeps: still one expiry
    wait_until(lambda: call("get_eligibility", admin, None, member_id=first)["free_places"]
               == 1, timeout=10, what="the first mentor's place to be free")
    assert world["store_events"]("MatchExpired") == 1

    # She asks the next one.
    following = call("request_mentor", as_mentee, {"mentor_id": second}, mentee_id=mentee)
    assert following["state"] == "proposed" and following["mentor_id"] == second
    recorded = call("explain_pair", admin, None, pair_id=following["pair_id"])["inputs"]
    assert (recorded["mentor"]["preferred_modality"], recorded["mentor"]["capacity"]) == (
        "either", 1), "a v1 registration, read upcast"

    # On the test's matching topic, through the relay: the expiry, once.
    seen = wait_until(lambda: (lambda s: s if s["MatchProposed"] >= 2 else None)(
        world["topic_events"]()), timeout=30, what="the relay to publish")
    assert seen["MatchExpired"] == 1
