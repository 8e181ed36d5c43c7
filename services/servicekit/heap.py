"""``heap = StartupHeap()``: what a service process allocated to start is set aside
from Python's cyclic garbage collector, once started.

A full collection walks every tracked object. The gateway holds about 88,000
after start (modules, nameko, kombu, the routes, the schemas); a full collection
under load took 69 ms, and every request in flight waited for it. After
``gc.freeze()`` about 3,500 are left to walk, and it took 12 ms. What is frozen
is what lives as long as the process anyway; whatever is allocated later is
collected as before.
"""

from __future__ import annotations

import gc
import logging
import threading
from typing import Any

from nameko.extensions import DependencyProvider

log = logging.getLogger("servicekit")

_frozen = threading.Event()


class StartupHeap(DependencyProvider):
    """Freezes the heap once per process, when the first container has started."""

    def start(self) -> None:
        # Whether the other extensions have started yet does not matter: what they
        # allocate after the freeze is collected as usual.
        if _frozen.is_set():
            return
        _frozen.set()
        gc.collect()
        gc.freeze()
        log.info("%d objects of the started process set aside from the collector",
                 gc.get_freeze_count())

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
