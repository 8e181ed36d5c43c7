"""The event-sourcing machinery every service shares, written once.

- ``store``: the event store (append with optimistic concurrency, load, read all)
  and, in the same transaction, the transactional outbox.
- ``relay``: the process that moves outbox rows to Kafka, in order, exactly once
  in the end state (duplicates only across a crash, never a gap).
- ``consumer``: a nameko entrypoint, ``@domain_event_handler``, that consumes a
  Kafka topic with idempotency tracking in the handler's own transaction and a
  dead-letter topic for poison messages.
- ``commands``: the RPC entrypoint of commands, applied once however often
  RabbitMQ delivers the call (the mark is in the unit of work's transaction).
- ``database``: connection pools and the nameko ``UnitOfWork`` dependency (with
  ``on_commit``: what announces a change runs once it is committed).
- ``projections``: read models that can be dropped and rebuilt from the store.
- ``topics``: reading a topic from its start to its current end (rebuilds, dead letters).
- ``metrics``: the Prometheus metrics all of the above export.

Importing this package sets ``PSYCOPG_WAIT_FUNC=wait_select`` *before* psycopg is
imported: psycopg's C wait function blocks the eventlet hub (four green threads
each running ``pg_sleep(1)`` took 4 s instead of 1 s, see ARCHITECTURE.md), while
``wait_select`` goes through the monkey-patched ``select`` and yields.
"""

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
