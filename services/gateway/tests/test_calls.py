"""The gateway's calls: answered by a running service, refused at once by none."""

from __future__ import annotations

import uuid

import pytest
from nameko.testing.services import dummy, entrypoint_hook

from services.eventcore.replies import rpc
from services.eventcore.testing import wait_until
from services.gateway import calls
from services.gateway.calls import ServiceCalls, ServiceUnavailable

TARGET = f"calls-target-{uuid.uuid4().hex[:8]}"


class Target:
    name = TARGET

    @rpc
    def echo(self, value: str) -> str:
        return value


class Caller:
    name = f"calls-caller-{uuid.uuid4().hex[:8]}"
    target = ServiceCalls(TARGET)

    @dummy
    def call(self, value: str) -> str:
        return self.target.echo(value)


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
