"""The id of a member's n-th case: deterministic, so it is also the lock.

``case_id_for(member, n) = uuid5(CASE_NAMESPACE, "case:<member id>:<n>")``.

Why: two reports against the same member, consumed at the same time by two
workers, both find no open case and both decide to open case ``n``. Because the
id is a function of (member, n), they open the *same stream*; the event store
lets one append at version 0 and refuses the other (``ConcurrencyConflict``),
whose retry reloads, finds case ``n`` open, and joins it. A random id would
give two open cases against one member. A new case ``n + 1`` is opened only
when case ``n`` exists and is decided, so a member's cases are exactly the
streams ``case_id_for(member, 1)``, ``2``, ... up to the first with no event.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from itertools import count

#: Fixed for ever: changing it would re-number every member's cases.
CASE_NAMESPACE = uuid.UUID("01f4fe01-dc6c-4c9e-9f62-11b8bdd27e38")


def case_id_for(member_id: str, sequence: int) -> str:
    """The id of ``member_id``'s ``sequence``-th case (1-based)."""
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise ValueError(f"a case sequence is an int >= 1, not {sequence!r}")
    member = str(uuid.UUID(str(member_id)))  # one spelling per member
    return str(uuid.uuid5(CASE_NAMESPACE, f"case:{member}:{sequence}"))


def case_ids_of(member_id: str) -> Iterator[tuple[int, str]]:
    """``(1, id), (2, id), ...``: the streams to probe, in order, until one is empty."""
    for sequence in count(1):
        yield sequence, case_id_for(member_id, sequence)
