"""The hash chain over the moderation event log: a row edited or deleted directly
in the database is detected, and the first broken position named.

The events table is append-only by trigger, but whoever owns the database can
drop a trigger. Each event is therefore linked to the one before it::

    hash(n) = SHA-256( "moderation-chain:v1\\n" || hash(n-1) || "\\n" || canonical(event n) )
    hash(0) = GENESIS

``canonical`` is one byte string per stored row (its position, stream id and
version, event id, name, schema version, partner organisation, data and
recorded_at, as stored, never upcast), so any change to any column changes the
hash. The links live in a table of the service's own, written in the same
transaction as the append::

    event_chain (position bigint PRIMARY KEY, event_id uuid UNIQUE NOT NULL,
                 previous_position bigint NOT NULL, previous_hash char(64) NOT NULL,
                 hash char(64) NOT NULL)
    chain_head  (id int PRIMARY KEY CHECK (id = 1), position bigint, hash char(64))

Chain order is position order, which is why the service locks the head
*before* appending (``SELECT ... FROM chain_head FOR UPDATE``): the positions a
transaction gets are then above every chained one, and moderation's appends
(reports, decisions: a few a minute) take turns. Positions may have gaps (a
rolled-back append burns its sequence values); the chain does not care, each
link names the position it follows (``previous_position``).

:func:`verify` re-computes every link. What it can tell:

- ``edited``: a row's content, or its link, no longer matches its hash; or a
  row was rewritten together with its hash (caught at the next row's link).
- ``deleted``: a row is missing (the next row was chained after it); or an
  event is gone but its link is still there.
- ``reordered``: an event sits at another position than the one it was chained
  at, or a row follows another than the one it was chained after.
- ``unchained``: an event has no link (written around the service, or its link
  deleted).
- ``truncated``: the chain ends before its anchored head.

A chain rewritten from some row to its very end, hashes included, is
consistent again; deleting its tail leaves a shorter consistent chain. Only a
head kept elsewhere (``anchor``) exposes those: the service passes its
``chain_head`` row, and should keep the head out of the database's reach too
(see the report on the shared machinery).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.eventcore.events import RecordedEvent
from services.moderation.domain.moments import utc_micros

CHAIN_DOMAIN = b"moderation-chain:v1\n"

#: The "hash before the first event": bound to this context and this scheme, so
#: a chain cut from another log or scheme does not verify here.
GENESIS = hashlib.sha256(b"mentoring-platform moderation.events hash chain v1 genesis").hexdigest()

_HEX = frozenset("0123456789abcdef")


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


@dataclass(frozen=True)
class StoredEvent:
    """One row of the ``events`` table exactly as stored: never upcast (an
    upcaster added later must not break the chain). Build it from what
    ``EventStore.append`` returns, or from a raw ``SELECT`` of the table, never
    from ``load``/``read_all`` (they upcast)."""

    position: int
    stream_id: str
    stream_version: int
    event_id: str
    name: str
    version: int
    data: Mapping[str, Any] = field(hash=False)
    partner_org: str | None
    recorded_at: datetime | str

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> StoredEvent:
        """From ``EventStore.append``'s result (the version and data as written)."""
        return cls(event.position, event.stream_id, event.stream_version, str(event.event_id),
                   event.name, event.version, event.data, event.partner_org, event.recorded_at)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredEvent:
        """From a row of ``SELECT position, stream_id, stream_version, event_id,
        event_name, event_version, partner_org, data, recorded_at FROM events``."""
        return cls(row["position"], row["stream_id"], row["stream_version"], str(row["event_id"]),
                   row["event_name"], row["event_version"], row["data"], row["partner_org"],
                   row["recorded_at"])


def canonical(event: StoredEvent) -> bytes:
    """The one byte string of a stored row: JSON, keys sorted, no spaces, UTF-8;
    ``recorded_at`` as a UTC instant to the microsecond (PostgreSQL's precision),
    whatever zone the connection reads it in. Raises ``ValueError``/``TypeError``
    for what JSON cannot say exactly (NaN, a naive time, a non-JSON value)."""
    document = {
        "position": event.position,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "event_id": event.event_id,
        "event_name": event.name,
        "event_version": event.version,
        "partner_org": event.partner_org,
        "data": event.data,
        "recorded_at": utc_micros(event.recorded_at),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def link_hash(previous_hash: str, event: StoredEvent) -> str:
    """SHA-256 (hex) of the event chained after ``previous_hash``."""
    if not _is_hash(previous_hash):
        raise ValueError(f"not a chain hash: {previous_hash!r}")
    digest = hashlib.sha256(CHAIN_DOMAIN)
    digest.update(previous_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(event))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainLink:
    """One row of ``event_chain``: the event at ``position`` chained after
    ``previous_position`` (0: the genesis)."""

    position: int
    event_id: str
    previous_position: int
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class ChainHead:
    """The last link: where the next append chains from, and an anchor to verify against."""

    position: int = 0
    hash: str = GENESIS


#: The head of an empty chain.
EMPTY = ChainHead()


def extend(head: ChainHead, events: Sequence[StoredEvent]) -> tuple[list[ChainLink], ChainHead]:
    """The links of ``events`` (just appended, in position order) after ``head``,
    and the new head. A position at or below the head means the append was not
    made under the chain lock: refused (``ValueError``), never chained out of order."""
    links: list[ChainLink] = []
    for event in events:
        if event.position <= head.position:
            raise ValueError(
                f"event at position {event.position} is not after the chain head "
                f"({head.position}): lock chain_head before appending")
        link = ChainLink(event.position, event.event_id, head.position, head.hash,
                         link_hash(head.hash, event))
        links.append(link)
        head = ChainHead(link.position, link.hash)
    return links, head


@dataclass(frozen=True)
class ChainRow:
    """A position as the database holds it: its event and its link, either may be gone."""

    position: int
    event: StoredEvent | None
    link: ChainLink | None


def join(events: Iterable[StoredEvent], links: Iterable[ChainLink]) -> list[ChainRow]:
    """The rows to verify, by position, from the two tables read separately
    (a full outer join on position)."""
    by_event = {e.position: e for e in events}
    by_link = {link.position: link for link in links}
    return [ChainRow(p, by_event.get(p), by_link.get(p)) for p in sorted(by_event | by_link)]


class FindingKind(StrEnum):
    DELETED = "deleted"
    UNCHAINED = "unchained"
    REORDERED = "reordered"
    EDITED = "edited"
    TRUNCATED = "truncated"


#: When several checks point at one position, the most specific finding is kept.
_PRIORITY = {FindingKind.TRUNCATED: 0, FindingKind.DELETED: 1, FindingKind.UNCHAINED: 2,
             FindingKind.REORDERED: 3, FindingKind.EDITED: 4}


@dataclass(frozen=True)
class Finding:
    """``position``: the first position the finding makes untrustworthy."""

    position: int
    kind: FindingKind
    detail: str


def first_broken(findings: Sequence[Finding]) -> int | None:
    """The first position from which the log cannot be trusted, ``None`` if intact."""
    return min((f.position for f in findings), default=None)


class _Findings:
    def __init__(self) -> None:
        self.at: dict[int, Finding] = {}

    def add(self, position: int, kind: FindingKind, detail: str) -> None:
        known = self.at.get(position)
        if known is None or _PRIORITY[kind] < _PRIORITY[known.kind]:
            self.at[position] = Finding(position, kind, detail)

    def sorted(self) -> list[Finding]:
        return [self.at[p] for p in sorted(self.at)]


def _hash_of(link: ChainLink, event: StoredEvent) -> str | None:
    """The link hash ``event`` has after ``link.previous_hash``, ``None`` if the
    row cannot even be serialised (then it was edited)."""
    try:
        return link_hash(link.previous_hash, event)
    except (TypeError, ValueError):
        return None


def verify(rows: Sequence[ChainRow], anchor: ChainHead | None = None,
           start: ChainHead = EMPTY) -> list[Finding]:
    """Every finding, by position (empty: the chain is intact).

    ``rows``: every position from ``start`` on (``join`` of both tables).
    ``start``: the link the first row follows (the genesis, or a checkpoint
    already verified). ``anchor``: a head known from elsewhere that must be
    in the chain with that hash (catches a truncated tail or a rewritten end).
    """
    ordered = sorted(rows, key=lambda r: r.position)
    positions = [r.position for r in ordered]
    if len(set(positions)) != len(positions):
        raise ValueError("one row per position")
    by_position = {r.position: r for r in ordered}
    link_of_event = {r.link.event_id: r.link for r in ordered if r.link is not None}
    findings = _Findings()

    # The row before: its position and its *stored* hash (None: it has no link).
    before_position, before_hash = start.position, start.hash
    for row in ordered:
        event, link = row.event, row.link
        content_ok = False
        if link is None and event is None:
            continue  # nothing at this position: nothing to say
        if link is None:
            findings.add(row.position, FindingKind.UNCHAINED,
                         f"event {event.event_id} ({event.name}) at position {row.position} "
                         "has no link: written around the service, or its link deleted")
        elif event is None:
            findings.add(row.position, FindingKind.DELETED,
                         f"the event chained at position {row.position} ({link.event_id}) "
                         "is gone; its link remains")
        else:
            content_ok = _check_content(row.position, event, link, link_of_event, findings)
        if link is not None:
            _check_link(row.position, link, before_position, before_hash, content_ok,
                        by_position, findings)
        before_position, before_hash = row.position, (link.hash if link else None)

    if anchor is not None and anchor.position > start.position:
        _check_anchor(anchor, ordered, by_position, start, findings)
    return findings.sorted()


def _check_content(position: int, event: StoredEvent, link: ChainLink,
                   link_of_event: Mapping[str, ChainLink], findings: _Findings) -> bool:
    """Is the event at ``position`` the one chained there, unchanged?"""
    if event.event_id != link.event_id:
        elsewhere = link_of_event.get(event.event_id)
        if elsewhere is not None and elsewhere.position != position and (
                _hash_of(elsewhere, replace(event, position=elsewhere.position))
                == elsewhere.hash):
            findings.add(position, FindingKind.REORDERED,
                         f"position {position} holds event {event.event_id}, chained at "
                         f"position {elsewhere.position}; it was chained with {link.event_id}")
        else:
            findings.add(position, FindingKind.EDITED,
                         f"position {position} holds event {event.event_id}, but its link "
                         f"was made for event {link.event_id}")
        return False
    if _hash_of(link, event) != link.hash:
        findings.add(position, FindingKind.EDITED,
                     f"the row at position {position} ({event.name} of {event.stream_id}) "
                     "does not match its hash: its content or its link was changed")
        return False
    return True


def _check_link(position: int, link: ChainLink, before: int, before_hash: str | None,
                content_ok: bool, by_position: Mapping[int, ChainRow],
                findings: _Findings) -> None:
    """Does the row follow the one it was chained after?"""
    named = link.previous_position
    if before_hash is not None and link.previous_hash == before_hash:
        if named != before:
            findings.add(position, FindingKind.EDITED,
                         f"the link at {position} says it follows {named}; its hash says "
                         f"{before}: the link was changed")
        return
    if before_hash is None:
        return  # the row before has no link: reported there (unchained)
    if named == before:
        if content_ok:
            # This row's own hash holds, so the hash it follows is authentic:
            # the row before was rewritten, its hash recomputed to hide it.
            findings.add(before, FindingKind.EDITED,
                         f"the row at position {before} was rewritten together "
                         f"with its hash: position {position} was chained after another hash")
        return  # otherwise this row's own link is the broken one, reported above
    if named != 0 and named not in by_position:
        first = before + 1 if before < named < position else named
        findings.add(first, FindingKind.DELETED,
                     f"position {named} is missing: position {position} was chained after "
                     f"it, and the chain goes from {before} to {position}")
        return
    findings.add(position, FindingKind.REORDERED,
                 f"position {position} was chained after position {named} but follows "
                 f"{before}: rows were reordered or one was inserted before it")


def _check_anchor(anchor: ChainHead, ordered: Sequence[ChainRow],
                  by_position: Mapping[int, ChainRow], start: ChainHead,
                  findings: _Findings) -> None:
    last = ordered[-1].position if ordered else start.position
    row = by_position.get(anchor.position)
    if row is None:
        if anchor.position > last:
            findings.add(last + 1, FindingKind.TRUNCATED,
                         f"the chain ends at position {last}, its head was {anchor.position}: "
                         f"the rows after {last} were deleted")
        else:
            findings.add(anchor.position, FindingKind.DELETED,
                         f"the anchored head at position {anchor.position} is missing")
    elif row.link is not None and row.link.hash != anchor.hash:
        findings.add(anchor.position, FindingKind.EDITED,
                     f"the row at position {anchor.position} does not have the anchored "
                     "hash: the chain was rewritten up to it")
