"""The sessions service's own Prometheus metrics (beside servicekit's per-call ones).

Labels are organisation ids only: organisations are the tenants ops report on.
Never a member or pair id, never a text (R8). A pair whose members come from
two organisations counts for each of them (as in the programme report), so a
sum over organisations may count such a pair twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import Counter, Gauge

SESSIONS_HELD = Counter(
    "sessions_held",
    "Sessions recorded as held (R6), per organisation of the pair.",
    ["organisation"],
)
OVERDUE_PAIRS = Gauge(
    "sessions_overdue_pairs",
    "Open pairs overdue (R7: no session within their interval), per organisation; "
    "refreshed from the read model at every cadence check.",
    ["organisation"],
)
REPORTS_FILED = Counter(
    "sessions_solicitation_reports",
    "Reports of commercial solicitation filed by a member (R1/R2); no label, so that "
    "no organisation's count singles anyone out.",
)


def session_held(organisations: Iterable[str]) -> None:
    for organisation in set(organisations):
        SESSIONS_HELD.labels(organisation=organisation).inc()


_published: set[str] = set()


def publish_overdue(counts: Mapping[str, int]) -> None:
    """Set the gauge to ``counts``; organisations no longer listed (their last pair
    closed) fall to 0 rather than keep a stale value."""
    for organisation in _published - set(counts):
        OVERDUE_PAIRS.labels(organisation=organisation).set(0)
    for organisation, overdue in counts.items():
        OVERDUE_PAIRS.labels(organisation=organisation).set(overdue)
        _published.add(organisation)
