"""Root pytest configuration: patch for eventlet before anything else is imported.

nameko's pytest plugin no longer monkey-patches, and kafka-python and psycopg
must be imported *after* the patch (and psycopg after PSYCOPG_WAIT_FUNC is set)
for their I/O to yield to other green threads.
"""

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import eventlet

eventlet.monkey_patch()

pytest_plugins = ["services.eventcore.testing", "services.servicekit.testing"]
