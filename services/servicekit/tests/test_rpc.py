"""``@command`` in a real nameko container: what a call delivered or sent again answers.

RabbitMQ delivers a call again when the process that took it died before acking
(``eventcore.commands``). Through ``@command`` (the way every service exposes its
commands to the gateway), the redelivery changes nothing and answers a 409 that
says the request was carried out.

A partner sends a request again under its ``Idempotency-Key`` (the gateway puts
it in the call's context data): that answers what the first sending answered,
less what must never be kept (an API key is shown once, and stored hashed). A
key is its organisation's: another organisation's same key is another command,
and the same key with another request (another member's included) is a 422
naming the header. What was asked is kept as an HMAC, never as a plain hash that
would confirm a guess of a member's personal data after her erasure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import psycopg
import pytest

from contracts import catalogue
from services.eventcore.commands import IDEMPOTENCY_KEY
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.tests.factories import session_held
from services.servicekit import rpc as rpc_module
from services.servicekit.actor import Actor
from services.servicekit.rpc import command


class HoldingService:
    name = "holding_test"
    uow = UnitOfWorkProvider(catalogue)

    @command()
    def hold(self, actor: Actor, payload: dict[str, Any], pair_id: str) -> dict[str, Any]:
        version = self._append(pair_id)
        return {"pair_id": pair_id, "version": version, "by": actor.member_id}

    @command(kept=lambda answer: {**answer, "secret": None})
    def issue_secret(self, actor: Actor, payload: dict[str, Any],
                     pair_id: str) -> dict[str, Any]:
        self._append(pair_id)
        return {"pair_id": pair_id, "secret": "shown once"}

    def _append(self, pair_id: str) -> int:
        with self.uow() as uow:
            version = len(uow.load(pair_id)) + 1
            uow.append(pair_id, version - 1, [session_held(pair_id)])
        return version


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


# -- sent again under an Idempotency-Key ----------------------------------------------------


def _send(holding, method: str, actor: dict[str, Any], key: str, pair: str,
          payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new call (its own correlation id), as a partner's retry through the gateway."""
    return holding(method, str(uuid.uuid4()), actor, payload or {}, pair_id=pair,
                   context={IDEMPOTENCY_KEY: key})


def test_a_request_sent_again_under_its_key_answers_its_first_answer(holding, database_url):
    pair, key, actor = str(uuid.uuid4()), str(uuid.uuid4()), _member()
    first = _send(holding, "hold", actor, key, pair)
    assert first["error"] is None and first["result"]["version"] == 1
    assert _send(holding, "hold", actor, key, pair) == first
    assert _send(holding, "hold", actor, key, pair) == first
    assert _events(database_url, pair) == 1


def test_a_key_with_another_request_is_a_422_naming_the_header(holding, database_url):
    pair, key, actor = str(uuid.uuid4()), str(uuid.uuid4()), _member()
    assert _send(holding, "hold", actor, key, pair)["error"] is None
    for other in (_send(holding, "hold", actor, key, pair, {"note": "other"}),
                  _send(holding, "hold", actor, key, str(uuid.uuid4()))):
        error = other["error"]
        assert error["exc_type"] == "ServiceError"
        assert "idempotency_key_reused" in error["value"]
        assert "Idempotency-Key" in error["value"]
    assert _events(database_url, pair) == 1


def test_a_key_is_its_organisations_own(holding, database_url):
    """Another organisation's same key is another command; another member of the same
    organisation sending the same key is another request (a 422), not a replay."""
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    ours, theirs = _member(), _member()
    colleague = {**ours, "member_id": str(uuid.uuid4())}
    assert _send(holding, "hold", ours, key, pair)["result"]["version"] == 1
    assert _send(holding, "hold", theirs, key, pair)["result"]["version"] == 2
    assert "idempotency_key_reused" in _send(holding, "hold", colleague, key, pair)["error"][
        "value"]
    assert _events(database_url, pair) == 2


def test_what_is_shown_once_is_not_kept_and_sent_again_the_answer_comes_without_it(
    holding, database_url,
):
    pair, key, actor = str(uuid.uuid4()), str(uuid.uuid4()), Actor.organisation(
        str(uuid.uuid4())).to_dict()
    first = _send(holding, "issue_secret", actor, key, pair)["result"]
    assert first == {"pair_id": pair, "secret": "shown once"}
    assert _send(holding, "issue_secret", actor, key, pair)["result"] == {
        "pair_id": pair, "secret": None}
    assert _events(database_url, pair) == 1
    with psycopg.connect(database_url) as conn:
        kept = conn.execute("SELECT reply FROM processed_commands").fetchall()
    assert "shown once" not in repr(kept)


def test_what_was_asked_is_kept_as_an_hmac_not_a_plain_hash(holding, database_url):
    """A plain hash of what a registration asked (a name, an e-mail) would confirm a
    guess of them after the member's erasure; the HMAC's key is in no database."""
    pair, key, actor = str(uuid.uuid4()), str(uuid.uuid4()), _member()
    payload = {"email": "jeanne@example.org"}
    _send(holding, "hold", actor, key, pair, payload)
    with psycopg.connect(database_url) as conn:
        (digest,) = conn.execute("SELECT request_digest FROM processed_commands").fetchone()
    asked = json.dumps(["hold", [actor, payload], {"pair_id": pair}], sort_keys=True,
                       separators=(",", ":"), ensure_ascii=False).encode()
    assert digest != hashlib.sha256(asked).hexdigest()
    assert digest == hmac.new(rpc_module._digest_key(), asked, hashlib.sha256).hexdigest()
