"""``data`` schemas of the events, one module per bounded context.

Importing this package registers every event (``contracts.catalogue`` does).
"""

from contracts.events import identity, matching, moderation, sessions

__all__ = ["identity", "matching", "moderation", "sessions"]
