"""Aggregates kept between units of work, brought up to date from their stream.

Without it, every command replays its aggregate's whole stream: a pair that has
met every fortnight for two years replays a hundred events (sessions, notes,
objectives, confirmations) to decide one more, and the cost of a command grows
with the age of the pair. The cache keeps, per service process, the state an
aggregate had when the unit of work that loaded it committed; the next unit of
work loads only the events recorded since and applies them ("fast-forward", as
pyeventsourcing's aggregate cache does), so a command costs what is new.

Why a kept state is safe to reuse:

- **committed only**: it is kept once its unit of work has committed, and only
  with no decision pending; a rolled-back decision is never seen again;
- **a copy each**: it is kept as bytes (pickle), and every unit of work gets its
  own object: an aggregate a handler still holds, or changes afterwards, cannot
  change what the next one starts from;
- **checked against the log**: before use, the event it applied last must still
  be in its stream at its version. A database restored from a backup or
  recreated holds another event there, or none: the aggregate is then replayed
  from the log, which is the truth;
- **other writers only add**: another replica, or a concurrent worker, can only
  have appended after the kept version (the log is append-only), and those events
  are applied in order, exactly as a replay would apply them.

The cache is bounded in bytes (least recently used out first) and per process: a new
release starts empty, so a changed ``when_`` method or upcaster never meets
state built by the old one.
"""

from __future__ import annotations

import logging
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from services.eventcore import metrics
from services.eventcore.aggregate import Aggregate

log = logging.getLogger("eventcore.aggregate_cache")

A = TypeVar("A", bound=Aggregate)

#: Memory the kept states of one service process may take, unless its config says
#: otherwise (``EVENTCORE: aggregate_cache_mib``; 0 turns the cache off). A pair of
#: 55 events takes about 9 KiB: 64 MiB keep some 7,000 of them.
DEFAULT_MIB = 64


@dataclass(frozen=True)
class Kept:
    """An aggregate's state as a committed unit of work left it."""

    version: int
    #: The id of the event at ``version``: what the log must still hold there.
    last_event_id: str
    state: bytes


class AggregateCache:
    """Committed aggregate states of one bounded context, by kind and id, within
    ``max_bytes`` (the least recently used go first)."""

    def __init__(self, context: str, max_bytes: int = DEFAULT_MIB * 2**20) -> None:
        if max_bytes < 0:
            raise ValueError(f"an aggregate cache takes 0 bytes (off) or more, not {max_bytes}")
        self.context = context
        self.max_bytes = max_bytes
        self.bytes = 0
        self._kept: OrderedDict[tuple[type[Aggregate], str], Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def find(self, kind: type[A], aggregate_id: str) -> tuple[A, Kept] | None:
        """A fresh copy of the kept state of ``aggregate_id``, if any (to be checked
        against the log by the caller, see ``UnitOfWork.get``)."""
        kept = self._kept.get((kind, aggregate_id))
        if kept is None:
            return None
        self._kept.move_to_end((kind, aggregate_id))
        # Only bytes this process pickled itself, never anything read from outside.
        return pickle.loads(kept.state), kept

    def keep(self, aggregate: Aggregate, last_event_id: str) -> None:
        """Keep ``aggregate`` as it is when its unit of work's commit is done (called
        on commit; in a Kafka handler, once the handler's transaction committed, so
        a handler must not change an aggregate after its last save)."""
        if not self.max_bytes or aggregate.pending or aggregate.diverged \
                or aggregate.version < 1:
            return  # off, a decision never saved, a state off its events, or nothing
        key = (type(aggregate), aggregate.id)
        known = self._kept.get(key)
        if known is not None and known.version > aggregate.version:
            return  # a later state was kept meanwhile (another worker committed after)
        try:
            state = pickle.dumps(aggregate, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an aggregate holding something that cannot be copied
            log.warning("%s %s (%s) not kept (%s): it will be replayed", aggregate.kind,
                        aggregate.id, type(aggregate).__name__, exc)
            return
        self._drop(key)
        if len(state) <= self.max_bytes:  # else larger than the whole cache: replayed
            self._kept[key] = Kept(aggregate.version, last_event_id, state)
            self.bytes += len(state)
            while self.bytes > self.max_bytes:
                self._drop(next(iter(self._kept)))
        metrics.AGGREGATE_CACHE_BYTES.labels(context=self.context).set(self.bytes)

    def forget(self, kind: type[Aggregate], aggregate_id: str) -> None:
        self._drop((kind, aggregate_id))
        metrics.AGGREGATE_CACHE_BYTES.labels(context=self.context).set(self.bytes)

    def _drop(self, key: tuple[type[Aggregate], str]) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self.bytes -= len(kept.state)

    def count(self, kind: type[Aggregate], outcome: str) -> None:
        metrics.AGGREGATE_LOADS.labels(context=self.context, kind=kind.kind,
                                       outcome=outcome).inc()
