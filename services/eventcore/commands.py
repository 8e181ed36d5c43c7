"""``CommandRpc``: an RPC entrypoint whose calls change state once, however often
RabbitMQ delivers them.

RabbitMQ hands an RPC call to a service *at least* once: nameko acks the call's
message only after it has replied, so a process killed between its commit and
that ack gets the very same message again when it restarts, and would, without
care, file a report or record a session twice (it happened: one mentee's report
was filed twice when sessions was killed in the story test).

The guarantee, **a command is applied once**:

- the command id is the call's AMQP ``correlation_id`` (unique per call, the same
  on every redelivery), carried to the worker in its context data;
- the first unit of work that commits in that worker records the id in
  ``processed_commands``, in the same transaction as what it appends
  (``database._UnitsOfWork``); a redelivered call finds the mark, and its unit
  of work raises :class:`CommandAlreadyApplied` before deciding anything;
- a unit of work that fails takes its mark with it: a refused or crashed
  command can be delivered again and decided afresh.
- the units of work of one worker are one command: only the first marks it.
  A command that commits twice and dies in between is, on redelivery, stopped
  at its first unit of work; so what a command reads or keeps before deciding
  (reference data, a cached key) goes through ``uow.aside()``, which does not
  take the mark.

A redelivery answers with a refusal that says the request was carried out
(``servicekit.rpc`` makes it a 409 naming it), not with the first answer: the
caller of the first delivery has that one unless the process died between commit
and reply, and then the caller (the gateway) may have given up waiting already.
Marks older than ``KEEP_DAYS`` are pruned at start: RabbitMQ keeps an unacked
message while its service is down, never for weeks.

**A keyed command is applied once, however often its caller sends it.** A
partner whose request timed out cannot know whether it was carried out; it sends
it again with the same ``Idempotency-Key`` (``servicekit.http``), which travels
in the call's context data (``IDEMPOTENCY_KEY``). (The moderator API applies its
commands in its HTTP worker: there, the request itself is the command, under the
credential's scope; ``CommandEntrypoint`` is what both entrypoints share.)

- the command id is then the key, within its caller's scope (``scope_of``: the
  organisation, for the gateway's calls), so every sending of the request is one
  command; the mark also keeps a digest of what was asked (the method and all
  its arguments, the acting party included): keyed by a secret (``digest``,
  ``servicekit.rpc``), since what is asked may be a member's personal data, which
  a plain hash would let anyone holding the database confirm after her erasure;
- the answer is kept with the mark before it is sent (``handle_result``); a
  request sent again with the key decides nothing afresh, and its
  :class:`CommandAlreadyApplied` carries that answer, which ``servicekit.rpc``
  gives as the answer. One sent while the first is still being carried out
  waits for its commit (on the mark's row), and is then refused as applied with
  no answer yet, as the IETF draft on the header has it (``servicekit.rpc``
  makes it a 409 to send again in a second). It does not wait for the answer:
  waiting retries would hold the service's workers and connections, which
  the first sending needs to keep its answer, and other callers to be served;
- the same key with another request is :class:`IdempotencyKeyReused`, and
  changes nothing;
- what of an answer must never be on disk (an API key is shown once, and stored
  hashed) is left out of what is kept (``kept``): sent again, the request gets
  the answer without it. A keyed command whose process died between its commit
  and keeping its answer is refused as carried out with its answer lost, once
  ``ANSWER_DEADLINE`` has passed since its commit: before, it may still be
  being answered (and a retry is told to come back in a second); after, telling
  it so would keep a well-behaved client retrying until the mark is pruned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from services.eventcore.replies import Rpc

log = logging.getLogger("eventcore.commands")

#: The worker's context-data key the command id travels under.
COMMAND_ID = "command_id"

#: The context-data key of the caller's idempotency key (nameko propagates a
#: caller's context data with its calls).
IDEMPOTENCY_KEY = "idempotency_key"

#: Seconds after its commit (``stamp_committing``) by which a keyed command has
#: kept its answer, unless its process died in between: what is left of a command
#: once committed is to answer, and twice the longest the gateway waits for an
#: answer (``gateway.service.RPC_TIMEOUT``, 30 s) is far beyond that.
ANSWER_DEADLINE = 60

#: What is kept of an answer that could not be: its retries are told it is lost.
ANSWER_LOST = object()

#: Days a mark is kept (a redelivery comes when the service restarts).
KEEP_DAYS = 30


@dataclass(frozen=True)
class Command:
    """The command a worker applies: its id and, when the caller keyed it, the
    digest of what was asked."""

    id: str
    request_digest: str | None = None

    @property
    def keyed(self) -> bool:
        return self.request_digest is not None


class CommandAlreadyApplied(Exception):
    """This very command was applied by an earlier call: nothing was decided again.
    ``reply`` is ``(what it answered,)`` when that answer was kept, else ``None``;
    ``answer_lost``: none was kept, and none will be (``ANSWER_DEADLINE`` passed)."""

    def __init__(self, command: Command, reply: tuple[Any] | None = None,
                 answer_lost: bool = False) -> None:
        kept = ("its answer kept" if reply is not None
                else "its answer lost" if answer_lost else "no answer kept")
        super().__init__(f"command {command.id} was already applied ({kept})")
        self.command_id = command.id
        self.keyed = command.keyed
        self.reply = reply
        self.answer_lost = answer_lost


class IdempotencyKeyReused(Exception):
    """The caller's idempotency key names a command that asked something else."""

    def __init__(self, command: Command) -> None:
        super().__init__(f"command {command.id} was applied to another request")
        self.command_id = command.id


class CommandEntrypoint:
    """What an entrypoint whose workers apply commands offers their units of work:
    the command a worker applies (``command``), and the keeping of a keyed
    command's answer before it is sent (``keep_reply``, then ``keep_answer`` from
    the entrypoint's ``handle_result``). ``CommandRpc`` is one; so is the moderator
    API's HTTP entrypoint, whose commands are applied in the HTTP worker
    (``servicekit.http``)."""

    def __init__(self, *args: Any, kept: Callable[[Any], Any] | None = None,
                 **kwargs: Any) -> None:
        """``kept(answer)``: what of an answer may be kept for a keyed command's
        retries (all of it by default)."""
        super().__init__(*args, **kwargs)
        self.kept = kept
        # worker -> keeping of its answer, once its unit of work committed the mark
        self._keepers: weakref.WeakKeyDictionary[Any, Callable[[Any], None]] = \
            weakref.WeakKeyDictionary()

    def command(self, worker_ctx: Any) -> Command | None:
        """The command this worker applies (the units of work ask it), if any."""
        raise NotImplementedError

    def scope_of(self, worker_ctx: Any) -> str:
        """Whose keys a caller's key is one of. Here one scope for the service;
        ``servicekit`` makes it the calling organisation's, or the credential's."""
        return ""

    def digest(self, asked: bytes) -> str:
        """The digest kept of what a keyed command asked. A plain hash here;
        ``servicekit`` keys it with a secret (see the module)."""
        return hashlib.sha256(asked).hexdigest()

    def keyed_command(self, worker_ctx: Any, key: str, asked: Any) -> Command:
        """The command of every sending of a request under the caller's ``key``."""
        scope = self.scope_of(worker_ctx)
        return Command(id="key:" + hashlib.sha256(_canonical([scope, str(key)])).hexdigest(),
                       request_digest=self.digest(_canonical(asked)))

    def kept_of(self, worker_ctx: Any) -> Callable[[Any], Any] | None:
        return self.kept

    def keep_reply(self, worker_ctx: Any, keep: Callable[[Any], None]) -> None:
        """The unit of work that committed a keyed command's mark: ``keep(answer)``
        is to run once the worker has its answer, before it is sent."""
        self._keepers[worker_ctx] = keep

    def keep_answer(self, worker_ctx: Any, result: Any, exc_info: Any) -> None:
        """From ``handle_result``, before the answer leaves: a retry that comes once
        it is sent finds it."""
        keep = self._keepers.pop(worker_ctx, None)
        if keep is None or exc_info is not None:
            return
        try:
            kept = self.kept_of(worker_ctx)
            answer = result if kept is None else kept(result)
        except Exception:
            # Never in the way of the answer itself: a retry is told it was lost.
            log.exception("the answer of %s was not kept", worker_ctx.call_id)
            answer = ANSWER_LOST
        keep(answer)


class CommandRpc(CommandEntrypoint, Rpc):
    """``@rpc`` whose workers know their command (see the module); its replies
    as every RPC reply of the platform (``eventcore.replies``)."""

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        context_data = super().unpack_message_headers(message)
        # Always overwritten: an id propagated from a caller's own command is not ours.
        context_data[COMMAND_ID] = message.properties.get("correlation_id")
        return context_data

    def command(self, worker_ctx: Any) -> Command | None:
        key = worker_ctx.context_data.get(IDEMPOTENCY_KEY)
        if key:
            return self.keyed_command(
                worker_ctx, key, [self.method_name, list(worker_ctx.args), worker_ctx.kwargs])
        value = worker_ctx.context_data.get(COMMAND_ID)
        return Command(str(value)) if value else None

    def handle_result(self, message: Any, worker_ctx: Any, result: Any,
                      exc_info: Any) -> tuple[Any, Any]:
        self.keep_answer(worker_ctx, result, exc_info)
        return super().handle_result(message, worker_ctx, result,  # type: ignore[no-any-return]
                                     exc_info)


command_rpc = CommandRpc.decorator


def _canonical(value: Any) -> bytes:
    """One spelling of a JSON value: the same request, however its keys were ordered."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8", "surrogatepass")


def command_of(worker_ctx: Any) -> Command | None:
    """The command when the worker runs a ``CommandEntrypoint``'s call, else ``None``
    (Kafka handlers, queries, timers: their own idempotency, or none needed)."""
    entrypoint = worker_ctx.entrypoint
    if isinstance(entrypoint, CommandEntrypoint):
        return entrypoint.command(worker_ctx)
    return None


def mark_applied(conn: psycopg.Connection, command: Command) -> None:
    """Record the command in the caller's transaction; ``CommandAlreadyApplied`` if an
    earlier call committed it (a concurrent one waits on the row, then fails), and
    ``IdempotencyKeyReused`` if that one asked something else."""
    marked = conn.execute(
        "INSERT INTO processed_commands (command_id, request_digest) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING",
        (command.id, command.request_digest),
    ).rowcount
    if marked:
        return
    row = conn.execute("SELECT request_digest, reply, "
                       "applied_at < now() - make_interval(secs => %s) "
                       "FROM processed_commands WHERE command_id = %s",
                       (ANSWER_DEADLINE, command.id)).fetchone()
    if row is None:  # pruned in between: as good as applied, and nothing kept
        raise CommandAlreadyApplied(command)
    digest, reply, past_deadline = row
    if command.keyed and digest != command.request_digest:
        raise IdempotencyKeyReused(command)
    if reply is not None and "answer" in reply:
        raise CommandAlreadyApplied(command, (reply["answer"],))
    raise CommandAlreadyApplied(command, answer_lost=command.keyed and (
        reply is not None or past_deadline))


def stamp_committing(conn: psycopg.Connection, command: Command) -> None:
    """Last in a keyed command's transaction: its mark's time becomes (about) its
    commit's, which ``ANSWER_DEADLINE`` counts from. Inserted first, the mark bore
    the transaction's start: one that waited a minute on a lock would have been
    told lost to a retry while it was about to answer."""
    conn.execute("UPDATE processed_commands SET applied_at = clock_timestamp() "
                 "WHERE command_id = %s", (command.id,))


def keep_reply(conn: psycopg.Connection, command: Command, answer: Any) -> None:
    """Keep a keyed command's answer beside its mark (wrapped, so that an answer of
    ``None`` is told from no answer kept), or ``ANSWER_LOST``: retries are told at
    once, not after ``ANSWER_DEADLINE`` of being told to come back."""
    reply = {"lost": True} if answer is ANSWER_LOST else {"answer": answer}
    conn.execute("UPDATE processed_commands SET reply = %s WHERE command_id = %s",
                 (Jsonb(reply), command.id))


def prune(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM processed_commands WHERE applied_at < now() - %s * interval '1 day'",
                 (KEEP_DAYS,))
