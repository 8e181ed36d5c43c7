"""Two moderators deciding at once: one wins, the other is told.

Both load the case at the same version. The store's optimistic concurrency
lets the first save and refuses the second (``StaleVersion`` here,
``ConcurrencyConflict`` there); the service reloads and runs the second
command again, with the version that moderator had read: the case now refuses
it, so she is told, and the log holds one outcome.
"""

from __future__ import annotations

import pytest

from services.moderation.domain.case import Case, CaseStatus
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    CAROL,
    FINGERPRINT,
    Log,
    StaleVersion,
    report,
    sealed_text,
)
from services.servicekit.errors import Conflict


def opened(log: Log) -> str:
    case = Case.open(report("first"), 1, log.now)
    log.save(case)
    return case.id


def confirm(case: Case, moderator: str, seen: int, log: Log) -> None:
    case.confirm(moderator, "services_offered", sealed_text(moderator), seen_version=seen,
                 identity_fingerprint=FINGERPRINT, now=log.now)


def dismiss(case: Case, moderator: str, seen: int, log: Log) -> None:
    case.dismiss(moderator, "not_commercial", sealed_text(moderator), seen_version=seen,
                 now=log.now)


def test_a_dismissal_and_a_vote_at_once_the_loser_is_told():
    log = Log()
    case_id = opened(log)
    alice, bob = log.load(Case, case_id), log.load(Case, case_id)
    assert alice.version == bob.version == 1
    dismiss(alice, ALICE, 1, log)
    confirm(bob, BOB, 1, log)  # each decides on what she read
    log.save(alice)
    with pytest.raises(StaleVersion):
        log.save(bob)
    retry = log.load(Case, case_id)
    with pytest.raises(Conflict, match="already dismissed"):
        confirm(retry, BOB, 1, log)
    assert log.names(case_id) == ["CaseOpened", "CaseDismissed"]


def test_two_votes_at_once_the_second_is_told_the_case_changed():
    # Four eyes means each moderator confirms what she saw: a vote cast on a
    # case that moved on (another vote, a new report) is not counted blind.
    log = Log()
    case_id = opened(log)
    alice, bob = log.load(Case, case_id), log.load(Case, case_id)
    confirm(alice, ALICE, 1, log)
    confirm(bob, BOB, 1, log)
    log.save(alice)
    with pytest.raises(StaleVersion):
        log.save(bob)
    retry = log.load(Case, case_id)
    with pytest.raises(Conflict) as caught:
        confirm(retry, BOB, 1, log)
    assert caught.value.field == "case_version"
    assert log.names(case_id) == ["CaseOpened", "ExclusionConfirmed"]
    # Bob reads the case again (version 2, Alice's vote) and concurs: excluded.
    reread = log.load(Case, case_id)
    confirm(reread, BOB, reread.version, log)
    log.save(reread)
    assert log.load(Case, case_id).status is CaseStatus.CONFIRMED


def test_two_votes_that_would_each_complete_the_quorum_exclude_once():
    log = Log()
    case_id = opened(log)
    first = log.load(Case, case_id)
    confirm(first, ALICE, 1, log)
    log.save(first)
    bob, carol = log.load(Case, case_id), log.load(Case, case_id)
    confirm(bob, BOB, 2, log)
    confirm(carol, CAROL, 2, log)
    assert bob.pending[-1].name == carol.pending[-1].name == "ProfileFlagged"
    log.save(bob)
    with pytest.raises(StaleVersion):
        log.save(carol)
    retry = log.load(Case, case_id)
    with pytest.raises(Conflict) as caught:
        confirm(retry, CAROL, 2, log)
    assert caught.value.rule == "R2" and "already confirmed" in caught.value.detail
    assert log.names().count("MemberExcluded") == 1
    assert log.load(Case, case_id).decided_by == (ALICE, BOB)
