"""What each matching command and query does, in one transaction: read the pool,
let the domain decide, save.

The nameko service (``service``) only translates calls into these functions;
the commands run inside ``uow.run`` (retried from scratch on a concurrency
conflict), so each commits whole or leaves nothing behind. Commands that add a
pending pair take the members' locks (``queries.lock``) before they count
anything: that is what keeps a mentor within her capacity and a mentee to one
pair, whatever arrives at the same moment.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from services.eventcore.database import UnitOfWork
from services.eventcore.store import ConcurrencyConflict
from services.matching.application import views
from services.matching.application.mentor_index import MentorIndexCache
from services.matching.application.metrics import Tally
from services.matching.domain.candidate import Candidate
from services.matching.domain.capacity import assert_mentee_free
from services.matching.domain.cohort import assign_greedy, assign_optimal, intake
from services.matching.domain.eligibility import Eligibility, assert_eligible, eligibility
from services.matching.domain.pair import Pair
from services.matching.domain.profiles import MentorProfile
from services.matching.domain.proposal import Proposal, audit, propose, rederive_score
from services.matching.domain.suggestions import MentorIndex
from services.matching.domain.weights import MatchingConfig
from services.matching.storage import queries
from services.servicekit.actor import Actor
from services.servicekit.errors import Invalid, NotFound


def new_id() -> str:
    return str(uuid.uuid4())


def _save(uow: UnitOfWork, tally: Tally, pair: Pair) -> None:
    """Append what the pair decided; the tally counts it once the transaction commits."""
    pending = list(pair.pending)
    uow.save(pair)
    tally.saw(pair, [e.name for e in pending], {e.name: e.data for e in pending})


# -- who is asking ---------------------------------------------------------------------------



def _own_member(uow: UnitOfWork, actor: Actor, member_id: str, field: str) -> Candidate:
    """A member of the actor's organisation, or the acting member herself; anything
    else reads as a member that does not exist (tenant isolation)."""
    organisation_id = actor.in_organisation()
    what = field.removesuffix("_id")
    if actor.kind == "member" and actor.member_id != member_id:
        raise NotFound(f"No such {what}.", field=field)
    found = queries.candidate(uow.conn, member_id)
    if found is None or found.organisation_id != organisation_id:
        raise NotFound(f"No such {what}.", field=field)
    return found


def _mentee(uow: UnitOfWork, actor: Actor, mentee_id: str) -> Candidate:
    found = _own_member(uow, actor, mentee_id, "mentee_id")
    if found.role != "mentee":
        raise NotFound("No such mentee.", field="mentee_id")
    return found


def _eligibility(uow: UnitOfWork, member_id: str, charter: int | None) -> Eligibility:
    found = queries.candidate(uow.conn, member_id)
    if found is None:  # never read by matching: as good as gone
        return Eligibility(member_id, ("erased",))
    return eligibility(found, charter)


def _visible_pair(uow: UnitOfWork, actor: Actor, pair_id: str) -> dict[str, Any]:
    """A pair's row for one of its members, or for the organisation of either."""
    organisation_id = actor.in_organisation()
    row = queries.pair(uow.conn, pair_id)
    if row is None:
        raise NotFound("No such pair.", field="pair_id")
    if actor.kind == "member":
        if actor.member_id not in (row["mentor_id"], row["mentee_id"]):
            raise NotFound("No such pair.", field="pair_id")
    elif organisation_id not in (row["mentor_organisation_id"], row["mentee_organisation_id"]):
        raise NotFound("No such pair.", field="pair_id")
    return row


def _members_pair(uow: UnitOfWork, actor: Actor, pair_id: str) -> Pair:
    """R9: a member of the pair, acting as herself; anyone else finds no such pair."""
    actor.as_member()
    pair = uow.get(Pair, pair_id)
    if pair is None or actor.member_id not in pair.members:
        raise NotFound("No such pair.", field="pair_id")
    return pair


def _mentors(uow: UnitOfWork, organisation_id: str, charter: int | None) -> MentorIndex:
    """The eligible mentors (R2, R3) a mentee of ``organisation_id`` may meet, each
    with her load now."""
    return MentorIndex([
        candidate.as_mentor(load)
        for candidate, load in queries.visible_mentors(uow.conn, organisation_id, charter)
        if eligibility(candidate, charter).eligible
    ])


# -- reading ---------------------------------------------------------------------------------


def member_eligibility(uow: UnitOfWork, actor: Actor, member_id: str) -> dict[str, Any]:
    member = _own_member(uow, actor, member_id, "member_id")
    charter = queries.current_charter(uow.conn)
    if member.role == "mentor":
        open_pairs = queries.mentor_loads(uow.conn, [member_id])[member_id]
    else:
        open_pairs = queries.mentee_open_pairs(uow.conn, [member_id])[member_id]
    return views.eligibility(eligibility(member, charter), role=member.role,
                             charter_version=charter, accepted_charter=member.accepted_charter,
                             open_pairs=open_pairs,
                             capacity=member.capacity if member.role == "mentor" else None)


def suggest(uow: UnitOfWork, config: MatchingConfig, actor: Actor, mentee_id: str,
            limit: int | None, indexes: MentorIndexCache | None = None) -> dict[str, Any]:
    """The top mentors for the mentee, each with the part every criterion played, and
    how many mentors each hard constraint ruled out. ``indexes``: the process's
    indexes kept while the read model has not changed."""
    mentee = _mentee(uow, actor, mentee_id)
    charter = queries.current_charter(uow.conn)
    assert_eligible(mentee, charter, field="mentee_id")  # R3, R2
    organisation_id = mentee.organisation_id
    if indexes is None:
        index = _mentors(uow, organisation_id, charter)
    else:
        index = indexes.get(uow.conn, organisation_id, charter,
                            lambda: _mentors(uow, organisation_id, charter),
                            lambda: queries.open_loads(uow.conn))
    found = index.suggest(mentee.as_mentee(), config.weights, limit or config.suggestions)
    return views.suggestions(found)


def list_pairs(uow: UnitOfWork, actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    organisation_id = actor.in_organisation()
    member_id = actor.member_id if actor.kind == "member" else None
    rows, total = queries.pairs(uow.conn, organisation_id=organisation_id, member_id=member_id,
                                state=payload.get("state"), limit=payload["limit"],
                                offset=payload["offset"])
    return {"items": [views.pair(r) for r in rows], "total": total}


def export_member(uow: UnitOfWork, actor: Actor, member_id: str) -> dict[str, Any]:
    eligibility = member_eligibility(uow, actor, member_id)  # no such member: NotFound
    rows, _ = queries.pairs(uow.conn, organisation_id=actor.in_organisation(),
                            member_id=member_id, state=None, limit=10_000, offset=0)
    return {"eligibility": eligibility, "pairs": [views.pair(r) for r in rows]}


def get_pair(uow: UnitOfWork, actor: Actor, pair_id: str) -> dict[str, Any]:
    return views.pair(_visible_pair(uow, actor, pair_id))


def explain(uow: UnitOfWork, actor: Actor, pair_id: str) -> dict[str, Any]:
    """The proposal as recorded, and re-derived from that record alone (``rederive``,
    ``audit``): anyone auditing it later gets the same score from the event."""
    _visible_pair(uow, actor, pair_id)
    recorded = next(e.data for e in uow.load(pair_id) if e.name == "MatchProposed")
    try:
        again = rederive_score(recorded)
        findings = audit(recorded)
    except Invalid:
        return views.explanation(pair_id, recorded, None)  # a v1 proposal: no inputs
    return views.explanation(pair_id, recorded, {
        "score": again.total, "components": dict(again.components),
        "consistent": not findings, "findings": findings})


# -- a mentee's request, and the answers (R9) ----------------------------------------------


def request_mentor(uow: UnitOfWork, tally: Tally, config: MatchingConfig, now: datetime,
                   actor: Actor, mentee_id: str, mentor_id: str) -> dict[str, Any]:
    """The mentee asks one mentor; she accepts by asking, the mentor has
    ``request_expiry_days`` to answer."""
    actor.as_member()
    if actor.member_id != mentee_id:
        raise NotFound("No such mentee.", field="mentee_id")
    # One pair per mentee, a mentor within her capacity: counted under both locks.
    queries.lock(uow.conn, [mentee_id, mentor_id])
    mentee = _mentee(uow, actor, mentee_id)
    mentor = queries.candidate(uow.conn, mentor_id)
    if mentor is None or mentor.role != "mentor" or (
        mentor.organisation_id != mentee.organisation_id
        and not (mentor.matching_scope == mentee.matching_scope == "open")
    ):
        # Another organisation's mentor she may not meet reads like no mentor at all,
        # before anything about her is said (eligibility included).
        raise NotFound("No such mentor.", field="mentor_id")
    load = queries.mentor_loads(uow.conn, [mentor_id])[mentor_id]
    open_pairs = queries.mentee_open_pairs(uow.conn, [mentee_id])[mentee_id]
    assert_mentee_free(open_pairs)
    proposal = propose(mentee, mentor, charter_version=queries.current_charter(uow.conn),
                       mentor_load=load, weights=config.weights)  # R3, R2, capacity
    pair = Pair.request(new_id(), proposal, at=now, expiry_days=config.request_expiry_days,
                        mentee_open_pairs=open_pairs, mentor_load=load)
    _save(uow, tally, pair)
    return get_pair(uow, actor, pair.id)


def accept(uow: UnitOfWork, tally: Tally, now: datetime, actor: Actor,
           pair_id: str) -> dict[str, Any]:
    """R9: either member accepts; the pair forms when both have (R3, R2: both must be
    eligible at that moment). A pending proposal already holds the mentor's place."""
    pair = _members_pair(uow, actor, pair_id)
    charter = queries.current_charter(uow.conn)
    pair.accept(str(actor.member_id), now, mentee=_eligibility(uow, pair.mentee_id, charter),
                mentor=_eligibility(uow, pair.mentor_id, charter))
    _save(uow, tally, pair)
    return get_pair(uow, actor, pair_id)


def decline(uow: UnitOfWork, tally: Tally, now: datetime, actor: Actor, pair_id: str,
            reason: str) -> dict[str, Any]:
    pair = _members_pair(uow, actor, pair_id)
    pair.decline(str(actor.member_id), reason, now)  # R9
    _save(uow, tally, pair)
    return get_pair(uow, actor, pair_id)


def withdraw(uow: UnitOfWork, tally: Tally, now: datetime, actor: Actor,
             pair_id: str) -> dict[str, Any]:
    pair = _members_pair(uow, actor, pair_id)
    pair.withdraw(str(actor.member_id), now)  # R9
    _save(uow, tally, pair)
    return get_pair(uow, actor, pair_id)


def end(uow: UnitOfWork, tally: Tally, now: datetime, actor: Actor, pair_id: str,
        reason: str) -> dict[str, Any]:
    pair = _members_pair(uow, actor, pair_id)
    pair.end(str(actor.member_id), reason, now)  # R9
    _save(uow, tally, pair)
    return get_pair(uow, actor, pair_id)


def expire(uow: UnitOfWork, tally: Tally, now: datetime, pair_id: str) -> bool:
    """A due proposal expires (the sweeper); ``False`` if it was answered meanwhile."""
    pair = uow.get(Pair, pair_id)
    if pair is None or not pair.expire(now):
        return False
    _save(uow, tally, pair)
    return True


# -- cohorts -----------------------------------------------------------------------------------


def propose_cohort(uow: UnitOfWork, tally: Tally, config: MatchingConfig, now: datetime,
                   actor: Actor, dry_run: bool) -> dict[str, Any]:
    """The optimal assignment of the organisation's intake, proposed pair by pair (both
    members must accept), beside greedy's for comparison.

    Computed on a snapshot without locks, then checked under the locks of every member
    it assigns: if a load or a mentee's pair changed meanwhile the whole cohort is
    computed again (``ConcurrencyConflict``: ``uow.run`` retries from scratch).
    """
    organisation_id = actor.as_admin()
    charter = queries.current_charter(uow.conn)
    mentees = intake(queries.organisation_mentees(uow.conn, organisation_id),
                     organisation_id=organisation_id,
                     open_pair_members=queries.busy_mentees(uow.conn, organisation_id),
                     current_charter=charter)
    index = _mentors(uow, organisation_id, charter)
    optimal = assign_optimal(mentees, index, config.weights)
    greedy = assign_greedy(mentees, index, config.weights)
    cohort_id = None if dry_run else new_id()
    pair_ids: dict[str, str] = {}
    if cohort_id is not None and optimal.pairs:
        _check_still_free(uow, organisation_id, charter, optimal.pairs)
        loads = queries.mentor_loads(uow.conn, {p.mentor.member_id for p in optimal.pairs})
        given: Counter[str] = Counter()
        for assigned in optimal.pairs:
            mentor_id = assigned.mentor.member_id
            pair = Pair.propose_for_cohort(
                new_id(), Proposal.from_cohort(assigned, config.weights), cohort_id=cohort_id,
                at=now, expiry_days=config.request_expiry_days, mentee_open_pairs=0,
                mentor_load=loads[mentor_id] + given[mentor_id])
            given[mentor_id] += 1
            _save(uow, tally, pair)
            pair_ids[assigned.mentee.member_id] = pair.id
    return {
        "cohort_id": cohort_id,
        "dry_run": dry_run,
        "intake": len(mentees),
        "mentors": len(index),
        "optimal": views.assignment(optimal, pair_ids),
        "greedy": views.assignment(greedy),
        "ratio": optimal.total / greedy.total if greedy.total > 0 else None,
    }


def _check_still_free(uow: UnitOfWork, organisation_id: str, charter: int | None,
                      pairs: Any) -> None:
    """Under the locks of every assigned member: each is still eligible (an exclusion
    or an erasure takes the same locks), each mentor's load is the one she was scored
    with, each mentee still without a pair; else compute again."""
    mentors: dict[str, MentorProfile] = {p.mentor.member_id: p.mentor for p in pairs}
    mentees = [p.mentee.member_id for p in pairs]
    queries.lock(uow.conn, [*mentors, *mentees])
    loads = queries.mentor_loads(uow.conn, mentors)
    if (any(loads[m] != profile.load for m, profile in mentors.items())
            or any(queries.mentee_open_pairs(uow.conn, mentees).values())
            or not all(_eligibility(uow, m, charter).eligible for m in [*mentors, *mentees])):
        raise ConcurrencyConflict(f"cohort:{organisation_id}", 0, 1)


# -- what other contexts tell us ---------------------------------------------------------------


def close_for_exclusion(uow: UnitOfWork, tally: Tally, now: datetime,
                        member_ids: list[str]) -> list[str]:
    """R2: every open pair of every registration of the excluded person closes
    (``counterpart_excluded``); returns the counterparts, back in the pool."""
    # The locks a request takes: a proposal being made for her at this moment either
    # commits first (and is closed here) or waits and finds her excluded.
    queries.lock(uow.conn, member_ids)
    freed = []
    for pair_id in queries.open_pairs_of(uow.conn, member_ids):
        pair = uow.get(Pair, pair_id)
        if pair is None:
            continue
        excluded = pair.mentee_id if pair.mentee_id in member_ids else pair.mentor_id
        other = pair.close_for_exclusion(excluded, now)
        if other is not None:
            _save(uow, tally, pair)
            freed.append(other)
    return freed


def close_for_erasure(uow: UnitOfWork, tally: Tally, now: datetime,
                      member_id: str) -> list[str]:
    """Her data erased, she has left: her open pair closes as if she withdrew (R9)."""
    queries.lock(uow.conn, [member_id])
    freed = []
    for pair_id in queries.open_pairs_of(uow.conn, [member_id]):
        pair = uow.get(Pair, pair_id)
        other = pair.close_for_erasure(member_id, now) if pair is not None else None
        if pair is not None and other is not None:
            _save(uow, tally, pair)
            freed.append(other)
    return freed
