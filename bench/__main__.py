"""``python -m bench``: run every benchmark, print ratios, write results/latest.json.

Needs the stack up (``make up``): eventcore measures against the bare servers, the
sessions benchmark against the running services and the bare echo it starts."""

from __future__ import annotations

import os

os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import eventcore, fairness, matching, matching_read_path, sessions
from services.eventcore import settings

RESULTS = Path(__file__).parent / "results" / "latest.json"


def main() -> int:
    conf = settings.load()
    started = datetime.now(UTC)
    results = {
        "when": started.isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "eventcore": eventcore.run(conf),
        "matching": matching.run(),
        "matching_read_path": matching_read_path.run(conf),
        "sessions": sessions.run(conf),
        "fairness": fairness.run(conf),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    shown = RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS
    print(f"\nwritten to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
