"""The gateway's calls: answered by a running service, refused at once by none."""

from __future__ import annotations

import uuid

import eventlet
import kombu
import pytest
from nameko.rpc import get_rpc_exchange
from nameko.testing.services import dummy, entrypoint_hook

from services.eventcore.replies import rpc
from services.eventcore.testing import wait_until
from services.gateway import calls
from services.gateway.calls import ServiceCalls, ServiceUnavailable

TARGET = f"calls-target-{uuid.uuid4().hex[:8]}"
RAW_TARGET = f"calls-raw-{uuid.uuid4().hex[:8]}"


class Target:
    name = TARGET

    @rpc
    def echo(self, value: str) -> str:
        return value


def caller_of(target_name: str) -> type:
    """A service whose one entrypoint calls ``echo`` on ``target_name`` as the gateway
    calls a service."""

    class Caller:
        name = f"calls-caller-{uuid.uuid4().hex[:8]}"
        target = ServiceCalls(target_name)

        @dummy
        def call(self, value: str) -> str:
            return self.target.echo(value)

    return Caller


Caller = caller_of(TARGET)
#: Calls a bare kombu consumer, not a nameko service (the delivery-mode test).
RawCaller = caller_of(RAW_TARGET)


@pytest.fixture
def config(settings):
    return {"AMQP_URI": settings.amqp_uri}


def test_a_service_never_started_is_refused_at_once(config, container_factory):
    caller = container_factory(Caller, config)
    caller.start()
    with entrypoint_hook(caller, "call") as call, pytest.raises(ServiceUnavailable) as down:
        call("hello")
    assert down.value.why == "is not running"


def test_a_running_service_answers_and_a_stopped_one_is_refused_at_once(
        config, container_factory, monkeypatch):
    monkeypatch.setattr(calls, "CENSUS_SECONDS", 0.0)  # every call counts afresh
    target = container_factory(Target, config)
    target.start()
    caller = container_factory(Caller, config)
    caller.start()
    with entrypoint_hook(caller, "call") as call:
        assert call("hello") == "hello"

    target.stop()  # its durable queue stays, with nobody consuming it
    with entrypoint_hook(caller, "call") as call, pytest.raises(ServiceUnavailable) as down:
        call("anyone?")
    assert down.value.why == "is not running", "refused, not left waiting on the queue"


def test_a_service_that_starts_is_called_within_a_census(config, container_factory):
    caller = container_factory(Caller, config)
    caller.start()
    with entrypoint_hook(caller, "call") as call, pytest.raises(ServiceUnavailable):
        call("too early")
    target = container_factory(Target, config)
    target.start()

    def answered() -> bool:
        try:
            with entrypoint_hook(caller, "call") as call:
                return call("now") == "now"
        except ServiceUnavailable:
            return False

    wait_until(answered, timeout=calls.CENSUS_SECONDS + 5, what="the census to count it")


def test_a_call_goes_out_transient(config, settings, container_factory):
    """A call written to disk would outlive a broker restart and be carried out after
    its caller had its 503: the service here is a bare consumer that looks at what
    it is sent, and answers as nameko would."""
    exchange = get_rpc_exchange({})
    seen: list[kombu.Message] = []
    with kombu.Connection(settings.amqp_uri) as conn:
        calls_queue = kombu.Queue(f"rpc-{RAW_TARGET}", exchange=exchange,
                                  routing_key=f"{RAW_TARGET}.*", auto_delete=True)

        def answer(body, message) -> None:
            seen.append(message)
            conn.Producer().publish({"result": body["args"][0], "error": None},
                                    exchange=exchange, routing_key=message.properties["reply_to"],
                                    correlation_id=message.properties["correlation_id"],
                                    serializer="json")
            message.ack()

        with conn.Consumer(calls_queue, callbacks=[answer]):
            caller = container_factory(RawCaller, config)
            caller.start()

            def serve() -> None:
                while not seen:
                    conn.drain_events(timeout=10)

            server = eventlet.spawn(serve)
            with entrypoint_hook(caller, "call") as call:
                assert call("hello") == "hello"
            server.wait()
    (message,) = seen
    assert message.properties["delivery_mode"] == 1, "transient: never written to disk"
