"""The programme report for partner organisations: aggregates only, k-anonymous.

Per organisation: active and overdue pairs (R7), sessions held per month, the
average interval between a pair's sessions, objectives achieved (R4). Partners
see counts and states, never content (R8), and no figure describes fewer than
``K_ANONYMITY`` (3) pairs, so that nobody can be singled out: such a figure is
*suppressed*, and the report says so rather than leaving it out.

Pure: it reads plain rows (the service builds them from its projections) and
returns plain values. A pair whose members come from two organisations counts
for each of them.

Which pairs each figure describes (its "group"):

- ``active_pairs``: the organisation's open pairs;
- ``overdue_pairs``: the overdue ones among them, and by difference the ones on
  time: shown only if the active pairs, the overdue ones and the ones on time
  each number 0 or at least 3 (else "1 overdue of 4" singles one out);
- ``sessions_held_per_month``: per month (UTC), the pairs that held sessions
  in it (open or since closed: the programme's history);
- ``average_interval_days``: the pairs with at least two held sessions, mean
  of all the days between a pair's consecutive sessions (one decimal);
- ``objectives_achieved``: the pairs with at least one achieved objective.

A group of none is not a person: its count is 0 (an average is ``None``,
"nothing to average"), shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

#: The smallest group a published figure may describe.
K_ANONYMITY = 3

SUPPRESSED_REASON = f"fewer than {K_ANONYMITY} pairs"


@dataclass(frozen=True)
class PairRow:
    pair_id: str
    organisation_ids: frozenset[str]
    closed: bool
    overdue: bool


@dataclass(frozen=True)
class HeldSessionRow:
    pair_id: str
    started_at: datetime


@dataclass(frozen=True)
class ObjectiveRow:
    """One statement of kind ``objective`` (needs and expectations are not achieved)."""

    pair_id: str
    achieved: bool


@dataclass(frozen=True)
class Figure:
    """A published value, or the statement that it is suppressed (k-anonymity)."""

    value: int | float | None
    suppressed: bool = False

    @classmethod
    def of(cls, value: int | float | None, *groups: int) -> Figure:
        """``value``, unless one of the groups it reveals is 1..K-1 pairs."""
        if any(0 < size < K_ANONYMITY for size in groups):
            return cls(None, suppressed=True)
        return cls(value)

    def to_json(self) -> Any:
        if self.suppressed:
            return {"suppressed": True, "reason": SUPPRESSED_REASON}
        return self.value


@dataclass(frozen=True)
class OrganisationReport:
    organisation_id: str
    active_pairs: Figure
    overdue_pairs: Figure
    #: ``"YYYY-MM"`` -> sessions held that month, in month order.
    sessions_held_per_month: dict[str, Figure] = field(default_factory=dict)
    average_interval_days: Figure = Figure(None)
    objectives_achieved: Figure = Figure(0)

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation_id": self.organisation_id,
            "k_anonymity": K_ANONYMITY,
            "active_pairs": self.active_pairs.to_json(),
            "overdue_pairs": self.overdue_pairs.to_json(),
            "sessions_held_per_month": {
                month: figure.to_json() for month, figure in self.sessions_held_per_month.items()
            },
            "average_interval_days": self.average_interval_days.to_json(),
            "objectives_achieved": self.objectives_achieved.to_json(),
        }


def _month(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m")


def organisation_report(
    organisation_id: str, pairs: Iterable[PairRow], sessions: Iterable[HeldSessionRow],
    objectives: Iterable[ObjectiveRow],
) -> OrganisationReport:
    """The figures of one organisation (the gateway scopes a partner to its own)."""
    own = [p for p in pairs if organisation_id in p.organisation_ids]
    ids = {p.pair_id for p in own}
    active = [p for p in own if not p.closed]
    overdue = sum(1 for p in active if p.overdue)

    starts: dict[str, list[datetime]] = defaultdict(list)
    for row in sessions:
        if row.pair_id in ids:
            starts[row.pair_id].append(row.started_at)

    per_month: dict[str, list[str]] = defaultdict(list)
    for pair_id, moments in starts.items():
        for moment in moments:
            per_month[_month(moment)].append(pair_id)
    months = {
        month: Figure.of(len(held), len(set(held)))
        for month, held in sorted(per_month.items())
    }

    gaps: list[float] = []
    pairs_with_gaps = 0
    for moments in starts.values():
        ordered = sorted(moments)
        if len(ordered) >= 2:
            pairs_with_gaps += 1
            gaps.extend((b - a).total_seconds() / 86_400 for a, b in pairwise(ordered))
    average = round(sum(gaps) / len(gaps), 1) if gaps else None

    achieved = [o for o in objectives if o.pair_id in ids and o.achieved]
    achievers = len({o.pair_id for o in achieved})

    return OrganisationReport(
        organisation_id=organisation_id,
        active_pairs=Figure.of(len(active), len(active)),
        overdue_pairs=Figure.of(overdue, len(active), overdue, len(active) - overdue),
        sessions_held_per_month=months,
        average_interval_days=Figure.of(average, pairs_with_gaps),
        objectives_achieved=Figure.of(len(achieved), achievers),
    )


def programme_report(
    pairs: Iterable[PairRow], sessions: Iterable[HeldSessionRow],
    objectives: Iterable[ObjectiveRow], organisation_ids: Iterable[str] | None = None,
) -> dict[str, OrganisationReport]:
    """Every organisation's figures (those named, else every one with a pair)."""
    pairs, sessions, objectives = list(pairs), list(sessions), list(objectives)
    wanted = (sorted(set(organisation_ids)) if organisation_ids is not None
              else sorted({org for p in pairs for org in p.organisation_ids}))
    return {org: organisation_report(org, pairs, sessions, objectives) for org in wanted}
