"""The pool in PostgreSQL decides as the domain's ``Pool`` does, whatever the order the
events arrive in (R2, R3).

Identity's streams (the charter, each member, each organisation) and moderation's
cases reach matching in no order relative to one another, and a rebuild reads a
topic partition by partition: the same events, interleaved at random (each
stream's own order kept), must leave the same tables, the same candidates and
the same eligibility as the domain's in-memory ``Pool`` folding them in order.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from contracts.examples import example
from services.eventcore.events import DomainEvent
from services.matching.domain.eligibility import eligibility
from services.matching.domain.pool import Pool
from services.matching.storage import queries
from services.matching.storage.projections import FOREIGN

PROJECTIONS = [p for ps in FOREIGN.values() for p in ps]
AT = "2026-03-02T09:00:00+00:00"


def fingerprint(rng: random.Random) -> str:
    return f"fp:v1:platform-1:{rng.getrandbits(256):064x}"


def history(rng: random.Random) -> list[tuple[str, str, str, dict[str, Any]]]:
    """``(context, stream, name, data)`` in each stream's order, streams concatenated."""
    org, other = str(uuid.UUID(int=rng.getrandbits(128))), str(uuid.UUID(
        int=rng.getrandbits(128)))
    charter = example("CharterPublished", 1)
    events: list[tuple[str, str, str, dict[str, Any]]] = [
        ("identity", charter["charter_id"], "CharterPublished", charter),
        ("identity", charter["charter_id"], "CharterPublished",
         charter | {"charter_version": 2}),
        ("identity", other, "OrganisationPolicyChanged",
         {"organisation_id": other, "matching_scope": "open", "changed_at": AT}),
        ("identity", other, "OrganisationPolicyChanged",
         {"organisation_id": other, "matching_scope": "own", "changed_at": AT}),
        ("identity", org, "OrganisationPolicyChanged",
         {"organisation_id": org, "matching_scope": "open", "changed_at": AT}),
    ]
    seller = fingerprint(rng)

    def member(role: str, organisation: str, accepted: tuple[int, ...] = (),
               person: str | None = None, erased: bool = False,
               updated: dict[str, Any] | None = None) -> str:
        member_id = str(uuid.UUID(int=rng.getrandbits(128)))
        registered = example("MemberRegistered", 2) | {
            "member_id": member_id, "organisation_id": organisation, "role": role,
            "identity_fingerprint": person or fingerprint(rng),
            "languages": rng.sample(["fr", "en", "de"], 2), "preferred_modality": "remote",
            "region": None, "capacity": rng.randint(1, 3) if role == "mentor" else None}
        events.append(("identity", member_id, "MemberRegistered", registered))
        for version in accepted:
            events.append(("identity", member_id, "CharterAccepted",
                           example("CharterAccepted", 1) | {
                               "member_id": member_id, "role": role,
                               "charter_version": version,
                               "commitments": charter[f"{role}_commitments"]}))
        if updated:
            events.append(("identity", member_id, "MemberProfileUpdated",
                           {"member_id": member_id, "updated_at": AT, **updated}))
        if erased:
            events.append(("identity", member_id, "PersonalDataErased", {
                "member_id": member_id, "key_id": f"member-{member_id}",
                "requested_by": "member", "erased_at": AT}))
        return member_id

    member("mentor", org, (1, 2), updated={"topics": ["leadership"], "capacity": 3})
    member("mentee", org, (1,))                        # stale: v2 published
    member("mentee", other, (2, 1))                    # an older acceptance changes nothing
    member("mentor", other)                            # never accepted
    member("mentee", org, (2,), erased=True,
           updated={"languages": ["es"]})
    excluded = member("mentor", org, (2,), person=seller)
    member("mentee", other, (2,), person=seller)       # the same person, other role
    case = str(uuid.uuid4())
    events.append(("moderation", case, "MemberExcluded", {
        "case_id": case, "member_id": excluded, "identity_fingerprint": seller,
        "permanent": True, "excluded_at": AT}))
    return events


def interleaved(rng: random.Random, events: list[Any]) -> list[Any]:
    """A random merge of the streams, each stream's order kept (as Kafka keeps it)."""
    streams: dict[str, list[Any]] = {}
    for event in events:
        streams.setdefault(event[1], []).append(event)
    queues = list(streams.values())
    merged = []
    while queues:
        queue = rng.choice(queues)
        merged.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return merged


def domain_event(context: str, stream: str, name: str, data: dict[str, Any]) -> DomainEvent:
    return DomainEvent(event_id=uuid.uuid4(), context=context, name=name, version=1,
                       stream_id=stream, stream_version=1, partner_org=None,
                       time=datetime.now(UTC), data=data)


def tables(conn: psycopg.Connection) -> dict[str, list[str]]:
    return {t: sorted(r[0] for r in conn.execute(sql.SQL(
        "SELECT row_to_json(x)::text FROM {} x").format(sql.Identifier(t))))
        for p in PROJECTIONS for t in p.tables}


@pytest.mark.parametrize("seed", range(4))
def test_any_order_of_the_events_gives_the_pool_the_domain_decides(seed, database_url):
    rng = random.Random(seed)
    events = history(rng)
    pool = Pool()
    for _, _, name, data in events:
        pool.apply(name, data)

    snapshots = []
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE pairs (mentor_id uuid, mentee_id uuid, state text)")
        # Each order replays on tables dropped in the same transaction: the version
        # bumps (deferred to commit) fire at once, or the drop would find them pending.
        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for order in (events, interleaved(rng, events), interleaved(rng, events)):
            for projection in PROJECTIONS:
                for table in projection.tables:
                    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                        sql.Identifier(table)))
                projection.create(conn)
            for event in order:
                for projection in PROJECTIONS:
                    projection.apply(conn, domain_event(*event))
            snapshots.append(tables(conn))
            charter = queries.current_charter(conn)
            assert charter == pool.charter_version == 2
            for member_id, expected in pool.members.items():
                stored = queries.candidate(conn, member_id)
                assert stored == expected, member_id
                assert eligibility(stored, charter) == pool.eligibility(member_id)
            assert queries.pool_sizes(conn) == pool.sizes()
    assert snapshots[0] == snapshots[1] == snapshots[2], "the same tables in any order"
    reasons = sorted(pool.eligibility(m).reasons for m in pool.members)
    assert reasons == sorted([(), ("charter_stale",), (), ("charter_not_accepted",),
                              ("erased",), ("excluded",), ("excluded",)]), \
        "the history covers each way in and out of the pool"
