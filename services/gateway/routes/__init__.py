"""The gateway's route table: one module per context, in the order of the OpenAPI tags."""

from __future__ import annotations

from services.gateway.routes import identity, matching, sessions, system
from services.servicekit.http import Route

ROUTES: list[Route] = [*system.ROUTES, *identity.ROUTES, *matching.ROUTES,
                       *sessions.ROUTES]
