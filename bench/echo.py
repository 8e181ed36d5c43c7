"""The bare stack's ceiling, measured in the same run as our figures: a nameko HTTP
entrypoint that calls an echo service through ``RpcProxy`` and nothing else.

``python -m nameko run bench.echo`` runs both services (``bench.load`` starts it
as a subprocess on a free port); our gateway's figures are quoted as ratios to
this one, because the absolute rate moves with the machine and its load.
"""

from __future__ import annotations

import json
from typing import Any

from nameko.rpc import RpcProxy, rpc
from nameko.web.handlers import http


class Echo:
    name = "bench_echo"

    @rpc
    def echo(self, payload: Any) -> Any:
        return payload


class EchoGateway:
    name = "bench_echo_gateway"

    echo = RpcProxy("bench_echo")

    @http("POST", "/echo")
    def handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.get_data(as_text=True) or "{}")
        return 200, {"Content-Type": "application/json"}, json.dumps(self.echo.echo(body))
