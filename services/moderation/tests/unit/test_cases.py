"""Cases: a report opens one, further reports join it, a replayed report changes
nothing, and two concurrent reports never open two cases (R1, R2)."""

from __future__ import annotations

import uuid

import pytest

from contracts import examples
from services.moderation.domain.case import Case, CaseStatus
from services.moderation.domain.case_ids import CASE_NAMESPACE, case_id_for, case_ids_of
from services.moderation.domain.decision import DecisionPolicy
from services.moderation.domain.index import CaseIndex
from services.moderation.domain.report import Report
from services.moderation.domain.routing import CaseSummary, Route, RouteKind, route_report
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    FINGERPRINT,
    MEMBER,
    ORG,
    OTHER_MEMBER,
    REPORTER,
    SECOND_REPORTER,
    Log,
    StaleVersion,
    report,
    sealed_text,
)
from services.servicekit.errors import Conflict, Invalid


def member_cases(log: Log, member: str) -> list[Case]:
    """What the service does: probe case 1, 2, ... until a stream has no event."""
    cases = []
    for _, case_id in case_ids_of(member):
        case = log.load(Case, case_id)
        if case is None:
            return cases
        cases.append(case)
    raise AssertionError("unreachable")


def consume(log: Log, rep: Report) -> Route:
    """The report consumer's command: route, then open or join, then save."""
    cases = member_cases(log, rep.reported_member_id)
    route = route_report(rep.reported_member_id, rep.report_id, [c.summary() for c in cases])
    if route.kind is RouteKind.OPEN:
        log.save(Case.open(rep, route.sequence, log.now, partner_org=ORG))
    elif route.kind is RouteKind.JOIN:
        assert cases[-1].add_report(rep, log.now)
        log.save(cases[-1])
    return route


def decide_dismissed(log: Log, case_id: str) -> None:
    case = log.load(Case, case_id)
    case.dismiss(ALICE, "not_commercial", sealed_text("why"), seen_version=case.version,
                 now=log.tick())
    log.save(case)


def decide_confirmed(log: Log, case_id: str) -> None:
    for moderator in (ALICE, BOB):
        case = log.load(Case, case_id)
        case.confirm(moderator, "services_offered", sealed_text(moderator),
                     seen_version=case.version, identity_fingerprint=FINGERPRINT, now=log.tick())
        log.save(case)


# -- the case id ------------------------------------------------------------------


def test_the_case_id_is_a_function_of_member_and_sequence():
    first = case_id_for(MEMBER, 1)
    assert first == str(uuid.uuid5(CASE_NAMESPACE, f"case:{MEMBER}:1"))
    assert first == case_id_for(MEMBER.upper(), 1)  # one spelling per member
    assert len({first, case_id_for(MEMBER, 2), case_id_for(OTHER_MEMBER, 1)}) == 3
    ids = case_ids_of(MEMBER)
    assert [next(ids), next(ids)] == [(1, first), (2, case_id_for(MEMBER, 2))]
    for bad in (0, -1, True, "1", 1.0):
        with pytest.raises(ValueError):
            case_id_for(MEMBER, bad)  # type: ignore[arg-type]


# -- opening and joining ------------------------------------------------------------


def test_a_first_report_opens_the_members_case_one():
    log = Log()
    route = consume(log, report("first"))
    assert route == Route(RouteKind.OPEN, case_id_for(MEMBER, 1), 1)
    case = log.load(Case, route.case_id)
    assert (case.member_id, case.sequence, case.status, case.partner_org) == (
        MEMBER, 1, CaseStatus.OPEN, ORG)
    assert list(case.reports) == [report("first").report_id]
    assert case.reports[report("first").report_id].reporter_id == REPORTER
    assert log.names() == ["CaseOpened"]
    assert log.stored[0].version == 2  # new code writes the latest version


def test_further_reports_join_the_open_case():
    log = Log()
    consume(log, report("first"))
    log.tick()
    assert consume(log, report("second", reporter=SECOND_REPORTER)).kind is RouteKind.JOIN
    assert consume(log, report("third")).kind is RouteKind.JOIN
    case = log.load(Case, case_id_for(MEMBER, 1))
    assert list(case.reports) == [report(n).report_id for n in ("first", "second", "third")]
    assert case.reports[report("second").report_id].reporter_id == SECOND_REPORTER
    assert log.names() == ["CaseOpened", "ReportJoinedCase", "ReportJoinedCase"]


def test_another_members_report_opens_her_own_case():
    log = Log()
    consume(log, report("first"))
    route = consume(log, report("other", member=OTHER_MEMBER))
    assert route == Route(RouteKind.OPEN, case_id_for(OTHER_MEMBER, 1), 1)


@pytest.mark.parametrize("decided", ["before", "after"])
def test_a_replayed_or_duplicated_report_never_opens_nor_joins_twice(decided):
    log = Log()
    consume(log, report("first"))
    consume(log, report("second"))
    if decided == "after":
        decide_dismissed(log, case_id_for(MEMBER, 1))
    stored = len(log.stored)
    for label in ("first", "second", "first"):
        route = consume(log, report(label))
        assert route == Route(RouteKind.ALREADY, case_id_for(MEMBER, 1), 1)
    assert len(log.stored) == stored
    assert member_cases(log, MEMBER)[-1].id == case_id_for(MEMBER, 1)


def test_adding_a_report_already_in_the_case_records_nothing():
    log = Log()
    consume(log, report("first"))
    case = log.load(Case, case_id_for(MEMBER, 1))
    assert case.add_report(report("first"), log.now) is False
    assert case.pending == []


@pytest.mark.parametrize("decide", [decide_dismissed, decide_confirmed])
def test_after_a_decision_a_new_report_opens_the_next_case(decide):
    log = Log()
    consume(log, report("first"))
    decide(log, case_id_for(MEMBER, 1))
    route = consume(log, report("later"))
    assert route == Route(RouteKind.OPEN, case_id_for(MEMBER, 2), 2)
    assert [c.status.value for c in member_cases(log, MEMBER)][1] == "open"
    assert consume(log, report("even later")).kind is RouteKind.JOIN
    assert log.load(Case, case_id_for(MEMBER, 2)).sequence == 2


def test_a_decided_case_takes_no_report_and_a_report_must_be_against_its_member():
    log = Log()
    consume(log, report("first"))
    decide_dismissed(log, case_id_for(MEMBER, 1))
    case = log.load(Case, case_id_for(MEMBER, 1))
    with pytest.raises(Conflict, match="next case"):
        case.add_report(report("later"), log.now)
    log2 = Log()
    consume(log2, report("first"))
    case = log2.load(Case, case_id_for(MEMBER, 1))
    with pytest.raises(Invalid) as caught:
        case.add_report(report("wrong", member=OTHER_MEMBER), log2.now)
    assert caught.value.field == "reported_member_id"
    assert case.pending == []


# -- concurrency: the case stream is the lock -----------------------------------------


def test_two_concurrent_first_reports_open_one_case_and_the_other_joins():
    log = Log()
    first, second = report("first"), report("second", reporter=SECOND_REPORTER)
    # Both workers read the member's (no) cases before either writes.
    routes = [route_report(MEMBER, r.report_id, []) for r in (first, second)]
    assert routes[0] == routes[1] == Route(RouteKind.OPEN, case_id_for(MEMBER, 1), 1)
    log.save(Case.open(first, 1, log.now))
    with pytest.raises(StaleVersion):  # the same stream, at version 0: refused
        log.save(Case.open(second, 1, log.now))
    assert consume(log, second).kind is RouteKind.JOIN  # the retry reloads and joins
    assert len(member_cases(log, MEMBER)) == 1
    assert set(log.load(Case, case_id_for(MEMBER, 1)).reports) == {first.report_id,
                                                                    second.report_id}


def test_a_report_racing_a_decision_opens_the_next_case_when_the_decision_won():
    log = Log()
    consume(log, report("first"))
    stale = log.load(Case, case_id_for(MEMBER, 1))
    decide_dismissed(log, case_id_for(MEMBER, 1))
    assert stale.add_report(report("racing"), log.now)
    with pytest.raises(StaleVersion):
        log.save(stale)
    assert consume(log, report("racing")) == Route(RouteKind.OPEN, case_id_for(MEMBER, 2), 2)


# -- routing rules ---------------------------------------------------------------------


def summary(sequence: int, status: CaseStatus, *reports: str,
            member: str = MEMBER) -> CaseSummary:
    return CaseSummary(case_id_for(member, sequence), member, sequence, status,
                       frozenset(reports))


def test_routing_refuses_an_inconsistent_history():
    with pytest.raises(ValueError, match="sequence order"):
        route_report(MEMBER, "r", [summary(2, CaseStatus.OPEN)])
    with pytest.raises(ValueError, match="not"):
        route_report(MEMBER, "r", [summary(1, CaseStatus.OPEN, member=OTHER_MEMBER)])
    with pytest.raises(ValueError, match="open cases"):
        route_report(MEMBER, "r", [summary(1, CaseStatus.OPEN), summary(2, CaseStatus.OPEN)])
    with pytest.raises(ValueError, match="not her last"):
        route_report(MEMBER, "r", [summary(1, CaseStatus.OPEN),
                                   summary(2, CaseStatus.DISMISSED)])


def test_a_report_in_an_old_decided_case_is_already_there():
    cases = [summary(1, CaseStatus.CONFIRMED, "a"), summary(2, CaseStatus.OPEN, "b")]
    assert route_report(MEMBER, "a", cases) == Route(RouteKind.ALREADY, cases[0].case_id, 1)
    assert route_report(MEMBER, "c", cases) == Route(RouteKind.JOIN, cases[1].case_id, 2)


def test_a_report_is_read_from_the_sessions_event_and_never_against_oneself():
    data = examples.example("CommercialSolicitationReported", 1)
    rep = Report.from_event(data)
    assert (rep.report_id, rep.reporter_id, rep.reported_member_id) == (
        data["report_id"], data["reporter_id"], data["reported_member_id"])
    with pytest.raises(Invalid) as caught:
        Report(data["report_id"], MEMBER, MEMBER)
    assert caught.value.field == "reported_member_id"
    with pytest.raises(Invalid) as caught:
        Report("not-a-uuid", REPORTER, MEMBER)
    assert caught.value.field == "report_id"


# -- the index: what the moderator API lists ------------------------------------------


def test_the_index_agrees_with_the_streams_and_is_idempotent():
    log = Log()
    consume(log, report("first"))
    consume(log, report("second"))
    consume(log, report("other", member=OTHER_MEMBER))
    decide_confirmed(log, case_id_for(MEMBER, 1))
    consume(log, report("later"))
    events = [(e.name, e.data) for e in log.stored]
    index = CaseIndex.build(events + events)  # a redelivered log changes nothing
    assert index.cases_of(MEMBER) == [c.summary() for c in member_cases(log, MEMBER)]
    assert index.open_case_of(MEMBER).case_id == case_id_for(MEMBER, 2)
    assert index.summary(case_id_for(MEMBER, 1)).status is CaseStatus.CONFIRMED
    assert index.case_of_report(report("second").report_id) == case_id_for(MEMBER, 1)
    assert index.case_of_report("unknown") is None
    assert [c.case_id for c in index.open_cases()] == [case_id_for(OTHER_MEMBER, 1),
                                                       case_id_for(MEMBER, 2)]
    assert route_report(MEMBER, report("x").report_id, index.cases_of(MEMBER)).kind is (
        RouteKind.JOIN)
    assert DecisionPolicy().quorum == 2
