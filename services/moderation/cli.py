"""``python -m services.moderation.cli verify-chain``: verify moderation's hash chain
straight from its database (the service need not run), naming the first position
edited or deleted behind the service's back. Exit status 1 when broken."""

from __future__ import annotations

import argparse
import sys

import psycopg

from services.eventcore import settings
from services.moderation.domain.chain import first_broken, verify
from services.moderation.storage.chain import read_chain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.moderation.cli",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("verify-chain",))
    parser.add_argument("--database", help="libpq URL (default: moderation's database)")
    args = parser.parse_args(argv)
    url = args.database or settings.load().database_url("moderation")
    try:
        with psycopg.connect(url) as conn:
            rows, head = read_chain(conn)
    except psycopg.Error as error:
        print(f"moderation: cannot read the chain: {str(error).strip().splitlines()[0]}",
              file=sys.stderr)
        return 2
    findings = verify(rows, anchor=head)
    if not findings:
        print(f"moderation: hash chain intact, {len(rows)} events up to position "
              f"{head.position}")
        return 0
    print(f"moderation: hash chain BROKEN at position {first_broken(findings)}:",
          file=sys.stderr)
    for finding in findings:
        print(f"  {finding.position} {finding.kind}: {finding.detail}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
