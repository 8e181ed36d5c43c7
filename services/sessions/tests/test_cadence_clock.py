"""R7 in a real sessions container, its cadence driven by a clock the test controls.

The service runs against a database, topics and a consumer group of its own (real
PostgreSQL, Kafka and RabbitMQ), with a ``ControlledClock`` on its ``ClockProvider``
and its timer every fraction of a second. The test walks the clock across a 46-day
gap and back: the pair becomes overdue once (not once per check), and recovers
once, when a session is held; both events are read on the test's own sessions
topic, where a real outbox relay publishes them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from nameko.testing.services import entrypoint_hook
from prometheus_client import REGISTRY

from contracts.examples import example
from services.eventcore.testing import wait_until
from services.servicekit.actor import Actor
from services.sessions.application.service import SessionsService
from services.sessions.storage import queries

#: The pair is formed on a Monday morning (UTC).
FORMED = datetime(2026, 1, 5, 10, tzinfo=UTC)
TICK = 0.2  # seconds between two checks of the timer


@pytest.fixture
def world(isolated_service) -> dict[str, Any]:
    service = isolated_service(
        SessionsService, consumes=("identity", "matching", "moderation"),
        config={"CADENCE_CHECK_SECONDS": TICK}, clock_start=FORMED)
    def charter_current(member_id: str) -> bool:
        with psycopg.connect(service.database_url) as conn:
            return queries.charter_is_current(conn, member_id)

    return {"container": service.container, "clock": service.clock,
            "publish": service.publish, "store_events": service.store_events,
            "topic_events": service.topic_events, "sessions_topic": service.topics["sessions"],
            "settings": service.settings, "charter_current": charter_current}


def member_registered(version: int, member_id: str, organisation_id: str,
                      role: str) -> dict[str, Any]:
    data = example("MemberRegistered", version)
    data.update(member_id=member_id, organisation_id=organisation_id, role=role)
    if version == 2 and role == "mentee":
        data.update(capacity=None)
    return data


def publish_charter(world: dict[str, Any], member_id: str, role: str) -> None:
    """R3: the charter in force, and her acceptance of it (sessions waits for it)."""
    published = example("CharterPublished", 1)
    world["publish"]("identity", "CharterPublished", 1, published["charter_id"], published)
    world["publish"]("identity", "CharterAccepted", 1, member_id, example(
        "CharterAccepted", 1) | {"member_id": member_id, "role": role,
                                 "commitments": published[f"{role}_commitments"]})


def overdue_gauge(organisation_id: str) -> float | None:
    return REGISTRY.get_sample_value("sessions_overdue_pairs",
                                     {"organisation": organisation_id})


def test_a_46_day_gap_makes_the_pair_overdue_once_and_a_session_restores_it_once(world):
    container, clock = world["container"], world["clock"]
    organisation = str(uuid.uuid4())
    mentor, mentee, pair_id = (str(uuid.uuid4()) for _ in range(3))

    # matching's PairFormed first, identity's members after (two topics, no order
    # between them): the pair waits for its members, then opens.
    world["publish"]("matching", "PairFormed", 1, pair_id, {
        "pair_id": pair_id, "mentor_id": mentor, "mentee_id": mentee,
        "formed_at": FORMED.isoformat()})
    world["publish"]("identity", "MemberRegistered", 2, mentor,
                     member_registered(2, mentor, organisation, "mentor"))
    world["publish"]("identity", "MemberRegistered", 1, mentee,  # v1, read upcast
                     member_registered(1, mentee, organisation, "mentee"))
    wait_until(lambda: world["store_events"]("PairOpened") == 1, what="the pair to open")
    publish_charter(world, mentor, "mentor")
    publish_charter(world, mentee, "mentee")
    wait_until(lambda: world["charter_current"](mentor) and world["charter_current"](mentee),
               what="sessions to know both accepted the charter")

    as_mentee = Actor.member(organisation, mentee, "mentee").to_dict()
    as_mentor = Actor.member(organisation, mentor, "mentor").to_dict()

    def call(method: str, actor: dict[str, Any], payload: Any = None, **ids: str) -> Any:
        with entrypoint_hook(container, method) as hook:
            return hook(actor, payload, **ids)

    # The first meeting, a day after the pair was formed: its plan (R5), its session.
    first_meeting = FORMED + timedelta(days=1)
    clock.set(first_meeting + timedelta(hours=2))
    call("record_meeting_plan", as_mentee, {
        "interval_days": 45, "preferred_modality": "remote",
        "first_meeting_on": first_meeting.date().isoformat(), "next_dates": []},
        pair_id=pair_id)
    call("record_held_session", as_mentor, {
        "started_at": first_meeting.isoformat(), "duration_minutes": 90,
        "modality": "remote"}, pair_id=pair_id)

    # Day 45 after it: due today, not overdue. The timer checks, and finds nothing.
    clock.set(first_meeting + timedelta(days=45, hours=12))

    def checked() -> dict[str, int]:
        with entrypoint_hook(container, "check_cadence") as hook:
            return hook()

    assert checked()["became_overdue"] == 0
    assert world["store_events"]("PairBecameOverdue") == 0

    # Day 46: overdue. The timer alone notices, within a few ticks.
    clock.set(first_meeting + timedelta(days=46, hours=1))
    wait_until(lambda: world["store_events"]("PairBecameOverdue") == 1, timeout=10,
               what="the timer to flag the overdue pair")
    wait_until(lambda: overdue_gauge(organisation) == 1, timeout=10,
               what="the gauge of overdue pairs of the organisation")
    # Checks go on (timer and by hand): still one event, not one per check.
    for _ in range(3):
        assert checked()["became_overdue"] == 0
    clock.advance(days=10)
    assert checked()["became_overdue"] == 0
    assert world["store_events"]("PairBecameOverdue") == 1

    # A session, 56 days after the last one: the pair is back within its interval.
    back = clock.now() - timedelta(hours=2)
    call("record_held_session", as_mentee, {
        "started_at": back.isoformat(), "duration_minutes": 60, "modality": "in_person"},
        pair_id=pair_id)
    assert world["store_events"]("PairCadenceRestored") == 1
    wait_until(lambda: overdue_gauge(organisation) == 0, timeout=10,
               what="the gauge to fall back to 0")
    clock.advance(days=44)
    assert checked()["became_overdue"] == 0

    # On the test's sessions topic, through the relay: exactly one of each.
    def published() -> Counter[str] | None:
        seen = world["topic_events"]()
        return seen if seen["PairCadenceRestored"] >= 1 else None

    seen = wait_until(published, timeout=30, what="the relay to publish the cadence events")
    assert seen["PairBecameOverdue"] == 1
    assert seen["PairCadenceRestored"] == 1
    assert seen["SessionHeld"] == 2 and seen["PairOpened"] == 1
