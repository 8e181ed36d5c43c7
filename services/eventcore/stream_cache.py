"""The streams a service process has already read, so that a command reads only
what is new in its aggregate's stream.

Without it every command loads its aggregate's whole history: measured on the
sessions store, 310 µs of CPU to load a pair of 23 events and 839 µs for 82,
against 92 µs for a load that finds nothing new. With it, loading and replaying
a pair (nothing new in the log) took 390-410 µs instead of 480-490 at 23 events,
and 830-870 µs instead of 1070-1120 at 82: what is left is the replay, and
building every event afresh (about 5 µs each: its JSON, its id, the object),
the price of sharing nothing. A command reads one row more than that: the event
the command before it appended, which is not kept (below).

What makes it safe:

- **Events never change** (the log is append-only, enforced by a trigger), so
  a committed event read once is the same event forever.
- **Only what others committed is kept**: a unit of work keeps what it read
  of a stream before it wrote to it, which under READ COMMITTED is what other
  transactions had committed, and only once it committed itself. What it
  appends is not kept (a savepoint rolled back inside it would leave an event
  the log does not hold, possibly followed by real ones); the next command
  reads it from the log, one row more.
- **Each read checks the kept end against the log**: the load starts at the
  last kept version, and the row found there must be the kept event (same id).
  If not (another unit of work on the same transaction read its uncommitted
  events, and the transaction then rolled back), the entry is dropped and the
  stream read in full: such events can only be at the end of what was read.
- **Nothing mutable is shared**: an event is kept as its JSON text and
  immutable scalars, taken the moment it is read from the log or appended
  (before an aggregate or a projection sees it), and every read builds fresh
  ``RecordedEvent`` objects: a ``when_`` method may keep or change the data it
  is given. (Exact tuples of such parts are also left alone by the cyclic
  garbage collector.)
- **Bounded**: at most ``max_events`` events, the least recently used streams
  leaving first (a single stream longer than that is kept whole, alone).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from services.eventcore.events import RecordedEvent

#: A kept SessionHeld takes 484 bytes (measured with tracemalloc over 2,000), an
#: event with sealed text more: the default keeps a process's cache to tens of MB.
DEFAULT_MAX_EVENTS = 50_000


#: One committed event: (position, stream_version, event_id, name, version,
#: data_json, partner_org, recorded_at). An exact tuple of strings, numbers and a
#: datetime, which the cyclic garbage collector stops tracking after its first look
#: at it (it would track a NamedTuple for ever): 50,000 of them add nothing to the
#: full collections that stall every request in flight (``servicekit.heap``).
Kept = tuple[int, int, str, str, int, str, str | None, datetime]


def version_of(kept: Kept) -> int:
    return kept[1]


def id_of(kept: Kept) -> str:
    return kept[2]


def keep(events: Sequence[RecordedEvent]) -> tuple[Kept, ...]:
    """``events`` as they are now, whatever is later done to their data."""
    return tuple((e.position, e.stream_version, str(e.event_id), e.name, e.version,
                  json.dumps(e.data, separators=(",", ":")), e.partner_org, e.recorded_at)
                 for e in events)


def thaw(stream_id: str, kept: Sequence[Kept]) -> list[RecordedEvent]:
    """Kept events as new ``RecordedEvent`` objects, data of their own."""
    return [
        RecordedEvent(
            position=position, stream_id=stream_id, stream_version=stream_version,
            event_id=UUID(event_id), name=name, version=version,
            data=json.loads(data_json), partner_org=partner_org, recorded_at=recorded_at,
        )
        for (position, stream_version, event_id, name, version, data_json, partner_org,
             recorded_at) in kept
    ]


class StreamCache:
    """Committed events by stream, least recently used first out."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, not {max_events}")
        self.max_events = max_events
        self._streams: OrderedDict[str, tuple[Kept, ...]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many events are kept."""
        return self._size

    def kept(self, stream_id: str) -> tuple[Kept, ...]:
        """What is kept of the stream: its first events, or nothing."""
        with self._lock:
            kept = self._streams.get(stream_id, ())
            if kept:
                self._streams.move_to_end(stream_id)
            return kept

    def events(self, stream_id: str) -> list[RecordedEvent]:
        """What is kept of the stream, as new ``RecordedEvent`` objects."""
        return thaw(stream_id, self.kept(stream_id))

    def remember(self, stream_id: str, history: tuple[Kept, ...]) -> None:
        """Keep ``history``, the stream from its first event on, as committed. One
        shorter than what is kept (read by an older transaction) changes nothing."""
        if not history or version_of(history[0]) != 1:
            return
        with self._lock:
            kept = self._streams.get(stream_id, ())
            if len(history) <= len(kept):
                return
            self._streams[stream_id] = history
            self._streams.move_to_end(stream_id)
            self._size += len(history) - len(kept)
            while self._size > self.max_events and len(self._streams) > 1:
                _, dropped = self._streams.popitem(last=False)
                self._size -= len(dropped)

    def forget(self, stream_id: str) -> None:
        """Drop what is kept of the stream (found not to be the log's)."""
        with self._lock:
            self._size -= len(self._streams.pop(stream_id, ()))
