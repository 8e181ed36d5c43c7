"""One valid example of every event version, in JSON form, deterministic.

Used by the tests (each schema is exercised from its example), by the
generated AsyncAPI document, and by services' tests that need a realistic
event. The ids are fixed (uuid5) so the generated documents do not change
from one run to the next. Each context keeps its examples in its own module
(``contracts.examples.<context>``), beside the others' but never in their way.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts import catalogue
from contracts.envelope import CloudEvent
from contracts.examples import identity, matching, moderation, sessions
from contracts.examples.base import MENTEE, MENTOR, ORG, PAIR, example_id, sealed_example

__all__ = ["EXAMPLES", "MENTEE", "MENTOR", "ORG", "PAIR", "PLATFORM_LEVEL", "example",
           "example_event", "example_id", "sealed_example"]

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    **identity.EXAMPLES, **matching.EXAMPLES, **sessions.EXAMPLES, **moderation.EXAMPLES,
}

#: Which data field holds the aggregate id (the subject, the Kafka key),
#: first match wins: a member's events before her organisation's.
_AGGREGATE_FIELDS = ("case_id", "pair_id", "member_id", "charter_id", "organisation_id")

#: Platform-level events carry no partner organisation.
PLATFORM_LEVEL = frozenset({"CharterPublished"})


def example(name: str, version: int) -> dict[str, Any]:
    """A fresh copy of the example data of ``name`` v``version``."""
    return copy.deepcopy(EXAMPLES[(name, version)])


def example_event(name: str, version: int, aggregate_version: int = 1) -> CloudEvent:
    """The example data in its envelope, as it would be on Kafka."""
    data = example(name, version)
    subject = next(data[f] for f in _AGGREGATE_FIELDS if f in data)
    return CloudEvent.new(
        context=catalogue.context_of(name),
        name=name,
        version=version,
        subject=subject,
        data=data,
        aggregate_version=aggregate_version,
        partner_org=None if name in PLATFORM_LEVEL else ORG,
        event_id=example_id(f"event {name} v{version}"),
        time="2025-03-04T10:00:00.000123Z",
    )
