"""The partners' programme report: per organisation, aggregates only, and no
figure about fewer than 3 pairs (k-anonymity: suppressed, and said so)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.sessions.domain import (
    K_ANONYMITY,
    Figure,
    HeldSessionRow,
    ObjectiveRow,
    PairRow,
    organisation_report,
    programme_report,
)
from services.sessions.tests.unit.support import new_id

ORG, OTHER = new_id(), new_id()
JAN = datetime(2026, 1, 10, 18, tzinfo=UTC)
SUPPRESSED = {"suppressed": True, "reason": "fewer than 3 pairs"}


def pairs(n: int, overdue: int = 0, closed: bool = False, orgs=(ORG,)) -> list[PairRow]:
    return [PairRow(new_id(), frozenset(orgs), closed=closed, overdue=i < overdue)
            for i in range(n)]


def report(pair_rows, sessions=(), objectives=()):
    return organisation_report(ORG, pair_rows, sessions, objectives)


def test_k_is_3():
    assert K_ANONYMITY == 3


@pytest.mark.parametrize(("active", "shown"), [(0, 0), (1, None), (2, None), (3, 3), (7, 7)])
def test_active_pairs_are_counted_from_3_on(active, shown):
    figure = report(pairs(active)).active_pairs
    assert figure.suppressed is (shown is None and active > 0)
    assert figure.value == shown


@pytest.mark.parametrize(("active", "overdue", "shown"), [
    (3, 0, 0),  # none overdue among enough pairs
    (6, 3, 3),  # 3 overdue, 3 on time
    (2, 0, None),  # too few pairs to say anything about them
    (6, 2, None),  # 2 overdue pairs would be singled out
    (4, 3, None),  # ... and so would the 1 pair on time
    (5, 5, 5),
])
def test_overdue_pairs_reveal_no_group_of_1_or_2(active, overdue, shown):
    figure = report(pairs(active, overdue)).overdue_pairs
    assert figure == (Figure(shown) if shown is not None else Figure(None, suppressed=True))


def test_closed_pairs_are_not_active_but_their_sessions_are_the_programmes_history():
    open_pairs, closed = pairs(1), pairs(3, closed=True)
    sessions = [HeldSessionRow(p.pair_id, JAN) for p in open_pairs + closed]
    result = report(open_pairs + closed, sessions)
    assert result.active_pairs.suppressed  # 1 active pair
    assert result.sessions_held_per_month == {"2026-01": Figure(4)}


@pytest.mark.parametrize(("pairs_that_met", "suppressed"), [(2, True), (3, False)])
def test_sessions_per_month_are_shown_when_3_pairs_met_that_month(pairs_that_met, suppressed):
    rows = pairs(5)
    sessions = [HeldSessionRow(p.pair_id, JAN + timedelta(days=d))
                for p in rows[:pairs_that_met] for d in (0, 7)]  # two each in January
    sessions += [HeldSessionRow(p.pair_id, JAN + timedelta(days=31)) for p in rows]  # Feb
    months = report(rows, sessions).sessions_held_per_month
    assert list(months) == ["2026-01", "2026-02"]
    assert months["2026-02"] == Figure(5)
    assert months["2026-01"] == (Figure(None, True) if suppressed
                                 else Figure(2 * pairs_that_met))


def test_months_are_utc_months():
    rows = pairs(3)
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 Feb in Paris
    months = report(rows, [HeldSessionRow(p.pair_id, late) for p in rows])
    assert list(months.sessions_held_per_month) == ["2026-01"]


@pytest.mark.parametrize(("pairs_with_intervals", "average"), [(2, None), (3, 25.0)])
def test_the_average_interval_needs_3_pairs_with_two_sessions(pairs_with_intervals,
                                                              average):
    rows = pairs(4)
    sessions = [HeldSessionRow(rows[-1].pair_id, JAN)]  # one session: no interval
    gaps = [[20, 30], [25], [25]][:pairs_with_intervals]
    for row, pair_gaps in zip(rows, gaps, strict=False):
        moment = JAN
        sessions.append(HeldSessionRow(row.pair_id, moment))
        for gap in pair_gaps:
            moment += timedelta(days=gap)
            sessions.append(HeldSessionRow(row.pair_id, moment))
    figure = report(rows, list(reversed(sessions))).average_interval_days  # any order
    assert figure == (Figure(None, True) if average is None else Figure(average))


def test_no_interval_at_all_is_nothing_to_average_not_a_suppression():
    assert report(pairs(3)).average_interval_days == Figure(None)


@pytest.mark.parametrize(("achievers", "shown"), [(0, 0), (2, None), (3, 4)])
def test_objectives_achieved_are_counted_when_3_pairs_achieved_some(achievers, shown):
    rows = pairs(5)
    objectives = [ObjectiveRow(p.pair_id, achieved=False) for p in rows]
    objectives += [ObjectiveRow(p.pair_id, achieved=True) for p in rows[:achievers]]
    if achievers:
        objectives.append(ObjectiveRow(rows[0].pair_id, achieved=True))
    figure = report(rows, objectives=objectives).objectives_achieved
    assert figure == (Figure(shown) if shown is not None else Figure(None, True))


def test_a_pair_of_two_organisations_counts_for_each_and_others_are_not_mixed_in():
    shared = pairs(3, orgs=(ORG, OTHER))
    theirs = pairs(2, orgs=(OTHER,))
    everything = programme_report(shared + theirs, [], [])
    assert set(everything) == {ORG, OTHER}
    assert everything[ORG].active_pairs == Figure(3)
    assert everything[OTHER].active_pairs == Figure(5)
    only = programme_report(shared + theirs, [], [], organisation_ids=[OTHER])
    assert list(only) == [OTHER]
    assert programme_report([], [], [], organisation_ids=[ORG])[ORG].active_pairs == Figure(0)


def test_the_report_states_suppression_and_holds_aggregates_only():
    rows = pairs(2, overdue=1)
    sessions = [HeldSessionRow(p.pair_id, JAN) for p in rows]
    body = report(rows, sessions, [ObjectiveRow(rows[0].pair_id, True)]).to_json()
    assert body == {
        "organisation_id": ORG,
        "k_anonymity": 3,
        "active_pairs": SUPPRESSED,
        "overdue_pairs": SUPPRESSED,
        "sessions_held_per_month": {"2026-01": SUPPRESSED},
        "average_interval_days": None,
        "objectives_achieved": SUPPRESSED,
    }
    text = json.dumps(body)
    assert not any(p.pair_id in text for p in rows)


def test_the_report_of_enough_pairs_is_plain_numbers():
    rows = pairs(3, overdue=3)
    sessions = [HeldSessionRow(p.pair_id, JAN + timedelta(days=d))
                for p in rows for d in (0, 30)]
    body = report(rows, sessions, [ObjectiveRow(p.pair_id, True) for p in rows]).to_json()
    assert body["active_pairs"] == 3 and body["overdue_pairs"] == 3
    assert body["sessions_held_per_month"] == {"2026-01": 3, "2026-02": 3}
    assert body["average_interval_days"] == 30.0 and body["objectives_achieved"] == 3
