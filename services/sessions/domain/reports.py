"""R1/R2, R9: a member reports the other for commercial solicitation.

The one offence the platform excludes for (R2). Either member may report the
other (R9), with details sealed under the moderators' key (R8: not even the
pair or this service reads them back) and the sessions concerned (none, when
it happened elsewhere). ``CommercialSolicitationReported`` goes to moderation.

A closed pair still takes a report: a member who ended the pair *because* she
was solicited must still be able to say so, and an exclusion closing her pair
must not silence a second victim's report. It is the one command a closed
pair accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.events.sessions import MAX_REPORTED_SESSIONS
from services.servicekit.errors import Conflict, Invalid
from services.sessions.domain.checks import aware, canonical_id, iso
from services.sessions.domain.confidentiality import sealed_for_moderators
from services.sessions.domain.session import SessionsMixin


@dataclass(frozen=True)
class Report:
    report_id: str
    reporter_id: str
    reported_member_id: str
    session_ids: tuple[str, ...]


class ReportsMixin(SessionsMixin):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.reports: dict[str, Report] = {}

    def report_solicitation(self, report_id: str, by: str, details: str,
                            session_ids: Sequence[str], now: datetime) -> Report:
        """R1/R2: ``by`` reports the other member (R9), even once the pair is closed."""
        reporter = self._member(by)  # not _acting: a closed pair takes reports
        report_id = canonical_id(report_id, "report_id")
        if report_id in self.reports:
            raise Conflict("A report with this id already exists.", field="report_id")
        if isinstance(session_ids, str) or not isinstance(session_ids, Sequence):
            raise Invalid("session_ids must be a list of session ids.", field="session_ids")
        if len(session_ids) > MAX_REPORTED_SESSIONS:
            raise Invalid(f"At most {MAX_REPORTED_SESSIONS} sessions.", field="session_ids")
        sessions = [self.session(s, "session_ids").session_id for s in session_ids]
        if len(set(sessions)) != len(sessions):
            raise Invalid("Name each session once.", field="session_ids")
        self.record("CommercialSolicitationReported", {
            "pair_id": self.id, "report_id": report_id, "reporter_id": reporter,
            "reported_member_id": self.other(reporter), "session_ids": sessions,
            "details": sealed_for_moderators(details), "reported_at": iso(aware(now, "now")),
        })
        return self.reports[report_id]

    def when_commercial_solicitation_reported(self, data: dict[str, Any]) -> None:
        self.reports[data["report_id"]] = Report(
            data["report_id"], data["reporter_id"], data["reported_member_id"],
            tuple(data["session_ids"]),
        )
