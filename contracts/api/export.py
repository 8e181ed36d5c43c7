"""The right of access: everything the platform holds on a member, one part per
service that holds something (the gateway asks each)."""

from __future__ import annotations

from marshmallow import fields

from contracts.api import identity, matching, sessions
from contracts.api.base import Response


class MemberExport(Response):
    """Identity's part first (it answers who she is); a later part is null when that
    service holds nothing on her any more (an erased member leaves matching's pool)."""

    identity = fields.Nested(identity.IdentityExport, required=True)
    matching = fields.Nested(matching.MemberExport, required=True, allow_none=True)
    sessions = fields.Nested(sessions.MemberExport, required=True, allow_none=True)
