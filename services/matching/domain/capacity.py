"""The two limits that span several pairs, as pure checks the service calls while
it holds the lock that makes them true.

- A mentor never has more active or pending pairs than her capacity, even when
  proposals arrive concurrently: the service takes a transaction lock on the mentor
  (``storage.queries.lock``: ``pg_advisory_xact_lock``), counts her open pairs,
  calls ``assert_capacity``, appends the proposal, then commits; a second proposal
  waits for the lock and counts the first.
- A mentee has one active or pending pair at a time (``assert_mentee_free``),
  under a lock on her likewise.

A pending proposal holds its place: that is what keeps the limits under
concurrent requests (a place is not free while its mentor is still answering).
"""

from __future__ import annotations

from services.servicekit.errors import Conflict

__all__ = ["OPEN_STATES", "assert_capacity", "assert_mentee_free", "free_places"]

#: Pair states that hold a mentor's place and a mentee's one pair (``pair.Pair.state``).
OPEN_STATES = frozenset({"proposed", "formed"})


def free_places(load: int, capacity: int) -> int:
    """Places left (never negative: a capacity lowered below the load leaves 0)."""
    return max(capacity - load, 0)


def assert_capacity(load: int, capacity: int) -> None:
    """``Conflict`` unless the mentor, with ``load`` active and pending pairs, has a
    free place within ``capacity``."""
    if load >= capacity:
        raise Conflict(
            f"This mentor has no free place: {load} of her {capacity} taken by active "
            "or pending pairs.", field="mentor_id",
        )


def assert_mentee_free(open_pairs: int) -> None:
    """``Conflict`` if the mentee already has an active or pending pair."""
    if open_pairs > 0:
        raise Conflict(
            "This mentee already has an active or pending pair: one at a time. She may "
            "ask again once it is declined, expired, withdrawn or ended.", field="mentee_id",
        )
