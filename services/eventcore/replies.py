"""``@rpc`` whose replies are sent transient, without waiting for a publisher confirm.

nameko's ``Responder`` publishes every reply persistent (delivery mode 2) and
waits for RabbitMQ's publisher confirm before the worker is done. Neither buys
anything for a reply:

- it matters only to the caller blocked on it, through that caller's own
  connection; a broker that restarts drops that connection, and the caller's
  wait fails whatever was written to disk;
- a reply the broker drops unseen is, for the caller, a call that timed out:
  what it changed is committed (or not) either way, and a command redelivered
  is applied once (``eventcore.commands``).

The call message is still acknowledged only after its reply was handed to the
broker's socket, as before. What the confirm cost: a synchronous wait per call
(with frames to read back) in every service, and RabbitMQ's work on every
persistent reply. (Calls *to* a service are the caller's business: the gateway
counts a service's consumers before it calls, ``services/gateway/calls.py``.)

Every RPC entrypoint of a service must come from here (``servicekit.rpc`` and
``CommandRpc`` do): nameko shares one consumer of the service's queue per
consumer class, and two classes on one queue would each refuse the other's
methods.
"""

from __future__ import annotations

from typing import Any

from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    NON_PERSISTENT,
    SERIALIZER_CONFIG_KEY,
)


class TransientPublisher(Publisher):
    """Publishes transient, without waiting for a confirm: for messages that matter
    only to a caller waiting on its own connection (replies here, the gateway's calls
    in ``services/gateway/calls.py``)."""

    use_confirms = False
    delivery_mode = NON_PERSISTENT


class ReplyResponder(nameko_rpc.Responder):
    publisher_cls = TransientPublisher


class ReplyingRpcConsumer(nameko_rpc.RpcConsumer):
    """nameko's ``RpcConsumer`` answering through :class:`ReplyResponder`."""

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        config = self.container.config
        responder = ReplyResponder(
            config[AMQP_URI_CONFIG_KEY],
            nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(nameko_rpc.Rpc):
    """nameko's ``@rpc``, its replies sent by :class:`ReplyingRpcConsumer`."""

    rpc_consumer = ReplyingRpcConsumer()


rpc = Rpc.decorator
