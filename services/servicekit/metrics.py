"""The Prometheus side of a service process: its /metrics endpoint and RPC metrics.

``metrics = ServiceMetrics()`` on a service class starts, once per process, the
metrics HTTP server on ``METRICS_PORT`` (config) and counts every worker by
entrypoint and outcome. Labels are service, entrypoint and outcome only: never
an id or a text (R8).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from nameko.extensions import DependencyProvider, SharedExtension
from prometheus_client import Counter, Histogram, start_http_server

from services.servicekit.errors import ServiceError

log = logging.getLogger("servicekit")

WORKERS = Counter(
    "service_calls", "Calls handled by a service (RPC, HTTP, event, timer), by outcome "
    "(ok, refused: a 4xx ServiceError, error: anything else).",
    ["service", "entrypoint", "outcome"],
)
WORKER_SECONDS = Histogram(
    "service_call_seconds", "Time a service spent handling one call.",
    ["service", "entrypoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_served: set[int] = set()
_serve_lock = threading.Lock()


class MetricsServer(SharedExtension):
    """Serves this process's registry on 127.0.0.1:``METRICS_PORT`` (if set)."""

    def start(self) -> None:
        port = int(self.container.config.get("METRICS_PORT") or 0)
        if not port:
            return
        with _serve_lock:
            if port in _served:
                return
            start_http_server(port, addr=self.container.config.get("METRICS_ADDR", "127.0.0.1"))
            _served.add(port)
        log.info("metrics on http://127.0.0.1:%d/metrics", port)


class ServiceMetrics(DependencyProvider):
    server = MetricsServer()

    def setup(self) -> None:
        self._started: dict[Any, float] = {}

    def get_dependency(self, worker_ctx: Any) -> None:
        return None

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        service = self.container.service_name
        entrypoint = worker_ctx.entrypoint.method_name
        if exc_info is None:
            outcome = "ok"
        elif isinstance(exc_info[1], ServiceError) and exc_info[1].status < 500:
            outcome = "refused"
        else:
            outcome = "error"
        WORKERS.labels(service=service, entrypoint=entrypoint, outcome=outcome).inc()
        if started is not None:
            WORKER_SECONDS.labels(service=service, entrypoint=entrypoint).observe(
                time.perf_counter() - started
            )
