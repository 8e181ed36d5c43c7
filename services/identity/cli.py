"""``python -m services.identity.cli``: the platform operator's command line.

    register-organisation NAME --kind association --contact-email E [--open]
    issue-api-key ORGANISATION_ID

Each command is the operator-only RPC the operator API calls (identity must be
running: ``make up``); the new API key is printed once, as the API shows it once.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

# eventlet announces its deprecation on import: noise on an operator's terminal.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from nameko.exceptions import UnknownService  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from contracts.events.identity import ORGANISATION_KINDS  # noqa: E402
from services.eventcore import settings  # noqa: E402
from services.servicekit.actor import Actor  # noqa: E402
from services.servicekit.errors import ServiceError  # noqa: E402


def _call(method: str, *args: Any, **kwargs: Any) -> Any:
    with ClusterRpcProxy({"AMQP_URI": settings.load().amqp_uri}, timeout=30) as rpc:
        return getattr(rpc.identity, method)(Actor.operator().to_dict(), *args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.identity.cli",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register-organisation", help="a new partner organisation")
    register.add_argument("name")
    register.add_argument("--kind", choices=ORGANISATION_KINDS, required=True)
    register.add_argument("--contact-email", required=True)
    register.add_argument("--open", action="store_true",
                          help="open its members to other open organisations' (matching)")
    issue = commands.add_parser("issue-api-key", help="a new API key for an organisation")
    issue.add_argument("organisation_id")
    args = parser.parse_args(argv)
    try:
        if args.command == "register-organisation":
            answer = _call("register_organisation", {
                "name": args.name, "kind": args.kind, "contact_email": args.contact_email,
                "matching_scope": "open" if args.open else "own"})
            print(f"organisation {answer['organisation_id']}")
        else:
            answer = _call("issue_api_key", None, organisation_id=args.organisation_id)
        print(f"api key {answer['api_key']}  (shown once; key id {answer['key_id']})")
    except ServiceError as error:
        fields = ", ".join(e["field"] for e in error.errors)
        print(f"identity: {error.detail}" + (f" ({fields})" if fields else ""), file=sys.stderr)
        return 2
    except (UnknownService, OSError) as error:
        print(f"identity: the identity service does not answer ({error}): run `make up`",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
