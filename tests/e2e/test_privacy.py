"""R8: personal data never travels in plaintext on Kafka, in logs or in metric labels.

A member is registered and changed with marker values; then the raw bytes of the
identity topic, every log file of the stack, every metrics page and identity's
own tables are searched for them.
"""

from __future__ import annotations

import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from kafka import KafkaConsumer

from services.eventcore import settings as stack_settings
from services.eventcore import topics
from services.gateway.client import PartnerApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def marked(operator: PartnerApi) -> dict[str, object]:
    tag = uuid.uuid4().hex[:10]
    markers = {
        "name": f"Marker{tag}Name",
        "email": f"marker{tag}@example.org",
        "expectations": f"Marker{tag}Expectations",
        "bio": f"Marker{tag}Bio",
        "new_name": f"Marker{tag}Renamed",
    }
    org = operator.register_organisation(f"Marker{tag}Organisation")
    member = org.register_member("mentee", email=markers["email"], display_name=markers["name"],
                                 expectations=markers["expectations"], bio=markers["bio"])
    org.as_member(member).accept_charter().ok()
    org.call("PATCH", f"/v1/members/{member}", json={"display_name": markers["new_name"]}).ok()
    org.get(f"/v1/members/{member}/export").ok()  # reads and logs, if anything logged
    return {"member": member, "markers": [*markers.values(), f"Marker{tag}Organisation"],
            "tag": tag}


def topic_bytes(topic: str) -> list[tuple[bytes | None, bytes]]:
    conf = stack_settings.load()
    consumer = KafkaConsumer(bootstrap_servers=conf.kafka_bootstrap, enable_auto_commit=False)
    try:
        partitions = topics.partitions_of(consumer, topic)
        ends = consumer.end_offsets(partitions)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [(r.key, r.value) for r in topics.read_until(consumer, ends, poll_ms=1000)]
    finally:
        consumer.close()


def test_the_identity_topic_carries_ciphertext_only(marked):
    from services.eventcore.testing import wait_until

    member = str(marked["member"]).encode()
    records = wait_until(
        lambda: (lambda rs: rs if sum(1 for k, _ in rs if k == member) >= 3 else None)(
            topic_bytes("identity.events")),
        timeout=30, what="the member's three events on Kafka")
    ours = [value for key, value in records if key == member]
    assert any(b"enc:v1:member-" in value for value in ours), "her values travel sealed"
    everything = b"\n".join(value for _, value in records)
    for marker in marked["markers"]:
        assert marker.encode() not in everything, f"{marker} is on Kafka in plaintext"
        assert marker.lower().encode() not in everything.lower()


def test_no_log_of_the_stack_holds_her_data(marked):
    logs = sorted((ROOT / ".stack" / "logs").glob("*.log"))
    assert any(p.name == "gateway.log" for p in logs) and any(p.name == "identity.log"
                                                             for p in logs)
    for path in logs:
        text = path.read_text(errors="replace").lower()
        for marker in marked["markers"]:
            assert marker.lower() not in text, f"{marker} in {path.name}"


def test_no_metric_label_holds_her_data_or_her_id(marked):
    conf = stack_settings.load()
    pages = [f"http://127.0.0.1:{conf.gateway_port}/metrics", "http://127.0.0.1:9111/metrics"]
    for url in pages:
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode().lower()
        for marker in marked["markers"]:
            assert marker.lower() not in text, f"{marker} in {url}"
        assert str(marked["member"]) not in text, f"a member id is a label in {url}"


def test_identity_stores_her_values_sealed(marked):
    conf = stack_settings.load()
    with psycopg.connect(conf.database_url("identity")) as conn:
        stored = conn.execute(
            "SELECT string_agg(data::text, ' ') FROM events WHERE stream_id = %s",
            (str(marked["member"]),)).fetchone()[0]
        row = conn.execute("SELECT row_to_json(m)::text FROM members m WHERE member_id = %s",
                           (str(marked["member"]),)).fetchone()[0]
    assert "enc:v1:member-" in stored
    for marker in marked["markers"]:
        assert marker.lower() not in stored.lower()
        assert marker.lower() not in row.lower()


def test_reports_and_decisions_travel_sealed_and_are_never_logged(org):
    """R8 for moderation: a report's details and a moderator's rationale are sealed on
    Kafka (sessions' and moderation's topics), and in no log or metrics page."""
    from services.eventcore.testing import wait_until
    from tests.e2e.moderation import case_of, enrol
    from tests.e2e.pairs import form_pair

    tag = uuid.uuid4().hex[:10]
    details, rationale = f"Marker{tag}Details", f"Marker{tag}Rationale"
    mentor, mentee = org.ready_member("mentor"), org.ready_member("mentee")
    pair = form_pair(org, mentor, org, mentee)
    org.as_member(mentee).post(f"/v1/pairs/{pair}/reports", {"details": details}).ok()
    moderator = enrol()
    (case,) = case_of(moderator, mentor)
    moderator.post(f"/v1/cases/{case['case_id']}/confirmations", {
        "reason": "services_offered", "rationale": rationale,
        "seen_version": case["version"]}).ok()
    assert moderator.get(f"/v1/cases/{case['case_id']}").ok()["votes_cast"][0][
        "rationale"] == rationale, "moderators read it"

    def vote_on_kafka() -> bool:
        from contracts import envelope

        return any(e.event_name == "ExclusionConfirmed" and e.subject == case["case_id"]
                   for e in (envelope.decode(v) for _, v in topic_bytes("moderation.events")))

    wait_until(vote_on_kafka, what="the vote on moderation.events")
    everything = b"\n".join(v for topic in ("sessions.events", "moderation.events")
                            for _, v in topic_bytes(topic))
    for marker in (details, rationale):
        assert marker.encode() not in everything, f"{marker} on Kafka in plaintext"
        for path in sorted((ROOT / ".stack" / "logs").glob("*.log")):
            assert marker not in path.read_text(errors="replace"), f"{marker} in {path.name}"
        for port in (9113, 9114):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as page:
                assert marker not in page.read().decode(), f"{marker} in :{port}/metrics"
