"""``StartupHeap``: the started process's objects set aside from the collector, once."""

from __future__ import annotations

import gc

from nameko.testing.services import dummy

from services.servicekit import heap
from services.servicekit.heap import StartupHeap


class Started:
    name = "heap-test"
    heap = StartupHeap()

    @dummy
    def nothing(self) -> None:
        return None


def test_a_started_service_freezes_what_it_allocated_once(container_factory, monkeypatch):
    gc.unfreeze()
    monkeypatch.setattr(heap, "_frozen", heap.threading.Event())
    freezes: list[int] = []
    freeze = gc.freeze
    # Counted as calls: the frozen count itself drops whenever a frozen object dies
    # (garbage of an earlier test, released meanwhile), so it cannot say "once".
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append(1), freeze())[1])
    try:
        container = container_factory(Started, {})
        container.start()
        assert gc.get_freeze_count() > 1000, "the modules and the container's objects, at least"
        second = container_factory(Started, {})
        second.start()
        assert freezes == [1], "once per process, not once per container"
    finally:
        gc.unfreeze()
