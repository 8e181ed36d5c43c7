"""Guarantees: a command is applied once, however often RabbitMQ delivers the call;
and a keyed command once, however often its caller sends it.

RabbitMQ redelivers an RPC message that was not acked, and nameko acks only after
replying: a process killed between its commit and that ack gets the same call
again on restart. These tests deliver the very same AMQP message (same
correlation id) twice to a real nameko container, as that restart would.

A partner whose request timed out sends it again, as a new call (a new
correlation id) under the same idempotency key: those tests send such calls.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from contracts import catalogue
from services.eventcore import schema
from services.eventcore.commands import (
    IDEMPOTENCY_KEY,
    Command,
    CommandAlreadyApplied,
    command_rpc,
    keep_reply,
    mark_applied,
)
from services.eventcore.database import UnitOfWorkProvider
from services.eventcore.testing import wait_until

from .factories import session_held


class FilingService:
    name = "filing_test"
    uow = UnitOfWorkProvider(catalogue)
    refuse_next = False
    answer_after = 0.0
    decide_for = 0.0
    database_url = ""
    #: (pair, its events as another connection saw them) from each action on commit.
    seen_after_commit: list[tuple[str, int]] = []

    @command_rpc
    def hold(self, pair_id: str) -> str:
        with self.uow() as uow:
            version = len(uow.load(pair_id))
            uow.append(pair_id, version, [session_held(pair_id)])
            uow.on_commit(lambda: FilingService.seen_after_commit.append(
                (pair_id, _held(FilingService.database_url, pair_id))))
            if FilingService.refuse_next:
                FilingService.refuse_next = False
                raise RuntimeError("refused after appending: the unit of work rolls back")
        return f"held at version {version + 1}"

    @command_rpc
    def hold_after_reading_aside(self, pair_id: str) -> str:
        """Reads first in a unit of work aside (as sessions reads the moderators' key),
        and may die before deciding."""
        with self.uow.aside() as uow:
            uow.load(pair_id)
        if FilingService.refuse_next:
            FilingService.refuse_next = False
            raise RuntimeError("died after reading, before deciding")
        return self.hold(pair_id)

    @command_rpc(kept=lambda answer: {**answer, "secret": None})
    def hold_secretly(self, pair_id: str) -> dict[str, str | None]:
        """Part of its answer must never be kept on disk (as an API key shown once)."""
        self.hold(pair_id)
        return {"pair_id": pair_id, "secret": "shown once"}

    @command_rpc
    def hold_after_deciding_slowly(self, pair_id: str) -> str:
        """Its transaction lasts ``decide_for`` (a lock waited on), then it answers
        ``answer_after`` its commit."""
        with self.uow() as uow:
            version = len(uow.load(pair_id))
            uow.append(pair_id, version, [session_held(pair_id)])
            time.sleep(FilingService.decide_for)
        time.sleep(FilingService.answer_after)
        return f"held at version {version + 1}"

    @command_rpc(kept=lambda answer: answer["no such part"])
    def hold_unkeepably(self, pair_id: str) -> dict[str, str]:
        """What of its answer may be kept cannot be worked out (a fault in ``kept``)."""
        self.hold(pair_id)
        return {"pair_id": pair_id}

    @command_rpc
    def hold_slowly(self, pair_id: str) -> str:
        """Answers a while after its commit: a retry comes in between."""
        answer = self.hold(pair_id)
        time.sleep(FilingService.answer_after)
        return answer

    @command_rpc
    def hold_twice(self, pair_id: str) -> str:
        """Two units of work, one command: the second is not taken for a redelivery."""
        for _ in range(2):
            with self.uow() as uow:
                version = len(uow.load(pair_id))
                uow.append(pair_id, version, [session_held(pair_id)])
        return "held twice"


@pytest.fixture
def filing(deliveries_to, database_url):
    FilingService.database_url, FilingService.seen_after_commit = database_url, []
    yield deliveries_to(FilingService)
    FilingService.refuse_next, FilingService.answer_after = False, 0.0
    FilingService.decide_for = 0.0


def _held(database_url: str, pair: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT count(*) FROM events WHERE stream_id = %s",
                            (pair,)).fetchone()[0]


def test_a_redelivered_command_appends_nothing_and_says_it_was_applied(filing, database_url):
    pair, call = str(uuid.uuid4()), str(uuid.uuid4())
    first = filing("hold", call, pair_id=pair)
    assert first == {"result": "held at version 1", "error": None}
    again = filing("hold", call, pair_id=pair)
    assert again["result"] is None
    assert again["error"]["exc_type"] == "CommandAlreadyApplied"
    assert call in again["error"]["value"]
    assert _held(database_url, pair) == 1


def test_another_call_of_the_same_command_is_applied(filing, database_url):
    pair = str(uuid.uuid4())
    assert filing("hold", str(uuid.uuid4()), pair_id=pair)["result"] == "held at version 1"
    assert filing("hold", str(uuid.uuid4()), pair_id=pair)["result"] == "held at version 2"
    assert _held(database_url, pair) == 2


def test_a_command_that_failed_leaves_no_mark_and_is_decided_again(filing, database_url):
    pair, call = str(uuid.uuid4()), str(uuid.uuid4())
    FilingService.refuse_next = True
    failed = filing("hold", call, pair_id=pair)
    assert failed["error"]["exc_type"] == "RuntimeError"
    assert _held(database_url, pair) == 0
    assert filing("hold", call, pair_id=pair)["result"] == "held at version 1"
    assert _held(database_url, pair) == 1


def test_the_units_of_work_of_one_command_are_one_command(filing, database_url):
    pair, call = str(uuid.uuid4()), str(uuid.uuid4())
    assert filing("hold_twice", call, pair_id=pair)["result"] == "held twice"
    assert _held(database_url, pair) == 2
    assert filing("hold_twice", call, pair_id=pair)["error"]["exc_type"] == \
        "CommandAlreadyApplied"
    assert _held(database_url, pair) == 2


def test_an_action_on_commit_runs_after_the_commands_commit_and_never_after_a_failure(
    filing, database_url,
):
    pair, failing = str(uuid.uuid4()), str(uuid.uuid4())
    FilingService.refuse_next = True
    assert filing("hold", str(uuid.uuid4()), pair_id=failing)["error"] is not None
    assert filing("hold", str(uuid.uuid4()), pair_id=pair)["result"] == "held at version 1"
    assert FilingService.seen_after_commit == [(pair, 1)]


def test_what_a_command_reads_aside_does_not_take_its_mark(filing, database_url):
    """A command that died after reading (aside) and before deciding is decided in
    full when the call comes again (it would be refused as applied otherwise)."""
    pair, call = str(uuid.uuid4()), str(uuid.uuid4())
    FilingService.refuse_next = True
    assert filing("hold_after_reading_aside", call, pair_id=pair)["error"]["exc_type"] == \
        "RuntimeError"
    again = filing("hold_after_reading_aside", call, pair_id=pair)
    assert again == {"result": "held at version 1", "error": None}
    assert _held(database_url, pair) == 1


# -- sent again under one idempotency key -------------------------------------------------------


def _keyed(key: str) -> dict[str, str]:
    return {IDEMPOTENCY_KEY: key}


def _kept(database_url: str) -> list[tuple[str | None, object]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT request_digest, reply FROM processed_commands "
                            "WHERE command_id LIKE 'key:%'").fetchall()


def test_a_command_sent_again_under_its_key_appends_nothing_and_its_answer_is_kept(
    filing, database_url,
):
    """Here the retry is refused as applied; what answers it with the kept answer is
    ``servicekit.rpc`` (its own test)."""
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    first = filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert first == {"result": "held at version 1", "error": None}
    # Kept before it was sent: the moment the caller has the answer, a retry finds it.
    assert [reply for _, reply in _kept(database_url)] == [{"answer": "held at version 1"}]
    for _ in range(2):  # new calls (new correlation ids), as a partner's retries are
        again = filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
        assert again["error"]["exc_type"] == "CommandAlreadyApplied"
        assert "(its answer kept)" in again["error"]["value"]
    assert _held(database_url, pair) == 1
    other = filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(str(uuid.uuid4())))
    assert other["result"] == "held at version 2", "another key is another command"


def test_a_key_sent_with_another_request_is_refused_and_changes_nothing(filing, database_url):
    pair, elsewhere, key = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    assert filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))["error"] is None
    reused = filing("hold", str(uuid.uuid4()), pair_id=elsewhere, context=_keyed(key))
    assert reused["error"]["exc_type"] == "IdempotencyKeyReused"
    other_method = filing("hold_twice", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert other_method["error"]["exc_type"] == "IdempotencyKeyReused"
    assert (_held(database_url, pair), _held(database_url, elsewhere)) == (1, 0)


def test_what_of_an_answer_must_not_be_on_disk_is_left_out_of_what_is_kept(
    filing, database_url,
):
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    first = filing("hold_secretly", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert first["result"] == {"pair_id": pair, "secret": "shown once"}
    assert "shown once" not in repr(_kept(database_url))
    assert [reply for _, reply in _kept(database_url)] == [
        {"answer": {"pair_id": pair, "secret": None}}]
    assert _held(database_url, pair) == 1


def test_a_retry_sent_while_the_first_is_being_answered_is_refused_without_waiting(
    filing, database_url,
):
    """The partner gave up waiting and sent again: the retry finds the first sending
    committed but not answered, and is refused as applied with no answer yet (a
    409 to send again in a second, ``servicekit.rpc``), rather than hold a worker
    and a connection until the answer is kept. Sent after, it gets the answer."""
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    FilingService.answer_after = 2.0
    answers: list[dict] = []
    first = threading.Thread(target=lambda: answers.append(
        filing("hold_slowly", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))))
    first.start()
    wait_until(lambda: _held(database_url, pair) == 1, what="the first sending's commit")
    early = filing("hold_slowly", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert early["error"]["exc_type"] == "CommandAlreadyApplied"
    assert "(no answer kept)" in early["error"]["value"]
    assert answers == [], "refused while the first was still being answered"
    first.join()
    assert answers == [{"result": "held at version 1", "error": None}]
    later = filing("hold_slowly", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert "(its answer kept)" in later["error"]["value"]
    assert _held(database_url, pair) == 1


def test_a_keyed_command_unanswered_past_the_deadline_is_refused_with_its_answer_lost(
    filing, database_url,
):
    """Its process died between its commit and keeping its answer (the row as such a
    death leaves it): within ``ANSWER_DEADLINE`` of its commit a retry may still be
    early, after it the answer is lost and will stay so."""
    from services.eventcore.commands import ANSWER_DEADLINE

    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    assert filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))["error"] is None

    def died_before_answering(seconds_ago: int) -> str:
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE processed_commands SET reply = NULL, "
                         "applied_at = now() - make_interval(secs => %s) "
                         "WHERE command_id LIKE 'key:%%'", (seconds_ago,))
        again = filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
        assert again["error"]["exc_type"] == "CommandAlreadyApplied"
        return again["error"]["value"]

    assert "(no answer kept)" in died_before_answering(ANSWER_DEADLINE - 5)
    assert "(its answer lost)" in died_before_answering(ANSWER_DEADLINE + 5)
    assert _held(database_url, pair) == 1


def test_the_deadline_runs_from_the_commit_not_from_a_long_transactions_start(
    filing, database_url, monkeypatch,
):
    """A first sending that waited longer than the deadline before committing is
    still answering: a retry just after its commit is told to come back, not that
    the answer is lost; and then it gets the answer."""
    from services.eventcore import commands

    monkeypatch.setattr(commands, "ANSWER_DEADLINE", 1)
    FilingService.decide_for, FilingService.answer_after = 2.0, 2.0
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    answers: list[dict] = []
    first = threading.Thread(target=lambda: answers.append(filing(
        "hold_after_deciding_slowly", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))))
    first.start()
    wait_until(lambda: _held(database_url, pair) == 1, what="the first sending's commit")
    early = filing("hold_after_deciding_slowly", str(uuid.uuid4()), pair_id=pair,
                   context=_keyed(key))
    assert "(no answer kept)" in early["error"]["value"], early
    first.join()
    later = filing("hold_after_deciding_slowly", str(uuid.uuid4()), pair_id=pair,
                   context=_keyed(key))
    assert "(its answer kept)" in later["error"]["value"]
    assert answers == [{"result": "held at version 1", "error": None}]


def test_a_fault_in_what_may_be_kept_never_keeps_the_answer_from_its_caller(
    filing, database_url,
):
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    first = filing("hold_unkeepably", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert first == {"result": {"pair_id": pair}, "error": None}
    assert [reply for _, reply in _kept(database_url)] == [{"lost": True}], "said lost"
    again = filing("hold_unkeepably", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert "(its answer lost)" in again["error"]["value"], "at once, not a minute on"
    assert _held(database_url, pair) == 1


def test_a_keyed_command_that_failed_leaves_no_mark_and_is_decided_again(filing, database_url):
    pair, key = str(uuid.uuid4()), str(uuid.uuid4())
    FilingService.refuse_next = True
    assert filing("hold", str(uuid.uuid4()), pair_id=pair,
                  context=_keyed(key))["error"]["exc_type"] == "RuntimeError"
    assert _kept(database_url) == []
    again = filing("hold", str(uuid.uuid4()), pair_id=pair, context=_keyed(key))
    assert again == {"result": "held at version 1", "error": None}
    assert _held(database_url, pair) == 1


@pytest.mark.parametrize("columns", ["", ", request_sha256 text, reply jsonb"],
                         ids=["before keys", "with the plain hash"])
def test_a_database_of_an_earlier_layout_is_brought_forward_keeping_its_marks(
    database_url, columns,
):
    """The marks table before idempotency keys (and as it was briefly, with a plain
    hash): installed again, it gains what keyed commands keep, and its marks stay."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE processed_commands (command_id text PRIMARY KEY, "
                     f"applied_at timestamptz NOT NULL DEFAULT now(){columns})")
        conn.execute("INSERT INTO processed_commands (command_id) VALUES ('earlier')")
        schema.install(conn)
        schema.install(conn)  # and at the next start: nothing left to do
        found = {name for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'processed_commands'")}
        assert found == {"command_id", "applied_at", "request_digest", "reply"}
        conn.autocommit = False
        with pytest.raises(CommandAlreadyApplied):
            mark_applied(conn, Command("earlier"))
        conn.rollback()
        mark_applied(conn, Command("key:k", request_digest="d"))
        keep_reply(conn, Command("key:k", request_digest="d"), {"id": 1})
        conn.commit()
        with pytest.raises(CommandAlreadyApplied) as applied:
            mark_applied(conn, Command("key:k", request_digest="d"))
        assert applied.value.reply == ({"id": 1},)
