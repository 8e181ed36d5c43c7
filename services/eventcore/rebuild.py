"""``python -m services.eventcore.rebuild <context>``: drop a service's projections and
rebuild them from the events, in one transaction (readers see the old tables until
the new ones commit).

A service lists what to rebuild in ``services.<context>.storage.projections``:

    OWN = (IdentityReadModel(),)                       # from its own event store
    FOREIGN = {"moderation": (ExclusionRegistry(),)}   # from another context's topic
    AFTER_REBUILD = credentials_epoch.advance           # optional, in the same transaction

Run it with the service's consumers stopped (``make down`` then only the servers):
an event consumed live while the topic is replayed could otherwise be applied
twice by a projection that counts. A foreign event is replayed only if the
service's consumers got to it (before their group's committed offset, or marked
handled in ``processed_events`` since): one published while they were stopped is
applied by them when they start, once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import psycopg

from contracts import catalogue
from services.eventcore import projections, schema, settings
from services.eventcore.projections import Projection
from services.eventcore.store import EventStore


@dataclass(frozen=True)
class Rebuilt:
    projection: str
    source: str
    events: int


def rebuild_all(
    conn: psycopg.Connection, context: str, own: Sequence[Projection],
    foreign: Mapping[str, Sequence[Projection]], conf: settings.Settings,
    group: str | None = None, after: Callable[[psycopg.Connection], None] | None = None,
) -> list[Rebuilt]:
    """Everything in the caller's transaction; commit to swap the new tables in.
    ``group``: the service's consumer group (its name, the context's, by default);
    ``after(conn)``: what the service does last in that transaction (its
    ``AFTER_REBUILD``)."""
    done = []
    store = EventStore(context, catalogue)
    for projection in own:
        count = projections.rebuild(conn, projection, store)
        done.append(Rebuilt(type(projection).__name__, f"{context} store", count))
    consumed = (projections.consumed_by(conn, conf.kafka_bootstrap, group or context)
                if foreign else None)
    for source, listed in foreign.items():
        for projection in listed:
            events = projections.topic_events(conf.kafka_bootstrap, conf.topic(source),
                                              catalogue, consumed=consumed)
            count = projections.rebuild(conn, projection, events)
            done.append(Rebuilt(type(projection).__name__, conf.topic(source), count))
    if after is not None:
        after(conn)
    return done


def rebuild_context(conn: psycopg.Connection, context: str,
                    conf: settings.Settings) -> list[Rebuilt]:
    """``rebuild_all`` of what ``services.<context>.storage.projections`` lists."""
    module = importlib.import_module(f"services.{context}.storage.projections")
    return rebuild_all(conn, context, getattr(module, "OWN", ()), getattr(module, "FOREIGN", {}),
                       conf, after=getattr(module, "AFTER_REBUILD", None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("context", choices=settings.CONTEXTS)
    parser.add_argument("--dry-run", action="store_true",
                        help="rebuild, report, and roll back")
    args = parser.parse_args(argv)
    conf = settings.load()
    with psycopg.connect(conf.database_url(args.context)) as conn:
        schema.install(conn)
        done = rebuild_context(conn, args.context, conf)
        for item in done:
            print(f"rebuild: {item.projection:<28} {item.events:>7} events from {item.source}")
        if args.dry_run:
            conn.rollback()
            print("rebuild: dry run, rolled back")
        else:
            conn.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
