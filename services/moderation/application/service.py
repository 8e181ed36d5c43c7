"""The moderation service: reports become cases, moderators decide (R1, R2).

- Kafka: sessions' reports open or join cases; identity tells who is who (the
  fingerprint an exclusion carries); matching and sessions tell the states of
  pairs and sessions, for the view of a dispute as of a moment.
- HTTP (its own port): the moderator API, with moderators' own credentials.
- RPC: ``public_key``, with which other services seal report details (R8).

Every append is hash-chained (``storage.chain.ChainHook``), in its transaction.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from typing import Any

from nameko.dependency_providers import Config
from nameko.timer import timer
from prometheus_client import Counter, Gauge, Histogram

from contracts import catalogue
from services.eventcore.consumer import domain_event_handler
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.events import DomainEvent
from services.moderation.application import handlers, views
from services.moderation.application.routes import ROUTES
from services.moderation.domain.as_of import case_as_of, member_as_of
from services.moderation.domain.audit import audit_trail
from services.moderation.domain.case import Case
from services.moderation.domain.chain import first_broken, verify
from services.moderation.domain.decision import DecisionPolicy
from services.moderation.domain.routing import RouteKind
from services.moderation.storage import moderators, queries
from services.moderation.storage.chain import ChainHook, read_chain
from services.moderation.storage.projections import (
    FOREIGN,
    MATCHING_STATES,
    OWN,
    SESSIONS_STATES,
)
from services.servicekit import credentials, secrets
from services.servicekit.clock import ClockProvider
from services.servicekit.crypto import MODERATORS_KEY_ID
from services.servicekit.errors import NotFound, ServiceError, Unauthenticated
from services.servicekit.fairness import KnownCallers
from services.servicekit.heap import StartupHeap
from services.servicekit.http import ApiCall, ApiInfo, api
from services.servicekit.keys import KeyringProvider
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rate_limits import PartyRateLimits
from services.servicekit.rpc import IDEMPOTENCY_HEADER, answered_once, internal, translated

log = logging.getLogger("moderation")

(CASES,) = OWN
(DIRECTORY,) = FOREIGN["identity"]
EVIDENCE, SESSIONS_ACTIVITY = FOREIGN["sessions"]
(MATCHING_ACTIVITY,) = FOREIGN["matching"]

OPEN_CASES = Gauge("moderation_open_cases", "Cases waiting for a decision.")
DECISIONS = Counter("moderation_decisions", "Moderators' decisions, by kind and reason.",
                    ["decision", "reason"])
EXCLUSIONS = Counter("moderation_exclusions", "Members excluded for good (R2), by reason.",
                     ["reason"])
DECISION_LATENCY = Histogram(
    "moderation_decision_latency_seconds", "From a case's first report to its decision.",
    buckets=(60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400))
REPORTS = Counter("moderation_reports", "Reports received, by what they did.", ["route"])

INFO = ApiInfo(
    name="moderation",
    title="Mentoring platform — moderator API",
    version="1.0.0",
    description=(
        "Cases of commercial solicitation (R1) and their decisions (R2). Moderators send "
        "their own credential as 'Authorization: Bearer md_...' (a partner's API key is "
        "refused here). A confirmation takes effect when a second, different moderator "
        "concurs (four eyes); an exclusion is permanent and there is no reinstatement. "
        "Send the case version you read as seen_version: a decision on a case that "
        "changed since is refused, read it again. Errors are application/problem+json."
    ),
    credential="a moderator's credential (or the platform operator's)",
    idempotency_header=IDEMPOTENCY_HEADER,
    commands_here=True,  # decided in the HTTP worker's own units of work
)


class ModerationService:
    name = "moderation"

    # Own events feed OWN in each command's transaction; the FOREIGN read models are
    # created here and fed by the Kafka handlers below.
    uow = UnitOfWorkProvider(
        catalogue, projections=OWN, hooks=(ChainHook(),),
        tables=(moderators.install, *(p.create for ps in FOREIGN.values() for p in ps)))
    keyring = KeyringProvider()
    clock = ClockProvider()
    config = Config()
    metrics = ServiceMetrics()
    heap = StartupHeap()
    callers = KnownCallers()
    rate_limits = PartyRateLimits()

    @property
    def policy(self) -> DecisionPolicy:
        """Four eyes (R2): the quorum is configuration (``MODERATION.quorum``, default 2,
        never fewer: ``DecisionPolicy`` refuses it)."""
        section = dict(self.config.get("MODERATION") or {})
        return DecisionPolicy(quorum=int(section.get("quorum", 2)))

    # -- other services --------------------------------------------------------------

    @internal
    def public_key(self) -> dict[str, Any]:
        """The moderators' public key (X25519, base64): seal report details with it
        (``servicekit.crypto.box_seal``); the private half never leaves this service."""
        with self.uow() as uow:
            return {"key_id": MODERATORS_KEY_ID,
                    "public_key": self.keyring.box_public_key(uow.conn)}

    # -- Kafka -----------------------------------------------------------------------

    @domain_event_handler("sessions", "CommercialSolicitationReported")
    def on_report(self, event: DomainEvent) -> None:
        now = self.clock.now()
        with self.uow() as uow:
            EVIDENCE.apply(uow.conn, event)
            route = handlers.file_report(uow, now, event)
        REPORTS.labels(route=str(route)).inc()
        if route is not RouteKind.ALREADY:
            log.info("report %s: %s", event.data["report_id"], route)

    @domain_event_handler("identity", "MemberRegistered")
    def on_member_registered(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            DIRECTORY.apply(uow.conn, event)

    @domain_event_handler("matching", MATCHING_STATES)
    def on_matching_state(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            MATCHING_ACTIVITY.apply(uow.conn, event)

    @domain_event_handler("sessions", SESSIONS_STATES)
    def on_sessions_state(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            SESSIONS_ACTIVITY.apply(uow.conn, event)

    @timer(interval=15)
    def refresh_gauges(self) -> None:
        with self.uow() as uow:
            OPEN_CASES.set(queries.open_cases(uow.conn))

    # -- the moderator API ----------------------------------------------------------------

    @api(ROUTES, INFO)
    def handle(self, call: ApiCall) -> Any:
        route = call.route
        if route.operation_id == "health":
            with self.uow() as uow:
                uow.execute("SELECT 1")
            return {"status": "ok", "service": "moderation"}
        try:
            who = self._authenticate(call.credential)
        except ServiceError:  # revoked or made up: nobody's turn (servicekit.fairness)
            self.callers.forget(call.credential)
            raise
        self.callers.known(call.credential, who)  # its next requests: its slots
        self.rate_limits.charge(who)  # a 429 past its rate (servicekit.rate_limits)
        if route.acting == "operator" and who != "operator":
            raise ServiceError.make(403, "forbidden", "This is the platform operator's.")
        if route.acting == "moderator" and who == "operator":
            raise ServiceError.make(403, "forbidden", "The operator is not a moderator: use a "
                                    "moderator's credential.")
        with translated():
            return answered_once(lambda: getattr(self, f"_{route.target}")(who, call))

    def _authenticate(self, credential: str | None) -> str:
        """``"operator"`` or the moderator's id; a partner's key is refused like any
        stranger's (401)."""
        if secrets.is_operator(credential):
            return "operator"
        prefix = credentials.prefix_of(credential or "", credentials.MODERATOR)
        # Aside: a keyed command's mark is taken by the unit of work that decides.
        with self.uow.aside() as uow:
            account = moderators.by_prefix(uow.conn, prefix) if prefix else None
        if account is None or not credentials.matches(credential or "", account[1]):
            raise ServiceError.from_domain(Unauthenticated(
                "Unknown or revoked moderator credential.", field="Authorization"))
        return account[0]

    def _enrol_moderator(self, who: str, call: ApiCall) -> dict[str, Any]:
        moderator_id = str(uuid.uuid4())
        issued = credentials.new_key(credentials.MODERATOR)
        with self.uow() as uow:
            sealed = self.keyring.seal(uow.conn, f"moderator-{moderator_id}",
                                       call.payload["display_name"])
            moderators.enrol(uow.conn, moderator_id, sealed, issued.prefix,
                             issued.secret_sha256)
        return {"moderator_id": moderator_id, "credential": issued.key}

    def _revoke_moderator(self, who: str, call: ApiCall) -> dict[str, Any]:
        """R8: report details are for moderators only; one who left stops reading them
        at once (``_authenticate`` reads the account on every request)."""
        _ = call.payload  # none, or {}: any field is named (422)
        moderator_id = call.ids["moderator_id"]
        with self.uow() as uow:
            revoked_at = moderators.revoke(uow.conn, moderator_id)
            if revoked_at is None:  # inside: a keyed request's mark goes with it
                raise NotFound("No such moderator.", field="moderator_id")
        log.warning("moderator %s: credential revoked by the operator", moderator_id)
        return {"moderator_id": moderator_id, "revoked_at": revoked_at.isoformat()}

    def _list_cases(self, who: str, call: ApiCall) -> dict[str, Any]:
        q = call.payload
        with self.uow() as uow:
            rows, total = queries.cases(uow.conn, q.get("status"),
                                        str(q["member_id"]) if q.get("member_id") else None,
                                        q["limit"], q["offset"])
        return {"items": [views.summary_row(r) for r in rows], "total": total}

    def _loaded(self, uow: Any, case_id: str) -> Case:
        case = uow.get(Case, case_id)
        if case is None:
            raise NotFound("No such case.", field="case_id")
        return case

    def _get_case(self, who: str, call: ApiCall) -> dict[str, Any]:
        with self.uow() as uow:
            snapshot = self._loaded(uow, call.ids["case_id"]).snapshot()
            evidence = queries.evidence(uow.conn, [r.report_id for r in snapshot.reports])
            return views.case(uow.conn, self.keyring, snapshot, evidence, self.policy)

    def _confirm_case(self, who: str, call: ApiCall) -> dict[str, Any]:
        now, policy, payload = self.clock.now(), self.policy, call.payload
        case = self.uow.run(lambda uow: handlers.confirm(
            uow, self.keyring, now, policy, who, call.ids["case_id"], payload))
        snapshot = case.snapshot()
        DECISIONS.labels(decision="confirm", reason=payload["reason"]).inc()
        if snapshot.excluded:
            self._decided(snapshot)
            EXCLUSIONS.labels(reason=snapshot.reason or "unknown").inc()
        return views.decision(snapshot, policy)

    def _dismiss_case(self, who: str, call: ApiCall) -> dict[str, Any]:
        now, payload = self.clock.now(), call.payload
        case = self.uow.run(lambda uow: handlers.dismiss(
            uow, self.keyring, now, who, call.ids["case_id"], payload))
        snapshot = case.snapshot()
        DECISIONS.labels(decision="dismiss", reason=payload["reason"]).inc()
        self._decided(snapshot)
        return views.decision(snapshot, self.policy)

    def _decided(self, snapshot: Any) -> None:
        latency = snapshot.decision_latency
        if latency is not None:
            DECISION_LATENCY.observe(latency.total_seconds())

    def _reinstate(self, who: str, call: ApiCall) -> dict[str, Any]:
        _ = call.payload  # a malformed body is still named (422) before R2 refuses
        log.warning("moderator %s attempted a reinstatement on case %s (refused, R2)", who,
                    call.ids["case_id"])
        with self.uow() as uow:
            handlers.reinstate(uow, who, call.ids["case_id"])
        raise AssertionError("reinstatement is always refused")

    def _case_audit(self, who: str, call: ApiCall) -> dict[str, Any]:
        with self.uow() as uow:
            history = uow.load(call.ids["case_id"])
            if not history:
                raise NotFound("No such case.", field="case_id")
            return {"case_id": call.ids["case_id"],
                    "entries": [views.audit_entry(uow.conn, self.keyring, e)
                                for e in audit_trail(history)]}

    def _case_as_of(self, who: str, call: ApiCall) -> dict[str, Any]:
        moment: datetime = call.payload["at"]
        with self.uow() as uow:
            history = uow.load(call.ids["case_id"])
            if not history:
                raise NotFound("No such case.", field="case_id")
            snapshot = case_as_of(call.ids["case_id"], history, moment)
            member_id = Case.replay(call.ids["case_id"], history).member_id
            activity = member_as_of(member_id, queries.activity_of(uow.conn, member_id), moment)
        return {
            "at": moment.isoformat(),
            "case": views.summary(snapshot) if snapshot else None,
            "pairs": [{"pair_id": p.pair_id, "mentor_id": p.mentor_id, "mentee_id": p.mentee_id,
                       "state": p.state, "interval_days": p.interval_days,
                       "overdue": p.overdue, "end_reason": p.end_reason, "since": p.since}
                      for p in activity.pairs],
            "sessions": [{"session_id": s.session_id, "pair_id": s.pair_id, "state": s.state,
                          "at": s.at, "modality": s.modality, "minutes": s.minutes,
                          "confirmed": s.confirmed, "cancel_reason": s.cancel_reason}
                         for s in activity.sessions],
        }

    def _verify_chain(self, who: str, call: ApiCall) -> dict[str, Any]:
        started = time.perf_counter()
        with self.uow() as uow:
            rows, head = read_chain(uow.conn)
        findings = verify(rows, anchor=head)
        log.info("chain verified by %s: %d events, %d findings, %.0f ms", who, len(rows),
                 len(findings), (time.perf_counter() - started) * 1000)
        return {"intact": not findings, "events": len(rows),
                "first_broken": first_broken(findings),
                "findings": [views.finding(f) for f in findings]}
