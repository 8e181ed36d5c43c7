"""Load against an HTTP endpoint from a pool of client threads: rate and latencies.

Two ways: ``closed_loop`` (N clients, each sending as soon as its last answer came:
the maximum rate) and ``open_loop`` (requests started on a fixed schedule: latency
at a given rate, without the coordinated omission a closed loop hides).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]

Send = Callable[[requests.Session, int], Any]


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def summary(self) -> dict[str, float]:
        return {"requests": self.requests, "per_s": round(self.rate, 1),
                "p50_ms": round(statistics.median(self.latencies_ms), 2)
                if self.latencies_ms else float("nan"),
                "p99_ms": round(self.percentile(99), 2), "errors": self.errors}


def closed_loop(send: Send, clients: int, seconds: float) -> LoadResult:
    latencies: list[float] = []
    errors = [0]
    stop = time.perf_counter() + seconds
    lock = threading.Lock()
    counter = iter(range(10**9))

    def client() -> None:
        session = requests.Session()
        while time.perf_counter() < stop:
            with lock:
                n = next(counter)
            began = time.perf_counter()
            try:
                send(session, n)
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
            except Exception:
                with lock:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(len(latencies), time.perf_counter() - started, latencies, errors[0])


def open_loop(send: Send, rate: float, seconds: float, workers: int = 32) -> LoadResult:
    """``rate`` requests a second on schedule; latency counts from the scheduled time."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    schedule = iter(range(total))
    began = time.perf_counter()

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                n = next(schedule, None)
            if n is None:
                return
            due = began + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                send(session, n)
                with lock:
                    latencies.append((time.perf_counter() - due) * 1000)
            except Exception:
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(len(latencies), time.perf_counter() - began, latencies, errors[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def echo_stack(amqp_uri: str) -> Iterator[str]:
    """The bare HTTP -> RPC -> echo services in their own process; yields the URL."""
    port = free_port()
    config = ROOT / ".stack" / "bench-echo.yaml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(f"AMQP_URI: '{amqp_uri}'\nWEB_SERVER_ADDRESS: '127.0.0.1:{port}'\n"
                      "max_workers: 50\n")
    log = open(ROOT / ".stack" / "logs" / "bench-echo.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(config), "bench.echo"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}/echo"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(url, data=b"{}"), timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the echo services did not start "
                                       "(.stack/logs/bench-echo.log)") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
