"""Command line: ``up``, ``down``, ``status``, ``check``; the one place errors are printed.

Every ``StackError`` becomes ``stackctl: <what> (<where>)`` on stderr (plus the tail
of the relevant log) and exit status 2. An unexpected exception is reported in one
line too (``STACKCTL_DEBUG=1`` shows its traceback): a developer reading ``make up``
output should see what failed, not where in stackctl.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from deploy.stackctl import config, stack
from deploy.stackctl.errors import StackError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackctl", description="The local stack: Kafka, PostgreSQL, RabbitMQ, "
        "Prometheus and the project's processes."
    )
    parser.add_argument("--manifest", type=Path, default=None,
                        help="process manifest (default: deploy/processes.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="install what is missing and start everything (idempotent)")
    up.add_argument("--record", type=Path, metavar="FILE",
                    help="write the components this invocation started to FILE")
    down = commands.add_parser("down", help="stop what up started")
    down.add_argument("--only", type=Path, metavar="FILE",
                      help="stop only the components recorded in FILE by up --record")
    commands.add_parser("status", help="one line per component: running or stopped, address")
    commands.add_parser("check", help="preflight: settings, ports in use by others, java, mvn")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        conf = config.load()
        manifest = args.manifest or conf.paths.manifest
        if args.command == "up":
            stack.up(conf, manifest, args.record)
        elif args.command == "down":
            stack.down(conf, manifest, args.only)
        elif args.command == "status":
            stack.status(conf, manifest)
        elif args.command == "check":
            stack.check(conf, manifest)
    except StackError as exc:
        for line in exc.message.splitlines():
            print(f"stackctl: {line}", file=sys.stderr)
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stackctl: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the CLI edge: one line, never a traceback
        if os.environ.get("STACKCTL_DEBUG"):
            traceback.print_exc()
        print(f"stackctl: internal error: {type(exc).__name__}: {exc} "
              "(STACKCTL_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2
    return 0
