"""psycopg's wait on the eventlet hub itself, one trampoline per wait.

psycopg drives each round trip with a generator that says what it waits for
(read, write, or both) and a *wait function* that waits. Its C one blocks the
hub (ARCHITECTURE.md: four ``pg_sleep(1)`` took 4 s); ``wait_select``, chosen in
``services.eventcore``, yields through eventlet's green ``select``, which for
every wait builds its listener table, two closures and a 0.1 s timer (psycopg's
Ctrl-C interval) that it then cancels. On this machine that came to 64-73 µs of
CPU per ``SELECT 1`` round trip against 48-66 µs through ``trampoline`` (six
alternating rounds of 10,000), which parks the green thread on the one
descriptor directly. Every command pays
several round trips (a ``SessionHeld`` seven), each on a machine whose two
cores are the limit of the sessions benchmark (issue 5).

Installed by ``install()`` only in a process whose ``select`` eventlet has
patched (the nameko services, the tests); anywhere else psycopg's own choice
stands.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

import eventlet.patcher
from eventlet.green import select as green_select
from eventlet.hubs import trampoline
from psycopg import errors, waiting
from psycopg.waiting import READY_NONE, READY_R, READY_W, WAIT_R, WAIT_W


class _Expired(Exception):
    """The wait's own deadline passed (raised by ``trampoline``, caught here)."""


def wait_green(gen: Any, fileno: int, interval: float = 0.0,
               timeout: float | None = None) -> Any:
    """Consume psycopg's generator ``gen``, parking only this green thread.

    ``interval`` exists for the main thread's Ctrl-C, which a green thread does
    not get: it is not used. ``timeout`` (``notifies``, ``cancel``) raises
    psycopg's own timeout, as its wait functions do, once the generator has seen
    that nothing came."""
    deadline = None if timeout is None else monotonic() + timeout
    try:
        state = next(gen)
        while True:
            state = gen.send(_ready(fileno, state, deadline))
            if deadline is not None and monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")  # what psycopg catches
    except StopIteration as done:
        return done.value


def _ready(fileno: int, state: int, deadline: float | None) -> int:
    left = None if deadline is None else max(0.0, deadline - monotonic())
    if state in (WAIT_R, WAIT_W):
        read = state == WAIT_R
        try:
            trampoline(fileno, read=read, write=not read, timeout=left, timeout_exc=_Expired)
        except _Expired:
            return READY_NONE
        return READY_R if read else READY_W
    # Both (a query larger than the socket's buffer, sent while results come back):
    # rare, and trampoline waits for one direction only.
    readable, writable, _ = green_select.select([fileno], [fileno], [], left)
    return (READY_R if readable else 0) | (READY_W if writable else 0)


def install() -> bool:
    """Make ``wait_green`` psycopg's wait function if eventlet patched ``select``
    (psycopg reads ``psycopg.waiting.wait`` at every wait); whether it did."""
    if not eventlet.patcher.is_monkey_patched("select"):
        return False
    waiting.wait = wait_green
    return True

