"""RPC replies: sent transient, without a confirm, and the call acked after them."""

from __future__ import annotations

import json
import uuid

import kombu
from nameko.rpc import get_rpc_exchange

from services.eventcore.commands import command_rpc
from services.eventcore.replies import rpc


class Answering:
    name = f"replies-{uuid.uuid4().hex[:8]}"

    @rpc
    def echo(self, value: str) -> str:
        return value

    @command_rpc
    def shout(self, value: str) -> str:
        return value.upper()


def _call(conn: kombu.Connection, method: str, value: str) -> kombu.Message:
    """One call the way nameko's proxy sends it; the raw reply message back."""
    exchange = get_rpc_exchange({})
    reply_key = uuid.uuid4().hex
    replies = kombu.Queue(f"replies-test-{reply_key}", exchange=exchange,
                          routing_key=reply_key, auto_delete=True, exclusive=True)
    got: list[kombu.Message] = []
    with conn.Consumer(replies, callbacks=[lambda _body, message: got.append(message)]):
        conn.Producer().publish(
            {"args": [value], "kwargs": {}}, exchange=exchange,
            routing_key=f"{Answering.name}.{method}", reply_to=reply_key,
            correlation_id=uuid.uuid4().hex, serializer="json")
        while not got:
            conn.drain_events(timeout=10)
    got[0].ack()
    return got[0]


def test_every_rpc_entrypoint_replies_transient_and_the_call_is_acked(settings,
                                                                       container_factory):
    container = container_factory(Answering, {"AMQP_URI": settings.amqp_uri})
    container.start()
    with kombu.Connection(settings.amqp_uri) as conn:
        for method, answer in (("echo", "hi"), ("shout", "HI")):
            reply = _call(conn, method, "hi")
            assert json.loads(reply.body) == {"result": answer, "error": None}
            assert reply.properties["delivery_mode"] == 1, "transient: never written to disk"
        # Both methods answered by one consumer of the service's queue, which holds
        # nothing more: each call was acknowledged once answered.
        _, waiting, consumers = conn.default_channel.queue_declare(
            f"rpc-{Answering.name}", passive=True)
        assert (waiting, consumers) == (0, 1)
