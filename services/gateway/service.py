"""The gateway service: authenticate, check the acting party, call the service method.

The route says which RPC answers (``routes``); ``servicekit.http`` has already
validated the path ids, the query and the body with the same schemas the
service will load them with. Nothing here decides anything about the domain.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
from nameko.events import BROADCAST, event_handler

from services.gateway.actors import ActorCacheProvider
from services.gateway.calls import ServiceCalls, ServiceUnavailable
from services.gateway.routes import ROUTES
from services.servicekit.errors import ServiceError
from services.servicekit.fairness import KnownCallers
from services.servicekit.heap import StartupHeap
from services.servicekit.http import ApiCall, ApiInfo, api
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rate_limits import PartyRateLimits

INFO = ApiInfo(
    name="gateway",
    title="Mentoring platform — partner API",
    version="1.0.0",
    description=(
        "The API partner organisations build on. Every /v1 route takes the organisation's "
        "API key as 'Authorization: Bearer <key>'. A request acts for the organisation "
        "itself (its admins: states and counts), or, with the 'X-Acting-Member' header, "
        "for one of its members after the partner's own login: what is private to a member "
        "or a pair (R8) needs the latter. Another organisation's ids answer exactly like "
        "ids that do not exist. Errors are application/problem+json (RFC 9457) naming the "
        "field and, when a charter rule refuses, the rule (R1..R11). A command (any method but "
        "GET) sent with an 'Idempotency-Key' header is carried out once, however often it "
        "is sent with that key: a request that timed out can be sent again safely."
    ),
    credential="an organisation's API key (or the platform operator's credential)",
    acting_member_header="X-Acting-Member",
    idempotency_header="Idempotency-Key",
)

#: How long a service may take to answer before the gateway gives up (503).
RPC_TIMEOUT = 30.0

#: Routes after which the calling organisation's remembered actors are dropped.
CHANGES_CREDENTIALS = {"revoke_api_key", "erase_member"}


class Gateway:
    name = "gateway"

    identity = ServiceCalls("identity")
    matching = ServiceCalls("matching")
    sessions = ServiceCalls("sessions")
    actors = ActorCacheProvider()
    callers = KnownCallers()
    rate_limits = PartyRateLimits()
    metrics = ServiceMetrics()
    heap = StartupHeap()

    @api(ROUTES, INFO)
    def handle(self, call: ApiCall) -> Any:
        route = call.route
        if route.operation_id == "health":
            self._rpc("identity", "ping")
            return {"status": "ok", "service": "gateway"}
        actor = self.actors.get(call.credential, call.acting_member)
        if actor is None:
            asked = self.actors.asking()
            try:
                actor = self._rpc("identity", "authenticate", call.credential,
                                  call.acting_member)
            except ServiceError as refused:
                if refused.status == 401:  # revoked, erased, made up: nobody's turn
                    self.callers.forget(call.credential)
                raise
            self.actors.put(call.credential, call.acting_member, actor, asked)
        party = actor.get("organisation_id") or actor["kind"]
        # Its next requests share their organisation's slots (servicekit.fairness), and
        # this one counts against its rate: a 429 past it (servicekit.rate_limits).
        self.callers.known(call.credential, party)
        self.rate_limits.charge(party)
        if route.acting == "member" and actor.get("kind") != "member":
            raise ServiceError.make(403, "forbidden", "This acts for one member: name her "
                                    "with the X-Acting-Member header (R8).",
                                    [{"field": "X-Acting-Member", "message": "Missing."}],
                                    rule="R8")
        if route.acting == "operator" and actor.get("kind") != "operator":
            raise ServiceError.make(403, "forbidden", "This is the platform operator's.")
        if route.acting == "organisation" and actor.get("kind") == "operator" \
                and not route.path.startswith("/v1/operator"):
            raise ServiceError.make(403, "forbidden", "The operator has no organisation: "
                                    "use an organisation's API key.")
        if isinstance(route.target, tuple):
            result = self._composed(route.target, actor, call)
        else:
            service, method = route.target.split(".") if route.target else ("", "")
            result = self._rpc(service, method, actor, call.payload, **call.ids)
        if route.operation_id in CHANGES_CREDENTIALS and actor.get("organisation_id"):
            # This very gateway forgets at once; the others hear identity's broadcast.
            self.actors.forget_organisation(actor["organisation_id"])
        return result

    def _composed(self, targets: tuple[str, ...], actor: dict[str, Any],
                  call: ApiCall) -> dict[str, Any]:
        """Each service's part of one answer. The first decides whether there is an
        answer at all (its refusal is the answer); a later service that holds
        nothing on it any more gives a null part."""
        parts: dict[str, Any] = {}
        for position, target in enumerate(targets):
            service, method = target.split(".")
            try:
                parts[service] = self._rpc(service, method, actor, call.payload, **call.ids)
            except ServiceError as refused:
                if position == 0 or refused.status != 404:
                    raise
                parts[service] = None
        return parts

    @event_handler("identity", "credentials_changed", handler_type=BROADCAST,
                   reliable_delivery=False)
    def on_credentials_changed(self, payload: dict[str, Any]) -> None:
        """A key revoked, a member excluded or erased: ask identity again."""
        organisation_id = payload.get("organisation_id")
        if organisation_id:
            self.actors.forget_organisation(organisation_id)
        else:
            self.actors.clear()

    @event_handler("identity", "credentials_epoch", handler_type=BROADCAST,
                   reliable_delivery=False)
    def on_credentials_epoch(self, payload: dict[str, Any]) -> None:
        """Identity's announcement, every second: what keeps remembered answers
        trusted, and what catches a ``credentials_changed`` that never came."""
        epoch, read_at = payload.get("epoch"), payload.get("read_at")
        if isinstance(epoch, str) and isinstance(read_at, (int, float)):
            self.actors.heard_epoch(epoch, age=time.time() - read_at)

    def _rpc(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        proxy = getattr(self, service)
        try:
            with eventlet.Timeout(RPC_TIMEOUT):
                return getattr(proxy, method)(*args, **kwargs)
        except ServiceUnavailable as down:
            raise ServiceError.make(503, "service_unavailable",
                                    f"The {service} service {down.why}.") from None
        except eventlet.Timeout:
            raise ServiceError.make(503, "service_unavailable",
                                    f"The {service} service did not answer in "
                                    f"{RPC_TIMEOUT:.0f} s.") from None
