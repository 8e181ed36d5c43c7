"""A test HTTP edge: a service with an ``@api`` entrypoint, started on a free port."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from services.servicekit.http import ApiEntrypoint


def start_edge(container_factory: Callable[..., Any], service: type,
               **config: Any) -> tuple[Any, ApiEntrypoint, str]:
    """The running container, its edge and its base URL (``max_workers`` 4 unless said)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    container = container_factory(service, {"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                            "max_workers": 4, **config})
    container.start()
    entrypoint = next(e for e in container.entrypoints if isinstance(e, ApiEntrypoint))
    return container, entrypoint, f"http://127.0.0.1:{port}"
