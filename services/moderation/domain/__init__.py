"""The moderation domain, pure: what the service layer calls.

- ``report``: a report of commercial solicitation as moderation sees it.
- ``case_ids``: the deterministic id of a member's n-th case.
- ``routing``: which case a report opens, joins, or already is in.
- ``decision``: the quorum policy and the checks of a moderator's decision.
- ``case``: the ``Case`` aggregate (open, join, vote, dismiss; no reinstatement).
- ``index``: the cases folded into lists (open case of a member, open cases).
- ``audit``: who decided what, when and why, from a case's events.
- ``chain``: the hash chain over the moderation event log, and its verification.
- ``as_of``: a case, and a member's pairs and sessions, as they stood at a moment.
- ``moments``: aware datetimes only.
"""
