"""Health, metrics and the OpenAPI document itself."""

from __future__ import annotations

from prometheus_client import generate_latest

from contracts.api.identity import Health
from services.servicekit.http import Route


def metrics_page() -> str:
    return generate_latest().decode("utf-8")


ROUTES = [
    Route("GET", "/health", "health", "Is the gateway up (and does identity answer)?",
          acting="public", response=Health, tag="system"),
    Route("GET", "/metrics", "metrics", "Prometheus metrics of the gateway process.",
          acting="public", raw="text/plain; version=0.0.4", inline=metrics_page, tag="system"),
    Route("GET", "/openapi.json", "openapi", "This document (OpenAPI 3.1).",
          acting="public", tag="system"),
]
