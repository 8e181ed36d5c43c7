"""The identity service: nameko entrypoints, each a thin translation to a handler.

RPC methods take ``(actor, payload, **ids)`` (``servicekit.rpc``); the gateway
calls them on behalf of a partner organisation or one of its members, the
operator CLI on behalf of the platform. ``authenticate`` is how the gateway
learns who a request acts for. Kafka: identity keeps the exclusion registry
from moderation's ``MemberExcluded`` and ``ProfileFlagged`` (R2).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from nameko.events import EventDispatcher

from contracts import catalogue
from contracts.api import identity as api
from services.eventcore.consumer import domain_event_handler
from services.eventcore.database import UnitOfWork, UnitOfWorkProvider
from services.eventcore.events import DomainEvent
from services.identity.application import handlers, views
from services.identity.storage import credentials_epoch, queries
from services.identity.storage.projections import ExclusionRegistry, IdentityReadModel
from services.servicekit import credentials as api_keys
from services.servicekit import secrets
from services.servicekit.actor import Actor
from services.servicekit.clock import ClockProvider
from services.servicekit.errors import Forbidden, NotFound, Unauthenticated
from services.servicekit.heap import StartupHeap
from services.servicekit.keys import KeyringProvider
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rpc import command, internal, query
from services.servicekit.timers import configured_timer

READ_MODEL = IdentityReadModel()
REGISTRY = ExclusionRegistry()


class IdentityService:
    name = "identity"

    uow = UnitOfWorkProvider(catalogue, projections=(READ_MODEL, REGISTRY),
                             tables=(credentials_epoch.install,))
    #: After a commit that changes who may act (a key revoked, a member excluded or
    #: erased), the gateways are told to forget what they remember (a cache hint,
    #: not a domain event); the credentials epoch, announced every second, catches
    #: a hint that was lost (``storage/credentials_epoch.py``).
    dispatch = EventDispatcher()
    keyring = KeyringProvider()
    clock = ClockProvider()
    metrics = ServiceMetrics()
    heap = StartupHeap()

    # -- who is calling (the gateway asks for every request) -------------------------

    @internal
    def ping(self) -> str:
        """For health checks: the service answers RPC."""
        return "pong"

    @internal
    def authenticate(self, credential: str, acting_member: str | None = None) -> dict[str, Any]:
        """The acting party of a bearer credential, or 401; with ``acting_member``,
        one of the organisation's members who may act (403 if excluded, R2)."""
        if secrets.is_operator(credential):
            if acting_member:
                raise Forbidden("The operator acts for no member.", field="X-Acting-Member")
            return Actor.operator().to_dict()
        prefix = api_keys.prefix_of(credential or "")
        with self.uow() as uow:
            key = queries.live_key(uow.conn, prefix) if prefix else None
            if key is None or not api_keys.matches(credential, key[2]):
                raise Unauthenticated("Unknown or revoked API key.", field="Authorization")
            organisation_id = key[1]
            if not acting_member:
                return Actor.organisation(organisation_id).to_dict()
            if not _is_uuid(acting_member):
                raise NotFound("No such member.", field="X-Acting-Member")
            row = queries.member(uow.conn, acting_member, organisation_id)
            if row is None or row["erased_at"] is not None:
                raise NotFound("No such member.", field="X-Acting-Member")
            if row["excluded"]:
                raise Forbidden("This member is permanently excluded: she can no longer act "
                                "on the platform.", field="X-Acting-Member", rule="R2")
            return Actor.member(organisation_id, acting_member, row["role"]).to_dict()

    # -- organisations -----------------------------------------------------------

    @command(api.RegisterOrganisation, kept=views.without_api_key)
    def register_organisation(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        _operator_only(actor)
        now = self.clock.now()
        return self.uow.run(
            lambda uow: handlers.register_organisation(uow, self.keyring, now, payload))

    @query()
    def get_organisation(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        organisation_id = actor.as_admin()
        with self.uow() as uow:
            row = queries.organisation(uow.conn, organisation_id)
            if row is None:
                raise NotFound("No such organisation.")
            return {
                "organisation_id": organisation_id,
                "name": self.keyring.open_or_none(uow.conn, row["name"]),
                "kind": row["kind"],
                "matching_scope": row["matching_scope"],
                "registered_at": row["registered_at"].isoformat(),
                "members": queries.member_counts(uow.conn, organisation_id),
                "api_keys": [views.api_key(k) for k in queries.api_keys(uow.conn,
                                                                        organisation_id)],
            }

    @command(kept=views.without_api_key)
    def issue_api_key(self, actor: Actor, payload: Any,
                      organisation_id: str | None = None) -> dict[str, Any]:
        """A new key: for the organisation itself (rotation) or, by the operator, for any."""
        target = organisation_id if actor.kind == "operator" else actor.as_admin()
        if target is None:
            raise NotFound("No such organisation.", field="organisation_id")
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.issue_api_key(uow, now, target))

    @command(api.RevokeApiKey)
    def revoke_api_key(self, actor: Actor, payload: dict[str, Any],
                       key_id: str) -> dict[str, Any]:
        organisation_id = actor.as_admin()
        now = self.clock.now()

        def revoke(uow: Any) -> dict[str, Any]:
            revoked = handlers.revoke_api_key(uow, now, organisation_id, key_id, payload["reason"])
            self._credentials_changed(uow, organisation_id)
            return revoked

        return self.uow.run(revoke)

    @command(api.SetMatchingPolicy)
    def set_matching_policy(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        organisation_id = actor.as_admin()
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.set_matching_scope(
            uow, now, organisation_id, payload["matching_scope"]))

    # -- the charter (R3) ------------------------------------------------------------

    @query()
    def get_charter(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.charter_view(
            uow.conn, handlers.current_charter(uow, now)))

    @command(api.PublishCharter)
    def publish_charter(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        _operator_only(actor)
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.publish_charter(uow, now, payload))

    @command(api.AcceptCharter)
    def accept_charter(self, actor: Actor, payload: dict[str, Any],
                       member_id: str) -> dict[str, Any]:
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.accept_charter(uow, now, actor, member_id,
                                                                payload))

    # -- members ---------------------------------------------------------------------

    @command(api.RegisterMember)
    def register_member(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.register_member(uow, self.keyring, now, actor,
                                                                 payload))

    @command(api.UpdateMember)
    def update_member(self, actor: Actor, payload: dict[str, Any],
                      member_id: str) -> dict[str, Any]:
        now = self.clock.now()
        return self.uow.run(lambda uow: handlers.update_member(uow, self.keyring, now, actor,
                                                               member_id, payload))

    @query()
    def get_member(self, actor: Actor, payload: dict[str, Any], member_id: str) -> dict[str, Any]:
        now = self.clock.now()

        def read(uow: Any) -> dict[str, Any]:
            row = self._visible_member(uow.conn, actor, member_id)
            return views.member(uow.conn, self.keyring, row, handlers.current_charter(uow, now))

        return self.uow.run(read)

    @query(api.MemberQuery)
    def list_members(self, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
        organisation_id = actor.as_admin()
        now = self.clock.now()

        def read(uow: Any) -> dict[str, Any]:
            rows, total = queries.members(uow.conn, organisation_id, payload.get("role"),
                                          payload.get("status"), payload["limit"],
                                          payload["offset"])
            current = handlers.current_charter(uow, now)
            return {"items": [views.member_summary(r, current) for r in rows], "total": total}

        return self.uow.run(read)

    @command(api.EraseMember)
    def erase_member(self, actor: Actor, payload: dict[str, Any],
                     member_id: str) -> dict[str, Any]:
        now = self.clock.now()

        def erase(uow: Any) -> dict[str, Any]:
            erased = handlers.erase_member(uow, self.keyring, now, actor, member_id)
            self._credentials_changed(uow, actor.organisation_id)
            return erased

        return self.uow.run(erase)

    @query()
    def export_member(self, actor: Actor, payload: dict[str, Any],
                      member_id: str) -> dict[str, Any]:
        """Right of access: everything identity holds on her, events included as stored
        (personal values sealed: ciphertext only, once her key is destroyed)."""
        now = self.clock.now()

        def read(uow: Any) -> dict[str, Any]:
            row = self._visible_member(uow.conn, actor, member_id)
            current = handlers.current_charter(uow, now)
            exclusion = queries.exclusion(uow.conn, row["fingerprint"])
            events = [
                {"event_id": str(e.event_id), "name": e.name, "version": e.version,
                 "recorded_at": e.recorded_at.isoformat(), "data": e.data}
                for e in uow.load(member_id)
            ]
            return {
                "member": views.member(uow.conn, self.keyring, row, current),
                "charter_acceptances": [
                    {"member_id": a["member_id"], "charter_version": a["charter_version"],
                     "accepted_at": a["accepted_at"].isoformat()}
                    for a in queries.acceptances(uow.conn, member_id)],
                "exclusion": None if exclusion is None else {
                    "case_id": exclusion["case_id"],
                    "excluded_at": exclusion["excluded_at"].isoformat()},
                "events": events,
            }

        return self.uow.run(read)

    def _visible_member(self, conn: Any, actor: Actor, member_id: str) -> dict[str, Any]:
        organisation_id = actor.in_organisation()
        if actor.kind == "member" and actor.member_id != member_id:
            raise NotFound("No such member.", field="member_id")
        row = queries.member(conn, member_id, organisation_id)
        if row is None:
            raise NotFound("No such member.", field="member_id")
        return row

    # -- R2: the exclusion registry, from moderation --------------------------------------

    @domain_event_handler("moderation", "MemberExcluded")
    def on_member_excluded(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            REGISTRY.apply(uow.conn, event)
            # Her identity is excluded wherever she is a member, not only in the
            # organisation that reported her: every gateway forgets everything.
            self._credentials_changed(uow, None)

    # -- what the gateways remember of who may act ------------------------------------------

    def _credentials_changed(self, uow: UnitOfWork, organisation_id: str | None) -> None:
        """Last in the change's transaction (the epoch's row lock is then held only
        until the commit): advance the epoch, and tell the gateways after the commit
        (R2: a gateway that re-reads at once must see the change; told earlier, it
        could remember the member as she was). ``None``: every organisation."""
        credentials_epoch.advance(uow.conn)
        uow.on_commit(lambda: self.dispatch(
            "credentials_changed", {"organisation_id": organisation_id}))

    @configured_timer("CREDENTIALS_EPOCH_SECONDS", default=1.0)
    def announce_credentials_epoch(self) -> None:
        """Every second, the epoch to every gateway: one that missed a change's
        broadcast sees a value it did not hear and forgets what it remembers (R2)."""
        with self.uow() as uow:
            epoch = credentials_epoch.current(uow.conn)
        # read_at: a gateway trusts an announcement only while it is recent (one that
        # sat in a queue says nothing of what committed since).
        self.dispatch("credentials_epoch", {"epoch": epoch, "read_at": time.time()})

    @domain_event_handler("moderation", "ProfileFlagged")
    def on_profile_flagged(self, event: DomainEvent) -> None:
        with self.uow() as uow:
            REGISTRY.apply(uow.conn, event)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True



def _operator_only(actor: Actor) -> None:
    if actor.kind != "operator":
        raise Forbidden("This is the platform operator's.", field="Authorization")

