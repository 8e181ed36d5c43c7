"""moderation: cases of commercial solicitation (R1), permanent exclusion and
profile flags (R2), the moderators' audit trail and its hash chain.

- ``domain``: pure (no server, no clock, no I/O): the case aggregate and its
  four-eyes decisions, report routing, the audit trail, the hash chain, the
  as-of views.
- ``application`` and ``storage`` (the nameko service, its projections and the
  chain table) are built on top of ``domain``.
"""
