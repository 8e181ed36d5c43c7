"""The matching service's own Prometheus metrics (beside servicekit's per-call ones).

Labels are organisation ids (the tenants ops report on), roles, sources, outcomes
and reasons: never a member or pair id, never a profile value (R8). A pair whose
members come from two organisations counts for each of them (as sessions counts
its pairs), so a sum over organisations may count such a pair twice.

Counters move after the command that recorded the events committed
(``Tally.publish``): a transaction retried on a conflict counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from services.matching.domain.pair import Pair

POOL_SIZE = Gauge(
    "matching_pool_size",
    "Members who may be suggested or paired now (R2, R3: current charter accepted for "
    "their role, not excluded, not erased), per organisation and role; refreshed from "
    "the pool every few seconds (MATCHING_GAUGES_SECONDS).",
    ["organisation", "role"],
)
PROPOSALS = Counter(
    "matching_proposals",
    "Proposals, by source (request, cohort) and outcome: proposed when made, then "
    "formed, declined, expired, withdrawn or counterpart_excluded; per organisation of "
    "the pair.",
    ["organisation", "source", "outcome"],
)
PAIRS_FORMED = Counter(
    "matching_pairs_formed", "Pairs formed (both members accepted), per organisation.",
    ["organisation"],
)
PAIRS_ENDED = Counter(
    "matching_pairs_ended",
    "Pairs ended, by reason (completed, withdrawn, counterpart_excluded), per organisation.",
    ["organisation", "reason"],
)

#: What each of a pair's events says about its proposal's outcome.
_OUTCOMES = {"MatchProposed": "proposed", "PairFormed": "formed", "MatchDeclined": "declined",
             "MatchExpired": "expired"}


@dataclass
class Tally:
    """What one command recorded, counted once it committed.

    ``uow.run`` may run a command again from scratch after a conflict: each attempt
    starts with ``fresh()``, so only the attempt that committed is counted.
    """

    proposals: list[tuple[frozenset[str], str, str]] = field(default_factory=list)
    formed: list[frozenset[str]] = field(default_factory=list)
    ended: list[tuple[frozenset[str], str]] = field(default_factory=list)

    def fresh(self) -> Tally:
        self.proposals.clear()
        self.formed.clear()
        self.ended.clear()
        return self

    def saw(self, pair: Pair, names: list[str], data: Mapping[str, Mapping[str, object]]) -> None:
        """``names``: the events the command recorded on ``pair``; ``data``: by name."""
        organisations = pair.organisations
        source = pair.source or "unknown"
        for name in names:
            if name in _OUTCOMES:
                self.proposals.append((organisations, source, _OUTCOMES[name]))
            if name == "ProposalWithdrawn":
                reason = str(data[name]["reason"])
                outcome = "withdrawn" if reason == "withdrawn" else reason
                self.proposals.append((organisations, source, outcome))
            if name == "PairFormed":
                self.formed.append(organisations)
            if name == "PairEnded":
                self.ended.append((organisations, str(data[name]["reason"])))

    def publish(self) -> None:
        for organisations, source, outcome in self.proposals:
            for organisation in organisations:
                PROPOSALS.labels(organisation=organisation, source=source,
                                 outcome=outcome).inc()
        for organisations in self.formed:
            for organisation in organisations:
                PAIRS_FORMED.labels(organisation=organisation).inc()
        for organisations, reason in self.ended:
            for organisation in organisations:
                PAIRS_ENDED.labels(organisation=organisation, reason=reason).inc()
        self.fresh()


_published: set[tuple[str, str]] = set()


def publish_pool_sizes(sizes: Mapping[tuple[str, str], int]) -> None:
    """Set the gauge to ``sizes``; an organisation and role no longer listed (its last
    eligible member left) falls to 0 rather than keeping a stale value."""
    for organisation, role in _published - set(sizes):
        POOL_SIZE.labels(organisation=organisation, role=role).set(0)
    for (organisation, role), size in sizes.items():
        POOL_SIZE.labels(organisation=organisation, role=role).set(size)
        _published.add((organisation, role))
