"""The sessions service: nameko entrypoints, each a thin translation to a handler.

RPC methods take ``(actor, payload, **ids)`` (``servicekit.rpc``); the gateway
calls them on behalf of a partner organisation or one of its members. What is
about a pair is for its two members acting as themselves (R8, R9); a pair's
organisations see its state and counts, never its texts.

Kafka: a pair's stream opens on matching's ``PairFormed`` (each member's
organisation from it, or for a v1 event from identity's ``MemberRegistered``),
closes on matching's ``PairEnded`` or moderation's ``MemberExcluded`` (R2). A
timer checks the cadence of open pairs (R7) with the clock tests control.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

from nameko.rpc import RpcProxy

from contracts import catalogue
from contracts.api import sessions as api
from services.eventcore.consumer import domain_event_handler
from services.eventcore.database import UnitOfWork, UnitOfWorkProvider
from services.eventcore.events import DomainEvent
from services.servicekit.actor import Actor
from services.servicekit.clock import ClockProvider
from services.servicekit.heap import StartupHeap
from services.servicekit.keys import KeyringProvider
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rpc import command, internal, query
from services.servicekit.timers import configured_timer
from services.sessions.application import handlers, metrics, moderators, views
from services.sessions.application.handlers import PairCommands, new_id
from services.sessions.application.moderators import seal_for_moderators
from services.sessions.domain import (
    HeldSessionRow,
    ObjectiveRow,
    PairRow,
    no_such_pair,
    organisation_report,
)
from services.sessions.storage import queries
from services.sessions.storage.projections import MemberDirectory, PairsReadModel

log = logging.getLogger("sessions")

READ_MODEL = PairsReadModel()
DIRECTORY = MemberDirectory()


class SessionsService:
    name = "sessions"

    uow = UnitOfWorkProvider(catalogue, projections=(READ_MODEL, DIRECTORY),
                             tables=(moderators.install,))
    keyring = KeyringProvider()
    clock = ClockProvider()
    metrics = ServiceMetrics()
    heap = StartupHeap()
    #: Only for the moderators' public key (R8: report details are sealed with it).
    moderation = RpcProxy("moderation")

    @internal
    def ping(self) -> str:
        """For health checks: the service answers RPC."""
        return "pong"

    # -- the pair's state: its members and, without text, its organisations ----------------

    @query(api.PairQuery)
    def list_pairs(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        """A member's pairs, or an organisation's (states only)."""
        actor.in_organisation()
        with self.uow() as uow:
            rows, total = queries.pairs(uow.conn, actor, payload.get("status"),
                                        payload.get("overdue"), payload["limit"],
                                        payload["offset"])
            return {"items": [views.pair_summary(r) for r in rows], "total": total}

    @query()
    def get_pair(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        """R7: the cadence state is the pair's and its organisations' to see."""
        actor.in_organisation()
        with self.uow() as uow:
            row = queries.visible_pair(uow.conn, actor, pair_id)
            if row is None:
                raise no_such_pair()
            return views.pair(row, queries.plan_history(uow.conn, pair_id),
                              queries.sessions(uow.conn, pair_id),
                              queries.counts(uow.conn, pair_id))

    @query()
    def export_member(self, actor: Actor, payload: dict[str, Any],
                      member_id: str) -> dict[str, Any]:
        """Right of access: every pair she is in; its texts only when she asks herself
        (R8), the states for her organisation; anyone else: no such member."""
        with self.uow() as uow:
            return handlers.export_member(uow, self.keyring, actor, member_id)

    # -- R5: the meeting plan --------------------------------------------------------------

    @command(api.RecordMeetingPlan)
    def record_meeting_plan(self, actor: Actor, payload: dict[str, Any],
                            pair_id: str) -> dict[str, Any]:
        return self._pair_command(lambda c: c.record_meeting_plan(actor, pair_id, payload))[0]

    # -- R6, R9: sessions ------------------------------------------------------------------

    @command(api.ScheduleSession)
    def schedule_session(self, actor: Actor, payload: dict[str, Any],
                         pair_id: str) -> dict[str, Any]:
        session_id = new_id()
        return self._pair_command(
            lambda c: c.schedule_session(actor, pair_id, payload, session_id))[0]

    @command(api.RecordSessionHeld)
    def record_held_session(self, actor: Actor, payload: dict[str, Any],
                            pair_id: str) -> dict[str, Any]:
        """A session that took place without having been scheduled here."""
        return self._held(actor, payload, pair_id, new_id(), scheduled=False)

    @command(api.RecordSessionHeld)
    def record_session_held(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                            session_id: str) -> dict[str, Any]:
        """A scheduled session took place."""
        return self._held(actor, payload, pair_id, session_id, scheduled=True)

    def _held(self, actor: Actor, payload: dict[str, Any], pair_id: str,
              session_id: str, scheduled: bool) -> dict[str, Any]:
        result, commands = self._pair_command(
            lambda c: c.record_session_held(actor, pair_id, payload, session_id, scheduled))
        metrics.session_held(commands.organisations)
        return result

    @command()
    def confirm_session(self, actor: Actor, payload: Any, pair_id: str,
                        session_id: str) -> dict[str, Any]:
        """R9: the other member's word beside the one who recorded it."""
        return self._pair_command(lambda c: c.confirm_session(actor, pair_id, session_id))[0]

    @command(api.CancelSession)
    def cancel_session(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                       session_id: str) -> dict[str, Any]:
        return self._pair_command(
            lambda c: c.cancel_session(actor, pair_id, session_id, payload))[0]

    # -- R4, R10: objectives and action items ----------------------------------------------

    @command(api.StateObjective)
    def state_objective(self, actor: Actor, payload: dict[str, Any],
                        pair_id: str) -> dict[str, Any]:
        objective_id = new_id()
        return self._pair_command(
            lambda c: c.state_objective(actor, pair_id, payload, objective_id))[0]

    @command(api.ReviseObjective)
    def revise_objective(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                         objective_id: str) -> dict[str, Any]:
        return self._pair_command(
            lambda c: c.revise_objective(actor, pair_id, objective_id, payload))[0]

    @command()
    def achieve_objective(self, actor: Actor, payload: Any, pair_id: str,
                          objective_id: str) -> dict[str, Any]:
        return self._pair_command(
            lambda c: c.achieve_objective(actor, pair_id, objective_id))[0]

    @command(api.CommentObjective)
    def comment_objective(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                          objective_id: str) -> dict[str, Any]:
        comment_id = new_id()
        return self._pair_command(
            lambda c: c.comment_objective(actor, pair_id, objective_id, payload, comment_id))[0]

    @command(api.AddActionItem)
    def add_action_item(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                        objective_id: str) -> dict[str, Any]:
        item_id = new_id()
        return self._pair_command(
            lambda c: c.add_action_item(actor, pair_id, objective_id, payload, item_id))[0]

    @command(api.ChangeActionItemState)
    def change_action_item_state(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                                 action_item_id: str) -> dict[str, Any]:
        return self._pair_command(
            lambda c: c.change_action_item_state(actor, pair_id, action_item_id, payload))[0]

    @query()
    def list_objectives(self, actor: Actor, payload: dict[str, Any],
                        pair_id: str) -> dict[str, Any]:
        """R4, R8: the mentee's words, for the pair only."""
        with self.uow() as uow:
            self._own_pair(uow, actor, pair_id)
            return views.Texts(uow.conn, self.keyring).objectives(
                queries.objectives(uow.conn, pair_id),
                queries.objective_revisions(uow.conn, pair_id),
                queries.objective_comments(uow.conn, pair_id),
                queries.action_items(uow.conn, pair_id))

    # -- R8, R11: notes and feedback -------------------------------------------------------

    @command(api.AddNote)
    def add_note(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        note_id = new_id()
        return self._pair_command(lambda c: c.add_note(actor, pair_id, payload, note_id))[0]

    @query(api.TextPage)
    def list_notes(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        with self.uow() as uow:
            self._own_pair(uow, actor, pair_id)
            page = queries.notes(uow.conn, pair_id, payload["limit"], payload["offset"])
            return {**views.Texts(uow.conn, self.keyring).notes(page),
                    "total": queries.count(uow.conn, "notes", pair_id)}

    @command(api.GiveFeedback)
    def give_feedback(self, actor: Actor, payload: dict[str, Any], pair_id: str,
                      session_id: str) -> dict[str, Any]:
        feedback_id = new_id()
        return self._pair_command(
            lambda c: c.give_feedback(actor, pair_id, session_id, payload, feedback_id))[0]

    @query(api.TextPage)
    def list_feedback(self, actor: Actor, payload: dict[str, Any],
                      pair_id: str) -> dict[str, Any]:
        with self.uow() as uow:
            self._own_pair(uow, actor, pair_id)
            page = queries.feedback(uow.conn, pair_id, payload["limit"], payload["offset"])
            return {**views.Texts(uow.conn, self.keyring).feedback(page),
                    "total": queries.count(uow.conn, "feedback", pair_id)}

    # -- R1/R2: reports of commercial solicitation -----------------------------------------

    @command(api.ReportSolicitation)
    def report_solicitation(self, actor: Actor, payload: dict[str, Any],
                            pair_id: str) -> dict[str, Any]:
        """Either member reports the other (R9); the details are sealed for moderators
        before the transaction starts (an RPC is no thing to hold a transaction for)."""
        actor.as_member()
        # Aside: reading the moderators' key must not take the command's mark (if the
        # process died before the report committed, its redelivery must file it).
        sealed = seal_for_moderators(self.uow.aside, self.moderation.public_key,
                                     payload["details"])
        report_id = new_id()
        result = self._pair_command(
            lambda c: c.report_solicitation(actor, pair_id, payload, sealed, report_id))[0]
        metrics.REPORTS_FILED.inc()
        return result

    # -- the programme report for partners -------------------------------------------------

    @query()
    def programme_report(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        """Aggregates only, k-anonymous (no figure for fewer than 3 pairs)."""
        organisation_id = actor.as_admin()
        with self.uow() as uow:
            pairs = [PairRow(r["pair_id"], frozenset({r["mentor_organisation_id"],
                                                      r["mentee_organisation_id"]}),
                             r["status"] == "closed", r["overdue"])
                     for r in queries.report_pairs(uow.conn, organisation_id)]
            held = [HeldSessionRow(r["pair_id"], r["started_at"])
                    for r in queries.report_held_sessions(uow.conn, organisation_id)]
            objectives = [ObjectiveRow(r["pair_id"], r["achieved"])
                          for r in queries.report_objectives(uow.conn, organisation_id)]
        return organisation_report(organisation_id, pairs, held, objectives).to_json()

    # -- R7: cadence -----------------------------------------------------------------------

    @configured_timer("CADENCE_CHECK_SECONDS", default=60.0)
    def run_cadence_check(self) -> None:
        self._check_cadence()

    @internal
    def check_cadence(self) -> dict[str, int]:
        """Check every open pair now (what the timer does; for operators and tests)."""
        return self._check_cadence()

    def _check_cadence(self) -> dict[str, int]:
        now = self.clock.now()
        with self.uow() as uow:
            candidates = queries.cadence_candidates(uow.conn, now.astimezone(UTC).date())
        became = failed = 0
        for pair_id in candidates:
            try:
                if self.uow.run(lambda uow, p=pair_id: handlers.check_cadence(uow, p, now)):
                    became += 1
            except Exception:  # one pair's failure never stops the others' checks
                failed += 1
                log.error("cadence check of pair %s failed", pair_id, exc_info=True)
        with self.uow() as uow:
            metrics.publish_overdue(queries.overdue_by_organisation(uow.conn))
        return {"checked": len(candidates), "became_overdue": became, "failed": failed}

    # -- Kafka: pairs open and close with other contexts' events ---------------------------

    @domain_event_handler("identity", "MemberRegistered")
    def on_member_registered(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            DIRECTORY.apply(uow.conn, event)
            handlers.open_awaiting(uow, event.data["member_id"])

    @domain_event_handler("identity", ("CharterPublished", "CharterAccepted"))
    def on_charter(self, event: DomainEvent) -> None:
        """R3: who holds sessions under the charter in force."""
        with self.uow() as uow:
            DIRECTORY.apply(uow.conn, event)

    @domain_event_handler("identity", "PersonalDataErased")
    def on_personal_data_erased(self, event: DomainEvent) -> None:
        """Crypto-shredding reaches sessions: what she wrote for her pairs is unreadable
        from now on, for her counterpart too (R8 texts; events never rewritten)."""
        d = catalogue.validate(event.name, event.version, event.data)
        with self.uow() as uow:
            handlers.erase_member_texts(uow, self.keyring, d["member_id"])

    @domain_event_handler("matching", "PairFormed")
    def on_pair_formed(self, event: DomainEvent) -> None:
        d = catalogue.validate(event.name, event.version, event.data)
        with self.uow() as uow:
            handlers.open_pair(uow, d["pair_id"], d["mentor_id"], d["mentee_id"],
                               d["formed_at"], d.get("mentor_organisation_id"),
                               d.get("mentee_organisation_id"))

    @domain_event_handler("matching", "PairEnded")
    def on_pair_ended(self, event: DomainEvent) -> None:
        d = catalogue.validate(event.name, event.version, event.data)
        with self.uow() as uow:
            handlers.end_pair(uow, d["pair_id"], d["reason"], d["ended_by"], d["ended_at"])

    @domain_event_handler("moderation", "MemberExcluded")
    def on_member_excluded(self, event: DomainEvent) -> None:
        """R2: every open pair of hers closes; its sessions to come are cancelled."""
        d = catalogue.validate(event.name, event.version, event.data)
        with self.uow() as uow:
            handlers.exclude_member(uow, d["member_id"], d["excluded_at"])

    # -- helpers ---------------------------------------------------------------------------

    def _pair_command(self, call: Callable[[PairCommands], dict[str, Any]]
                      ) -> tuple[dict[str, Any], PairCommands]:
        """``call`` on a pair in a transaction (retried on a concurrency conflict),
        with the time of the request (one ``now`` for every attempt)."""
        now = self.clock.now()
        done: list[PairCommands] = []

        def decide(uow: UnitOfWork) -> dict[str, Any]:
            commands = PairCommands(uow, self.keyring, now)
            result = call(commands)
            done[:] = [commands]
            return result

        result = self.uow.run(decide)
        return result, done[0]

    def _own_pair(self, uow: UnitOfWork, actor: Actor, pair_id: str) -> dict[str, Any]:
        """R8: the pair's texts are for one of its members acting as herself; anyone
        else gets what a missing pair gets."""
        actor.as_member()
        row = queries.visible_pair(uow.conn, actor, pair_id)
        if row is None:
            raise no_such_pair()
        return row
