"""What each sessions command does, in one transaction: load, decide, seal, save.

The nameko service (``service``) only translates calls into these functions;
everything here runs inside ``uow.run`` (retried from scratch on a concurrency
conflict) or a Kafka handler's tracked transaction, so a command either commits
whole or leaves nothing behind. Texts are sealed under their author's key for the
pair in the same transaction as the event that carries them (R8): the key and the first
ciphertext made with it commit together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.eventcore.database import UnitOfWork
from services.servicekit.actor import Actor
from services.servicekit.crypto import Keyring, author_key_id
from services.servicekit.errors import NotFound, RuleViolation
from services.sessions.application import views
from services.sessions.domain import Pair, no_such_pair
from services.sessions.storage import queries


def new_id() -> str:
    return str(uuid.uuid4())


# -- opening and closing pairs (from other contexts' events) -------------------------------


def open_pair(uow: UnitOfWork, pair_id: str, mentor_id: str, mentee_id: str,
              formed_at: datetime | str, mentor_organisation_id: str | None = None,
              mentee_organisation_id: str | None = None) -> str:
    """matching's ``PairFormed``: the pair's stream starts with ``PairOpened``.

    The organisations are the event's (v2); a pair formed as v1 names none, and
    identity's members say them. Returns ``opened``, ``exists`` (this ``PairFormed``
    was already consumed) or ``awaiting`` (identity's events have not told yet which
    organisation one of the members belongs to: the pair opens when they do,
    ``open_awaiting``)."""
    if uow.store.version(uow.conn, pair_id) > 0:
        return "exists"
    if mentor_organisation_id and mentee_organisation_id:
        organisations = {mentor_id: mentor_organisation_id, mentee_id: mentee_organisation_id}
    else:
        organisations = queries.member_organisations(uow.conn, [mentor_id, mentee_id])
    if mentor_id not in organisations or mentee_id not in organisations:
        queries.await_members(uow.conn, pair_id, mentor_id, mentee_id, formed_at)
        return "awaiting"
    moment = formed_at if isinstance(formed_at, datetime) else datetime.fromisoformat(formed_at)
    pair = Pair.open(pair_id, mentor_id, mentee_id, organisations[mentor_id],
                     organisations[mentee_id], moment)
    uow.save(pair)
    return "opened"


def open_awaiting(uow: UnitOfWork, member_id: str) -> int:
    """After identity's ``MemberRegistered``: the pairs that waited for her open now
    (if their other member is known too). Returns how many opened."""
    opened = 0
    for row in queries.awaiting_member(uow.conn, member_id):
        outcome = open_pair(uow, row["pair_id"], row["mentor_id"], row["mentee_id"],
                            row["formed_at"])
        if outcome != "awaiting":
            queries.stop_awaiting(uow.conn, row["pair_id"])
            opened += outcome == "opened"
    return opened


def end_pair(uow: UnitOfWork, pair_id: str, reason: str, ended_by: str | None,
             ended_at: datetime) -> bool:
    """matching's ``PairEnded``: close, cancel what is still scheduled."""
    pair = uow.get(Pair, pair_id)
    if pair is None:
        # Ended before it could open (its members still unknown here): nothing to close.
        queries.stop_awaiting(uow.conn, pair_id)
        return False
    closed = pair.on_pair_ended(reason, ended_by, ended_at)
    uow.save(pair)
    return closed


def exclude_member(uow: UnitOfWork, member_id: str, excluded_at: datetime) -> int:
    """moderation's ``MemberExcluded`` (R2): every open pair of hers is closed and
    its sessions to come cancelled. Returns how many pairs closed."""
    closed = 0
    for pair_id in queries.open_pairs_of(uow.conn, member_id):
        pair = uow.get(Pair, pair_id)
        if pair is not None and pair.on_member_excluded(member_id, excluded_at):
            uow.save(pair)
            closed += 1
    return closed


# -- R7: cadence ---------------------------------------------------------------------------


def check_cadence(uow: UnitOfWork, pair_id: str, now: datetime) -> bool:
    """One pair's check; True if it just became overdue (one event per episode)."""
    pair = uow.get(Pair, pair_id)
    if pair is None or not pair.check(now):
        return False
    uow.save(pair)
    return True


# -- commands of a member of the pair ------------------------------------------------------


def member_pair(uow: UnitOfWork, actor: Actor, pair_id: str) -> tuple[Pair, str]:
    """The pair and the member acting on it. R8: only a member acting as herself;
    R9: either member of the pair. Anyone else learns nothing: a pair she is not
    in reads like a pair that does not exist (the domain checks membership)."""
    member_id = actor.as_member().member_id
    assert member_id is not None
    pair = uow.get(Pair, pair_id)
    if pair is None or not pair.is_member(member_id):
        raise no_such_pair()
    return pair, member_id


class PairCommands:
    """Commands on one pair, with the keyring and the clock's ``now`` at hand."""

    def __init__(self, uow: UnitOfWork, keyring: Keyring, now: datetime) -> None:
        self.uow = uow
        self.keyring = keyring
        self.now = now
        #: The organisations of the pair acted on (for per-organisation metrics).
        self.organisations: frozenset[str] = frozenset()

    def _seal(self, pair: Pair, author: str, plaintext: str) -> str:
        """R8: readable by the pair only, sealed under the key of what ``author`` writes
        for this pair, so that her erasure shreds her words and only hers."""
        return self.keyring.seal(self.uow.conn, author_key_id(pair.id, author), plaintext)

    def _done(self, pair: Pair, recorded_id: str) -> dict[str, Any]:
        self.uow.save(pair)
        return {"id": recorded_id, "pair_id": pair.id, "version": pair.version}

    def run(self, actor: Actor, pair_id: str, decide: Callable[[Pair, str], str],
            charter_required: bool = True) -> dict[str, Any]:
        pair, member_id = member_pair(self.uow, actor, pair_id)
        if charter_required and not queries.charter_is_current(self.uow.conn, member_id):
            # R3: taking part means accepting the charter, in its current version.
            raise RuleViolation("R3", "Accept the current charter first: a member holds "
                                "sessions only under the charter in force.", field="charter")
        self.organisations = pair.organisation_ids
        return self._done(pair, decide(pair, member_id))

    # -- R5 --------------------------------------------------------------------------------

    def record_meeting_plan(self, actor: Actor, pair_id: str,
                            p: dict[str, Any]) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.record_meeting_plan(by, p["interval_days"], p["preferred_modality"],
                                     p["first_meeting_on"], p["next_dates"], self.now)
            return pair.id

        return self.run(actor, pair_id, decide)

    # -- R6, R9 ----------------------------------------------------------------------------

    def schedule_session(self, actor: Actor, pair_id: str, p: dict[str, Any],
                         session_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.schedule_session(session_id, by, p["starts_at"], p["planned_minutes"],
                                  p["modality"], self.now)
            return session_id

        return self.run(actor, pair_id, decide)

    def record_session_held(self, actor: Actor, pair_id: str, p: dict[str, Any],
                            session_id: str, scheduled: bool) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.record_session_held(session_id, by, p["started_at"], p["duration_minutes"],
                                     p["modality"], self.now, scheduled=scheduled)
            return session_id

        return self.run(actor, pair_id, decide)

    def confirm_session(self, actor: Actor, pair_id: str, session_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.confirm_session(session_id, by, self.now)
            return session_id

        return self.run(actor, pair_id, decide)

    def cancel_session(self, actor: Actor, pair_id: str, session_id: str,
                       p: dict[str, Any]) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.cancel_session(session_id, by, p["reason"], self.now)
            return session_id

        return self.run(actor, pair_id, decide)

    # -- R4, R10 ---------------------------------------------------------------------------

    def state_objective(self, actor: Actor, pair_id: str, p: dict[str, Any],
                        objective_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.state_objective(objective_id, by, p["kind"], self._seal(pair, by, p["text"]),
                                 self.now)
            return objective_id

        return self.run(actor, pair_id, decide)

    def revise_objective(self, actor: Actor, pair_id: str, objective_id: str,
                         p: dict[str, Any]) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.revise_objective(objective_id, by, self._seal(pair, by, p["text"]), self.now)
            return objective_id

        return self.run(actor, pair_id, decide)

    def achieve_objective(self, actor: Actor, pair_id: str,
                          objective_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.achieve_objective(objective_id, by, self.now)
            return objective_id

        return self.run(actor, pair_id, decide)

    def comment_objective(self, actor: Actor, pair_id: str, objective_id: str,
                          p: dict[str, Any], comment_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.comment_objective(objective_id, comment_id, by, self._seal(pair, by, p["text"]),
                                   self.now)
            return comment_id

        return self.run(actor, pair_id, decide)

    def add_action_item(self, actor: Actor, pair_id: str, objective_id: str,
                        p: dict[str, Any], action_item_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.add_action_item(objective_id, action_item_id, by,
                                 self._seal(pair, by, p["text"]), self.now, p.get("due_on"))
            return action_item_id

        return self.run(actor, pair_id, decide)

    def change_action_item_state(self, actor: Actor, pair_id: str, action_item_id: str,
                                 p: dict[str, Any]) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.change_action_item_state(action_item_id, by, p["state"], self.now)
            return action_item_id

        return self.run(actor, pair_id, decide)

    # -- R8, R11 ---------------------------------------------------------------------------

    def add_note(self, actor: Actor, pair_id: str, p: dict[str, Any],
                 note_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.add_note(note_id, by, self._seal(pair, by, p["text"]), self.now,
                          p.get("session_id"))
            return note_id

        return self.run(actor, pair_id, decide)

    def give_feedback(self, actor: Actor, pair_id: str, session_id: str, p: dict[str, Any],
                      feedback_id: str) -> dict[str, Any]:
        def decide(pair: Pair, by: str) -> str:
            pair.give_feedback(feedback_id, session_id, by, self._seal(pair, by, p["text"]),
                               self.now)
            return feedback_id

        return self.run(actor, pair_id, decide)

    # -- R1/R2 -----------------------------------------------------------------------------

    def report_solicitation(self, actor: Actor, pair_id: str, p: dict[str, Any],
                            sealed_details: str, report_id: str) -> dict[str, Any]:
        """``sealed_details`` were sealed for the moderators by the caller, outside the
        transaction (their public key comes from moderation by RPC)."""
        def decide(pair: Pair, by: str) -> str:
            pair.report_solicitation(report_id, by, sealed_details, p["session_ids"],
                                     self.now)
            return report_id

        # R1 before R3: whoever was solicited can always say so.
        return self.run(actor, pair_id, decide, charter_required=False)


def erase_member_texts(uow: UnitOfWork, keyring: Keyring, member_id: str) -> list[str]:
    """Her erasure reaches what she wrote for her pairs: the key of her words in each
    pair is destroyed (a tombstone where she wrote nothing: never created later); her
    counterparts' words stay theirs. Returns the pairs."""
    pairs = queries.pairs_of(uow.conn, member_id)
    for pair_id in pairs:
        keyring.destroy(uow.conn, author_key_id(pair_id, member_id))
    return pairs


def export_member(uow: UnitOfWork, keyring: Keyring, actor: Actor,
                  member_id: str) -> dict[str, Any]:
    """Right of access: every pair she is in, with its texts when she asks herself
    (R8); her organisation gets the states; anyone else, what a missing member gets."""
    organisation_id = actor.in_organisation()
    herself = actor.kind == "member" and actor.member_id == member_id
    if actor.kind == "member" and not herself:
        raise NotFound("No such member.", field="member_id")
    if not herself and queries.member_organisation(uow.conn, member_id) != organisation_id:
        raise NotFound("No such member.", field="member_id")
    rows, _ = queries.pairs(uow.conn, Actor.member(organisation_id, member_id, ""), None, None,
                            10_000, 0)
    texts = views.Texts(uow.conn, keyring)
    exported = []
    for row in rows:
        pair_id = str(row["pair_id"])
        exported.append({
            "pair": views.pair(row, queries.plan_history(uow.conn, pair_id),
                               queries.sessions(uow.conn, pair_id),
                               queries.counts(uow.conn, pair_id)),
            "objectives": texts.objectives(
                queries.objectives(uow.conn, pair_id),
                queries.objective_revisions(uow.conn, pair_id),
                queries.objective_comments(uow.conn, pair_id),
                queries.action_items(uow.conn, pair_id)) if herself else None,
            "notes": texts.notes(queries.notes(uow.conn, pair_id)) if herself else None,
            "feedback": texts.feedback(queries.feedback(uow.conn, pair_id)) if herself else None,
        })
    return {"pairs": exported}
