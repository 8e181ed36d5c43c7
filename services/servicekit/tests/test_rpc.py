"""``@command`` in a real nameko container: what a redelivered call answers.

RabbitMQ delivers a call again when the process that took it died before acking
(``eventcore.commands``). Through ``@command`` (the way every service exposes its
commands to the gateway), the redelivery changes nothing and answers a 409 that
says the request was carried out. Not the first answer: that would have to be
kept on disk, and some answers must never be (an API key is shown once and
stored hashed; a member's registration answers her personal data).
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from contracts import catalogue
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.tests.factories import session_held
from services.servicekit.actor import Actor
from services.servicekit.rpc import command


class HoldingService:
    name = "holding_test"
    uow = UnitOfWorkProvider(catalogue)

    @command()
    def hold(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        with self.uow() as uow:
            version = len(uow.load(pair_id))
            uow.append(pair_id, version, [session_held(pair_id)])
        return {"pair_id": pair_id, "version": version + 1, "by": actor.member_id}


@pytest.fixture
def holding(deliveries_to):
    return deliveries_to(HoldingService)


def _events(database_url: str, pair: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE stream_id = %s",
                            (pair,)).fetchone()[0]


def _member() -> dict[str, Any]:
    return Actor.member(str(uuid.uuid4()), str(uuid.uuid4()), "mentee").to_dict()


def test_a_redelivered_command_is_a_409_saying_it_was_carried_out_and_changes_nothing(
    holding, database_url,
):
    pair, call, actor = str(uuid.uuid4()), str(uuid.uuid4()), _member()
    first = holding("hold", call, actor, {}, pair_id=pair)
    assert first["error"] is None and first["result"]["version"] == 1
    error = holding("hold", call, actor, {}, pair_id=pair)["error"]
    assert error["exc_type"] == "ServiceError"
    assert "already carried out" in error["value"]
    assert _events(database_url, pair) == 1
    another = holding("hold", str(uuid.uuid4()), actor, {}, pair_id=pair)
    assert another["result"]["version"] == 2, "another call of the same command is applied"
