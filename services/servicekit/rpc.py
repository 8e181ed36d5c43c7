"""``@command`` and ``@query``: the one way a service exposes an RPC method.

    @command(RecordSession)                 # contracts.api schema of the payload
    def record_session(self, actor: Actor, payload: dict, pair_id: str) -> dict:
        ...

The caller (the gateway, a CLI, a test) sends ``(actor_dict, payload_dict, **ids)``.
The method receives an ``Actor``, the payload loaded by the schema (unknown or
bad fields are a 422 naming them, before anything is decided), and the ids of
the path, each checked to be a UUID (anything else reads as "no such thing",
404, like an id that does not exist). Whatever the domain refuses leaves as a
``ServiceError`` with its status, code, field and rule; a concurrency conflict
that survived the unit of work's retries is a 409, and so is a command call
redelivered after it was applied (``eventcore.commands``).

A command sent again under the same ``Idempotency-Key`` (the gateway carries it)
answers what it answered the first time, without deciding again; the key is
the calling organisation's (``scope_of``), and with another request it is a 422
naming the header (``eventcore.commands``). What was asked is kept as an HMAC
under a key of its own (``digest``): a registration asks a member's name and
e-mail, and a note its text, and a plain hash of them would confirm a guess of
them to anyone holding the database, after her erasure too (R8).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from marshmallow import Schema

from contracts.errors import ContractError
from services.eventcore.commands import CommandAlreadyApplied, CommandRpc, IdempotencyKeyReused
from services.eventcore.replies import rpc
from services.eventcore.store import ConcurrencyConflict
from services.servicekit import secrets
from services.servicekit.actor import Actor
from services.servicekit.crypto import Unreadable
from services.servicekit.errors import DomainError, ServiceError
from services.servicekit.payloads import load

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: The partner's header a command's idempotency key comes in (``servicekit.http``).
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _ids(ids: dict[str, Any]) -> dict[str, str]:
    checked = {}
    for name, value in ids.items():
        try:
            checked[name] = str(uuid.UUID(str(value)))
        except ValueError:
            raise ServiceError.not_found(name.removesuffix("_id").replace("_", " ")) from None
    return checked


@contextmanager
def translated() -> Iterator[None]:
    """Domain refusals, lost races and broken contracts leave as ``ServiceError``."""
    try:
        yield
    except DomainError as error:
        raise ServiceError.from_domain(error) from None
    except ConcurrencyConflict:
        raise ServiceError.make(
            409, "conflict", "Someone else changed this at the same moment; "
            "it was retried and still collided: send the request again.",
        ) from None
    except ContractError as error:
        # An event the command built broke its contract: the input let it through.
        raise ServiceError.invalid(error.fields) from None
    except CommandAlreadyApplied as applied:
        # Redelivered after its process died between commit and ack, or sent again
        # under its Idempotency-Key, and no answer kept to give (eventcore.commands).
        if applied.answer_lost:
            # No Retry-After: sent again, it would come back the same until the mark
            # is pruned, 30 days on.
            raise ServiceError.make(
                409, "conflict", "This request (its Idempotency-Key) was carried out, but "
                "its answer was lost (its service stopped before answering): read the "
                "result; sending it again changes nothing.") from None
        if applied.keyed:
            raise ServiceError.make(
                409, "conflict", "This request (its Idempotency-Key) is being carried out "
                "by an earlier sending: send it again in a second for its answer.",
                retry_after=1) from None
        raise ServiceError.make(409, "conflict", "This very request was already carried "
                                "out; read the result rather than sending it again.") from None
    except IdempotencyKeyReused:
        raise ServiceError.make(
            422, "idempotency_key_reused", "This Idempotency-Key was used for another "
            "request: a key names one request; use a new key for a new request.",
            [{"field": IDEMPOTENCY_HEADER, "message": "Used for another request."}],
        ) from None
    except Unreadable:
        # A key destroyed by an erasure: what it sealed is gone for good.
        raise ServiceError.make(409, "conflict", "This data was erased: its key is "
                                "destroyed.") from None


def answered_once(apply: Callable[[], T]) -> T:
    """``apply()``, or, for a command sent again under its key, the answer it gave
    the first time (kept by ``eventcore.commands``); with no answer kept, the
    refusal (``translated`` makes it a 409)."""
    try:
        return apply()
    except CommandAlreadyApplied as applied:
        if applied.reply is None:
            raise
        return applied.reply[0]  # type: ignore[no-any-return]


class ActingCommandRpc(CommandRpc):
    """``CommandRpc`` for ``(actor, payload, **ids)`` calls: a caller's idempotency
    keys are its organisation's (the operator's, a moderator's), so that two
    organisations never share one. Within one, the acting member is part of the
    request: another member sending the same key is another request (a 422)."""

    def scope_of(self, worker_ctx: Any) -> str:
        actor = worker_ctx.args[0] if worker_ctx.args else worker_ctx.kwargs.get("actor")
        if not isinstance(actor, dict):
            return ""
        return str(actor.get("organisation_id") or actor.get("moderator_id")
                   or actor.get("kind") or "")

    def digest(self, asked: bytes) -> str:
        return keyed_digest(asked)


def keyed_digest(asked: bytes) -> str:
    """The digest kept of what a keyed command asked. R8: what was asked may be
    personal data or a pair's text; keyed, so that no guess of it can be checked
    against the database."""
    return hmac.new(_digest_key(), asked, hashlib.sha256).hexdigest()


@functools.cache
def _digest_key() -> bytes:
    """The key of the requests' digests: derived from the platform's fingerprint
    secret (kept out of every database) under a label of its own, so that neither
    digest can stand for the other."""
    return hmac.new(secrets.load("fingerprint"), b"servicekit.rpc request digest",
                    hashlib.sha256).digest()


def _entry(schema: type[Schema] | None, payload_required: bool,
           entrypoint: Callable[..., Any] = rpc, **options: Any) -> Callable[[F], F]:
    instance = schema() if schema is not None else None

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def entry(self: Any, actor: Any, payload: Any = None, **ids: Any) -> Any:
            with translated():
                who = Actor.from_dict(actor)
                checked = _ids(ids)
                if instance is not None:
                    data = load(instance, payload if payload is not None else {})
                elif payload_required:
                    data = payload
                else:
                    data = payload or {}
                return answered_once(lambda: method(self, who, data, **checked))

        return entrypoint(expected_exceptions=ServiceError,  # type: ignore[no-any-return]
                          **options)(entry)

    return decorate


def internal(method: F) -> F:
    """An RPC method between services (no acting party): errors translated alike."""

    @functools.wraps(method)
    def entry(self: Any, *args: Any, **kwargs: Any) -> Any:
        with translated():
            return method(self, *args, **kwargs)

    return rpc(expected_exceptions=ServiceError)(entry)  # type: ignore[return-value]


def command(schema: type[Schema] | None = None,
            kept: Callable[[Any], Any] | None = None) -> Callable[[F], F]:
    """An RPC method that may change state (appends events): applied once, however
    often RabbitMQ delivers the call or its caller sends it under one idempotency
    key (``eventcore.commands``). ``kept(answer)``: what of its answer may be kept
    for those retries, when part must never be on disk (an API key, shown once)."""
    return _entry(schema, payload_required=True, entrypoint=ActingCommandRpc.decorator,
                  kept=kept)


def query(schema: type[Schema] | None = None) -> Callable[[F], F]:
    """An RPC method that only reads (projections); ``schema`` loads its filters."""
    return _entry(schema, payload_required=False)
