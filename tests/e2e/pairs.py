"""Pairs for the sessions tests, announced the way matching announces them: a
``PairFormed`` CloudEvent on ``matching.events``, published by the test.

Why not through matching's API: the sessions tests need pairs formed weeks ago
(R5, R7 count from the formation), which no real request can backdate, and they
test sessions' side of the contract, the event as consumed. The path through
matching's API, end to end, is ``test_story``'s, ``test_member_export``'s and the
isolation world's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from kafka import KafkaProducer

from contracts import envelope
from services.eventcore import settings as stack_settings
from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi


def publish(name: str, data: dict[str, object], pair_id: str, version: int,
            partner_org: str, schema_version: int = 1) -> None:
    """One of matching's events about ``pair_id`` (``version``: the stream's), on
    ``matching.events``."""
    conf = stack_settings.load()
    event = envelope.CloudEvent.new(
        context="matching", name=name, version=schema_version, subject=pair_id, data=data,
        aggregate_version=version, partner_org=partner_org)
    producer = KafkaProducer(bootstrap_servers=conf.kafka_bootstrap, acks="all")
    try:
        producer.send(conf.topic("matching"), key=pair_id.encode(),
                      value=envelope.encode(event)).get(timeout=30)
    finally:
        producer.close()


def form_pair(mentor_org: PartnerApi, mentor_id: str, mentee_org: PartnerApi, mentee_id: str,
              formed_ago: timedelta = timedelta(0), schema_version: int = 2) -> str:
    """A pair of these two members, formed ``formed_ago`` before now; returns its id
    once the sessions service answers for it (to the mentee).

    ``PairFormed`` v2 names both organisations, as matching publishes it; v1 names
    none (the sessions service then finds them from identity's members)."""
    pair_id = str(uuid.uuid4())
    formed_at = datetime.now(UTC) - formed_ago
    assert mentee_org.organisation_id and mentor_org.organisation_id
    data: dict[str, object] = {"pair_id": pair_id, "mentor_id": mentor_id,
                               "mentee_id": mentee_id, "formed_at": formed_at.isoformat()}
    if schema_version == 2:
        data.update(mentor_organisation_id=mentor_org.organisation_id,
                    mentee_organisation_id=mentee_org.organisation_id)
    publish("PairFormed", data, pair_id, version=1, partner_org=mentee_org.organisation_id,
            schema_version=schema_version)
    as_mentee = mentee_org.as_member(mentee_id)
    wait_until(lambda: as_mentee.get(f"/v1/pairs/{pair_id}").status == 200, timeout=30,
               what="the sessions service to open the pair")
    return pair_id


def end_pair(mentee_org: PartnerApi, pair_id: str, ended_by: str,
             reason: str = "completed") -> None:
    """matching's ``PairEnded`` (R9: either member ends the pair)."""
    assert mentee_org.organisation_id
    publish("PairEnded", {"pair_id": pair_id, "reason": reason, "ended_by": ended_by,
                          "ended_at": datetime.now(UTC).isoformat()},
            pair_id, version=2, partner_org=mentee_org.organisation_id)
