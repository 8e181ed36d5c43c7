"""Helpers of the moderation tests: reports filed straight on Kafka, cases awaited.

``publish_report`` files a report the way the sessions service does (a
``CommercialSolicitationReported`` on ``sessions.events``, details sealed with the
moderators' public key), for tests that need a case without a pair's history.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer
from nameko.standalone.rpc import ClusterRpcProxy

from contracts import envelope
from services.eventcore import settings as stack_settings
from services.eventcore.testing import wait_until
from services.gateway.client import PartnerApi
from services.moderation.client import enrol, moderation_url, moderator_api
from services.servicekit.crypto import box_seal

__all__ = ["case_of", "enrol", "moderation_url", "moderator_api", "publish_report",
           "redeliver"]


def moderators_public_key() -> dict[str, str]:
    conf = stack_settings.load()
    with ClusterRpcProxy({"AMQP_URI": conf.amqp_uri}) as rpc:
        return rpc.moderation.public_key()


def publish_report(reporter_id: str, reported_id: str, organisation_id: str,
                   details: str = "She offered paid coaching sessions",
                   report_id: str | None = None, pair_id: str | None = None) -> dict[str, Any]:
    """A report as sessions publishes it; the returned data carries ``_raw``, the
    published bytes, for a test to deliver the very same event again."""
    key = moderators_public_key()
    pair_id = pair_id or str(uuid.uuid4())
    data = {
        "pair_id": pair_id,
        "report_id": report_id or str(uuid.uuid4()),
        "reporter_id": reporter_id,
        "reported_member_id": reported_id,
        "session_ids": [],
        "details": box_seal(key["public_key"], key["key_id"], details),
        "reported_at": datetime.now(UTC).isoformat(),
    }
    event = envelope.CloudEvent.new(context="sessions", name="CommercialSolicitationReported",
                                    version=2, subject=pair_id, data=data,
                                    aggregate_version=1, partner_org=organisation_id)
    raw = envelope.encode(event)
    redeliver(pair_id, raw)
    return {**data, "_raw": raw}


def redeliver(pair_id: str, raw: bytes) -> None:
    """Put these exact bytes on sessions' topic (a first delivery, or a redelivery)."""
    conf = stack_settings.load()
    producer = KafkaProducer(bootstrap_servers=conf.kafka_bootstrap, acks="all")
    try:
        producer.send(conf.topic("sessions"), key=pair_id.encode(), value=raw).get(timeout=30)
    finally:
        producer.close()


def case_of(moderator: PartnerApi, member_id: str, status: str | None = None,
            count: int = 1) -> list[dict[str, Any]]:
    """Her cases once ``count`` of them are listed (moderation consumes asynchronously)."""
    params = {"member_id": member_id, **({"status": status} if status else {})}

    def listed() -> list[dict[str, Any]] | None:
        items = moderator.get("/v1/cases", params=params).ok()["items"]
        return items if len(items) >= count else None

    return wait_until(listed, timeout=30, what=f"{count} case(s) of {member_id}")
