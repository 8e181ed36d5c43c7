"""``python -m deploy.stackctl``: see ``deploy.stackctl.cli``."""

from deploy.stackctl.cli import main

raise SystemExit(main())
