"""``FairSlots``: an HTTP edge's workers shared out among its callers.

Several partner organisations share one gateway. Its workers used to go first
come, first served: a partner whose client sent a hundred requests at once (a
bug, a retry storm, a batch import) queued them all ahead of everyone else's,
and another partner's one request waited behind the whole backlog. Measured on
the running stack (``bench/fairness.py``), 100 concurrent readers of one
organisation against one reader of another: the other's median went from 8 ms
to 241 ms. With the slots below, to 67-71 ms (the flood's own rate 9 % lower,
369-384 against 414/s: it no longer holds every worker). A flood of made-up
credentials, a new one per request, took it to 232 ms while the slots went by
credential, and takes it to 87 ms now that they go by authenticated party.

Here a request takes a slot before it gets a worker:

- a caller holds at most ``per_caller`` slots at once (half of them, at the
  edges): the rest wait in its own queue. What it already has in flight fills
  the services' queues behind the gateway, where another partner's request
  waits its turn too; holding them all, a flood kept those queues full. Alone,
  a caller still keeps the services busy (the gateway has 50 workers, a service
  20), so its own rate is not cut;
- a slot freed goes to the callers waiting in turn: the one at the head of the
  round gets it and goes to the back, so a request waits for at most one
  request of each other caller waiting.

Nothing is refused: a request waits for a slot where it would have waited for a
worker. Under eventlet one green thread runs at a time: no lock needed.

Who the caller is must be known before the request is authenticated (that takes
a worker): ``KnownCallers`` remembers the party each credential was last
authenticated for, which the service tells it. So an organisation's keys are
one caller, however many it issues itself; a credential not authenticated yet,
made up or a partner's first request since the process started, is
``UNVERIFIED``, one caller with one share, whatever the credentials (a stranger
sending a new one with each request is one caller); requests without one (the
health check) are ``ANONYMOUS``. The metrics page takes no slot at all (an
``inline`` route, ``servicekit.http``): Prometheus and the liveness probe read
it under any flood.

A request whose client has gone away (a timeout, a retry sent instead) keeps its
place while it waits: the server does not notice a closed connection until it
reads or writes. When the turn of a read that had to wait comes, the edge looks
(``servicekit.http``): if the client is gone, it gives the slot straight back,
and no worker answers a request nobody will read. Only reads: a client that
half-closes its side after sending (``nc -N``, socat) looks gone and is still
there, and a read refused by mistake is only sent again, where a command dropped
by mistake would be lost to a caller waiting for it.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict, deque
from typing import Any

from eventlet.event import Event
from nameko.extensions import DependencyProvider

#: The caller of every request whose credential was not authenticated yet.
UNVERIFIED = "unverified"
#: The caller of every request without a credential.
ANONYMOUS = "anonymous"
#: Credentials remembered at most (then the least recently authenticated is forgotten:
#: it is learnt again at its next request).
MAX_KNOWN = 10_000


class KnownCallers(DependencyProvider):
    """``callers = KnownCallers()`` on an HTTP edge's service: after authenticating a
    request, ``self.callers.known(credential, party)``, and ``forget(credential)`` when
    it fails to; the edge asks ``caller_of``."""

    def __init__(self) -> None:
        self._parties: OrderedDict[str, str] = OrderedDict()

    @staticmethod
    def _digest(credential: str) -> str:
        # Hashed: the process holds no usable secret in this table.
        return hashlib.sha256(credential.encode()).hexdigest()

    def caller_of(self, credential: str | None) -> str:
        if not credential:
            return ANONYMOUS
        return self._parties.get(self._digest(credential), UNVERIFIED)

    def known(self, credential: str | None, party: str) -> None:
        if not credential:
            return
        digest = self._digest(credential)
        self._parties[digest] = "party:" + party
        self._parties.move_to_end(digest)
        if len(self._parties) > MAX_KNOWN:  # the least recently authenticated goes
            self._parties.popitem(last=False)

    def forget(self, credential: str | None) -> None:
        """A credential that no longer authenticates (revoked, or a party's erased):
        its requests no longer wait in its party's turn."""
        if credential:
            self._parties.pop(self._digest(credential), None)

    def get_dependency(self, worker_ctx: Any) -> KnownCallers:
        return self


class FairSlots:
    """``capacity`` slots, ``per_caller`` at most to one caller; ``take(caller)`` waits
    for one (in turn), ``give_back(caller)`` frees it."""

    def __init__(self, capacity: int, per_caller: int | None = None) -> None:
        self.capacity = capacity
        self.per_caller = per_caller or capacity
        self.taken = 0
        self._held: Counter[str] = Counter()
        self._waiting: OrderedDict[str, deque[Event]] = OrderedDict()

    def take(self, caller: str) -> bool:
        """A slot for ``caller``, once its turn comes; whether it had to wait."""
        if caller not in self._waiting and self._free_for(caller):
            self._grant(caller)
            return False
        turn = Event()
        queue = self._waiting.setdefault(caller, deque())
        queue.append(turn)
        try:
            turn.wait()  # granted by give_back, already counted as the caller's
        except BaseException:
            if turn.ready():
                self.give_back(caller)  # granted as it was killed: pass it on
            else:
                queue.remove(turn)
                if not queue and self._waiting.get(caller) is queue:
                    del self._waiting[caller]
            raise
        return True

    def give_back(self, caller: str) -> None:
        self.taken -= 1
        self._held[caller] -= 1
        if not self._held[caller]:
            del self._held[caller]
        # One slot is free: to the first caller of the round that may hold one more.
        for waiting, queue in self._waiting.items():
            if self._free_for(waiting):
                turn = queue.popleft()
                if queue:
                    self._waiting.move_to_end(waiting)  # its next after everyone else's
                else:
                    del self._waiting[waiting]
                self._grant(waiting)
                turn.send(None)
                return

    def held(self, caller: str) -> int:
        return self._held[caller]

    def waiting(self) -> int:
        return sum(len(queue) for queue in self._waiting.values())

    def callers(self) -> int:
        """How many callers hold or wait for a slot (what this keeps per caller)."""
        return len(self._held.keys() | self._waiting.keys())

    def _free_for(self, caller: str) -> bool:
        return self.taken < self.capacity and self._held[caller] < self.per_caller

    def _grant(self, caller: str) -> None:
        self.taken += 1
        self._held[caller] += 1
