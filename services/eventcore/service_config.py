"""How a nameko service's config (its YAML, or a test's dict) names the shared servers.

Every key is optional; the defaults come from ``settings`` (the local stack).
Tests use the overrides to run a real service against a database, topics and a
consumer group of their own.

    EVENTCORE:
      context: identity                 # the service's bounded context (its store)
      database_url: postgresql://...    # default: the context's database
      consumer_group: identity          # default: the service name
      topics: {identity: identity.events}   # context -> topic overrides
      max_attempts: 3                   # handler attempts before dead-lettering
      aggregate_cache_mib: 64           # aggregate states kept between commands (0: off)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.eventcore import settings
from services.eventcore.aggregate_cache import DEFAULT_MIB


@dataclass(frozen=True)
class EventcoreConfig:
    context: str
    database_url: str
    consumer_group: str
    kafka_bootstrap: str
    topics: Mapping[str, str] = field(default_factory=dict)
    max_attempts: int = 3
    retry_backoff: float = 0.2
    aggregate_cache_mib: int = DEFAULT_MIB

    def topic(self, context: str) -> str:
        return self.topics.get(context) or settings.Settings.topic(context)

    @property
    def dead_letter_topic(self) -> str:
        return settings.Settings.dead_letter_topic(self.consumer_group)


def from_container(config: Mapping[str, Any], service_name: str) -> EventcoreConfig:
    section = dict(config.get("EVENTCORE") or {})
    conf = settings.load()
    context = section.get("context") or service_name
    return EventcoreConfig(
        context=context,
        database_url=section.get("database_url") or conf.database_url(context),
        consumer_group=section.get("consumer_group") or service_name,
        kafka_bootstrap=section.get("kafka_bootstrap") or conf.kafka_bootstrap,
        topics=dict(section.get("topics") or {}),
        max_attempts=int(section.get("max_attempts", 3)),
        retry_backoff=float(section.get("retry_backoff", 0.2)),
        aggregate_cache_mib=_count(section, "aggregate_cache_mib", DEFAULT_MIB),
    )


def _count(section: Mapping[str, Any], key: str, default: int) -> int:
    """A whole number of 0 or more, or one line naming the key."""
    raw = section.get(key, default)
    text = str(raw).strip()
    if isinstance(raw, bool) or not (text.isascii() and text.isdecimal()):
        raise settings.SettingsError(
            f"EVENTCORE.{key}: {raw!r} is not a whole number of 0 or more")
    return int(raw)
