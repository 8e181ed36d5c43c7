"""The cases folded into what the moderator API lists: the open case of a member,
the open cases, the case of a report.

A pure fold over moderation events (name and data, in log order), idempotent
(an event applied twice changes nothing). It states the semantics the
service's SQL projection must have (and can be tested against); reports are
routed on the case streams themselves (``routing``), so a projection that lags
never opens a second case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from services.moderation.domain.routing import CaseStatus, CaseSummary

_OUTCOMES = {"CaseConfirmed": CaseStatus.CONFIRMED, "CaseDismissed": CaseStatus.DISMISSED}


class CaseIndex:
    def __init__(self) -> None:
        self._cases: dict[str, CaseSummary] = {}
        self._by_member: dict[str, list[str]] = {}  # case ids in opening order
        self._by_report: dict[str, str] = {}

    @classmethod
    def build(cls, events: Iterable[tuple[str, Mapping[str, Any]]]) -> CaseIndex:
        """From ``(name, data)`` pairs in log order."""
        index = cls()
        for name, data in events:
            index.apply(name, data)
        return index

    def apply(self, name: str, data: Mapping[str, Any]) -> None:
        """Fold one moderation event (data upcast to its latest version)."""
        if name == "CaseOpened":
            case_id = data["case_id"]
            if case_id in self._cases:
                return
            member = data["reported_member_id"]
            opened = self._by_member.setdefault(member, [])
            opened.append(case_id)
            sequence = data.get("sequence") or len(opened)  # v1 cases: opening order
            self._cases[case_id] = CaseSummary(
                case_id, member, sequence, CaseStatus.OPEN, frozenset({data["report_id"]}))
            self._by_report[data["report_id"]] = case_id
        elif name == "ReportJoinedCase":
            case = self._cases[data["case_id"]]
            self._cases[case.case_id] = replace(
                case, report_ids=case.report_ids | {data["report_id"]})
            self._by_report[data["report_id"]] = case.case_id
        elif name in _OUTCOMES:
            case = self._cases[data["case_id"]]
            self._cases[case.case_id] = replace(case, status=_OUTCOMES[name])

    def summary(self, case_id: str) -> CaseSummary | None:
        return self._cases.get(case_id)

    def cases_of(self, member_id: str) -> list[CaseSummary]:
        """Her cases in sequence order (what ``route_report`` takes)."""
        return [self._cases[c] for c in self._by_member.get(member_id, [])]

    def open_case_of(self, member_id: str) -> CaseSummary | None:
        return next((c for c in self.cases_of(member_id) if c.is_open), None)

    def case_of_report(self, report_id: str) -> str | None:
        return self._by_report.get(report_id)

    def open_cases(self) -> list[CaseSummary]:
        """Every open case, in opening order (the moderators' queue, a gauge)."""
        return [c for c in self._cases.values() if c.is_open]
