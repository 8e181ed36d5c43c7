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
Keeping answers for redeliveries would also keep on disk what must never be kept
there: an API key is shown once and stored hashed, a registration answers the
member's personal data (sealed everywhere else, and shredded on erasure).
Marks older than ``KEEP_DAYS`` are pruned at start: RabbitMQ keeps an unacked
message while its service is down, never for weeks.
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.eventcore.replies import Rpc

#: The worker's context-data key the command id travels under.
COMMAND_ID = "command_id"

#: Days a mark is kept (a redelivery comes when the service restarts).
KEEP_DAYS = 30


class CommandAlreadyApplied(Exception):
    """This very call was applied by an earlier delivery: nothing was decided again."""

    def __init__(self, command_id: str) -> None:
        super().__init__(f"command {command_id} was already applied")
        self.command_id = command_id


class CommandRpc(Rpc):
    """``@rpc`` whose workers know their command id (see the module); its replies
    as every RPC reply of the platform (``eventcore.replies``)."""

    def unpack_message_headers(self, message: Any) -> dict[str, Any]:
        context_data = super().unpack_message_headers(message)
        # Always overwritten: an id propagated from a caller's own command is not ours.
        context_data[COMMAND_ID] = message.properties.get("correlation_id")
        return context_data

    @staticmethod
    def command_id(worker_ctx: Any) -> str | None:
        """The id of the call this worker runs (the units of work ask it)."""
        value = worker_ctx.context_data.get(COMMAND_ID)
        return str(value) if value else None


command_rpc = CommandRpc.decorator


def command_id_of(worker_ctx: Any) -> str | None:
    """The command id when the worker runs a ``CommandRpc`` call, else ``None``
    (Kafka handlers, queries, timers: their own idempotency, or none needed)."""
    if isinstance(worker_ctx.entrypoint, CommandRpc):
        return CommandRpc.command_id(worker_ctx)
    return None


def mark_applied(conn: psycopg.Connection, command_id: str) -> None:
    """Record the command in the caller's transaction; ``CommandAlreadyApplied`` if an
    earlier delivery committed it (a concurrent one waits on the row, then fails)."""
    marked = conn.execute(
        "INSERT INTO processed_commands (command_id) VALUES (%s) ON CONFLICT DO NOTHING",
        (command_id,),
    ).rowcount
    if not marked:
        raise CommandAlreadyApplied(command_id)


def prune(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM processed_commands WHERE applied_at < now() - %s * interval '1 day'",
                 (KEEP_DAYS,))
