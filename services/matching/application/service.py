"""The matching service: nameko entrypoints, each a thin translation to a handler.

RPC methods take ``(actor, payload, **ids)`` (``servicekit.rpc``); the gateway
calls them on behalf of a partner organisation or one of its members. What a
member decides (asking for a mentor, accepting, declining, withdrawing, ending:
R9) she does acting as herself; an organisation sees its members' pairs and
scores, and proposes cohorts for its intake.

Kafka: the pool is projected from identity's events (profiles, charter versions
and acceptances, erasures, organisations' policies: R3) and moderation's
``MemberExcluded`` (R2); an exclusion or an erasure closes the member's open
pairs at once. A timer expires the proposals nobody answered in time, with the
clock tests control; another refreshes the pool-size gauges.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from contracts import catalogue
from contracts.api import matching as api
from services.eventcore.consumer import domain_event_handler
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.events import DomainEvent
from services.matching.application import handlers
from services.matching.application.mentor_index import MentorIndexCache
from services.matching.application.metrics import Tally, publish_pool_sizes
from services.matching.application.settings import MatchingSettings
from services.matching.storage import queries
from services.matching.storage.projections import FOREIGN, IDENTITY_EVENTS, OWN
from services.servicekit.actor import Actor
from services.servicekit.clock import ClockProvider
from services.servicekit.heap import StartupHeap
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rpc import command, internal, query
from services.servicekit.timers import configured_timer

log = logging.getLogger("matching")

(POOL,) = FOREIGN["identity"]

#: The mentor indexes this process keeps between suggestions (``mentor_index``).
MENTOR_INDEXES = MentorIndexCache()
(EXCLUSIONS,) = FOREIGN["moderation"]

#: Due proposals expired per sweep at most (the next sweep takes the rest).
SWEEP_BATCH = 200


class MatchingService:
    name = "matching"

    # Own events feed OWN in each command's transaction; the pool's read models are
    # created here and fed by the Kafka handlers below.
    uow = UnitOfWorkProvider(catalogue, projections=OWN,
                             tables=tuple(p.create for ps in FOREIGN.values() for p in ps))
    settings = MatchingSettings()
    clock = ClockProvider()
    metrics = ServiceMetrics()
    heap = StartupHeap()

    @internal
    def ping(self) -> str:
        """For health checks: the service answers RPC."""
        return "pong"

    # -- the pool (R2, R3) -------------------------------------------------------------

    @query()
    def get_eligibility(self, actor: Actor, payload: dict[str, Any],
                        member_id: str) -> dict[str, Any]:
        with self.uow() as uow:
            return handlers.member_eligibility(uow, actor, member_id)

    @query(api.SuggestionQuery)
    def suggest(self, actor: Actor, payload: dict[str, Any], mentee_id: str) -> dict[str, Any]:
        """For the mentee herself or her organisation."""
        with self.uow() as uow:
            return handlers.suggest(uow, self.settings, actor, mentee_id, payload.get("limit"),
                                    MENTOR_INDEXES)

    # -- requests and answers (R9) -------------------------------------------------------

    @command(api.RequestMentor)
    def request_mentor(self, actor: Actor, payload: dict[str, Any],
                       mentee_id: str) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.request_mentor(
            uow, tally.fresh(), self.settings, now, actor, mentee_id, payload["mentor_id"]))
        tally.publish()
        return result

    @command()
    def accept_pair(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.accept(uow, tally.fresh(), now, actor,
                                                          pair_id))
        tally.publish()
        return result

    @command(api.DeclineProposal)
    def decline_pair(self, actor: Actor, payload: dict[str, Any],
                     pair_id: str) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.decline(uow, tally.fresh(), now, actor,
                                                           pair_id, payload["reason"]))
        tally.publish()
        return result

    @command()
    def withdraw_pair(self, actor: Actor, payload: dict[str, Any],
                      pair_id: str) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.withdraw(uow, tally.fresh(), now, actor,
                                                            pair_id))
        tally.publish()
        return result

    @command(api.EndPair)
    def end_pair(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.end(uow, tally.fresh(), now, actor, pair_id,
                                                       payload["reason"]))
        tally.publish()
        return result

    # -- cohorts -------------------------------------------------------------------------

    @command(api.ProposeCohort)
    def propose_cohort(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        now, tally = self.clock.now(), Tally()
        result = self.uow.run(lambda uow: handlers.propose_cohort(
            uow, tally.fresh(), self.settings, now, actor, payload["dry_run"]))
        tally.publish()
        return result

    # -- reading pairs -------------------------------------------------------------------

    @query(api.PairQuery)
    def list_pairs(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        with self.uow() as uow:
            return handlers.list_pairs(uow, actor, payload)

    @query()
    def get_pair(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        with self.uow() as uow:
            return handlers.get_pair(uow, actor, pair_id)

    @query()
    def export_member(self, actor: Actor, payload: dict[str, Any],
                      member_id: str) -> dict[str, Any]:
        """Right of access: her eligibility and every proposal and pair she is in, for
        herself or her organisation (anyone else: no such member)."""
        with self.uow() as uow:
            return handlers.export_member(uow, actor, member_id)

    @query()
    def explain_pair(self, actor: Actor, payload: dict[str, Any],
                     pair_id: str) -> dict[str, Any]:
        """The proposal's record and its re-derivation, for an audit."""
        with self.uow() as uow:
            return handlers.explain(uow, actor, pair_id)

    # -- time: expiry, and the pool-size gauges ------------------------------------------

    @configured_timer("MATCHING_SWEEP_SECONDS", 30)
    def sweep(self) -> dict[str, int]:
        """Expire the proposals whose mentor (or members) did not answer in time; the
        mentee may then ask the next one."""
        now = self.clock.now()
        with self.uow() as uow:
            due = queries.due_proposals(uow.conn, now, SWEEP_BATCH)
        expired = 0
        for pair_id in due:
            try:
                expired += self._expire(pair_id, now)
            except Exception:  # one pair's failure must not stop the others' expiry
                log.exception("expiring a proposal failed; the next sweep tries again")
        return {"due": len(due), "expired": expired}

    @configured_timer("MATCHING_GAUGES_SECONDS", 5)
    def refresh_gauges(self) -> None:
        """Pool sizes per organisation and role (a few milliseconds of SQL)."""
        with self.uow() as uow:
            publish_pool_sizes(queries.pool_sizes(uow.conn))

    def _expire(self, pair_id: str, now: datetime) -> bool:
        tally = Tally()
        expired = self.uow.run(lambda uow: handlers.expire(uow, tally.fresh(), now, pair_id))
        tally.publish()
        return expired

    # -- Kafka: the pool, from identity and moderation -------------------------------------

    @domain_event_handler("identity", IDENTITY_EVENTS)
    def on_identity_event(self, event: DomainEvent) -> None:
        """R3: profiles, charter versions and acceptances, policies; an erasure closes
        her open pair at once."""
        now, tally = self.clock.now(), Tally()
        with self.uow() as uow:
            POOL.apply(uow.conn, event)
            if event.name == "PersonalDataErased":
                handlers.close_for_erasure(uow, tally, now, str(event.data["member_id"]))
        tally.publish()

    @domain_event_handler("moderation", "MemberExcluded")
    def on_member_excluded(self, event: DomainEvent) -> None:
        """R2: out of the pool for good, in every role she registered in, and each open
        pair of hers closes (``counterpart_excluded``): the other member is free again."""
        now, tally = self.clock.now(), Tally()
        with self.uow() as uow:
            EXCLUSIONS.apply(uow.conn, event)
            person = {str(event.data["member_id"]),
                      *queries.same_person(uow.conn, event.data["identity_fingerprint"])}
            freed = handlers.close_for_exclusion(uow, tally, now, sorted(person))
        tally.publish()
        if freed:
            log.info("exclusion %s: %d pair(s) closed", event.event_id, len(freed))
