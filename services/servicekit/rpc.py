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
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from marshmallow import Schema

from contracts.errors import ContractError
from services.eventcore.commands import CommandAlreadyApplied, command_rpc
from services.eventcore.replies import rpc
from services.eventcore.store import ConcurrencyConflict
from services.servicekit.actor import Actor
from services.servicekit.crypto import Unreadable
from services.servicekit.errors import DomainError, ServiceError
from services.servicekit.payloads import load

F = TypeVar("F", bound=Callable[..., Any])


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
    except CommandAlreadyApplied:
        # Redelivered after its process died between commit and ack (eventcore.commands).
        raise ServiceError.make(409, "conflict", "This very request was already carried "
                                "out; read the result rather than sending it again.") from None
    except Unreadable:
        # A key destroyed by an erasure: what it sealed is gone for good.
        raise ServiceError.make(409, "conflict", "This data was erased: its key is "
                                "destroyed.") from None


def _entry(schema: type[Schema] | None, payload_required: bool,
           entrypoint: Callable[..., Any] = rpc) -> Callable[[F], F]:
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
                return method(self, who, data, **checked)

        return entrypoint(expected_exceptions=ServiceError)(entry)  # type: ignore[no-any-return]

    return decorate


def internal(method: F) -> F:
    """An RPC method between services (no acting party): errors translated alike."""

    @functools.wraps(method)
    def entry(self: Any, *args: Any, **kwargs: Any) -> Any:
        with translated():
            return method(self, *args, **kwargs)

    return rpc(expected_exceptions=ServiceError)(entry)  # type: ignore[return-value]


def command(schema: type[Schema] | None = None) -> Callable[[F], F]:
    """An RPC method that may change state (appends events): applied once, however
    often RabbitMQ delivers the call (``eventcore.commands``)."""
    return _entry(schema, payload_required=True, entrypoint=command_rpc)


def query(schema: type[Schema] | None = None) -> Callable[[F], F]:
    """An RPC method that only reads (projections); ``schema`` loads its filters."""
    return _entry(schema, payload_required=False)
