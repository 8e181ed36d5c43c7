"""Identity's routes: organisations and keys, members, the charter (R3), erasure, export.

``acting``: ``organisation`` routes take the organisation's key, with or without
``X-Acting-Member`` (the service decides what each party may see); ``member``
routes require a member to act (R8: what is hers alone); ``operator`` routes
take the platform operator's credential.
"""

from __future__ import annotations

from contracts.api import identity as api
from contracts.api.base import Accepted
from contracts.api.export import MemberExport
from services.servicekit.http import Route

TAG = "identity"

ROUTES = [
    # -- the platform operator ----------------------------------------------------------
    Route("POST", "/v1/operator/organisations", "register_organisation",
          "Register a partner organisation (operator); returns its first API key, once.",
          target="identity.register_organisation", acting="operator",
          body=api.RegisterOrganisation, response=api.OrganisationRegistered, status=201,
          tag=TAG),
    Route("POST", "/v1/operator/organisations/{organisation_id}/api-keys",
          "operator_issue_api_key", "Issue a new API key for an organisation (operator).",
          target="identity.issue_api_key", acting="operator", response=api.IssuedApiKey,
          status=201, tag=TAG),
    Route("POST", "/v1/operator/charters", "publish_charter",
          "Publish a new charter version (operator): every member must accept it again (R3).",
          target="identity.publish_charter", acting="operator", body=api.PublishCharter,
          response=api.Charter, status=201, tag=TAG),
    # -- the organisation -----------------------------------------------------------------
    Route("GET", "/v1/organisation", "get_organisation",
          "The calling organisation: settings, member counts, API keys (no secrets).",
          target="identity.get_organisation", response=api.Organisation, tag=TAG),
    Route("POST", "/v1/organisation/api-keys", "issue_api_key",
          "Issue a new API key (rotation: issue, switch, then revoke the old one).",
          target="identity.issue_api_key", response=api.IssuedApiKey, status=201, tag=TAG),
    Route("POST", "/v1/organisation/api-keys/{key_id}/revocation", "revoke_api_key",
          "Revoke an API key: it stops working at once.",
          target="identity.revoke_api_key", body=api.RevokeApiKey, response=Accepted,
          tag=TAG),
    Route("PUT", "/v1/organisation/matching-policy", "set_matching_policy",
          "Keep matching among the organisation's members, or open it to other open ones.",
          target="identity.set_matching_policy", body=api.SetMatchingPolicy,
          response=Accepted, tag=TAG),
    # -- the charter ------------------------------------------------------------------------
    Route("GET", "/v1/charter", "get_charter",
          "The current charter: its text and the commitments of each role (R3).",
          target="identity.get_charter", response=api.Charter, tag=TAG),
    # -- members ----------------------------------------------------------------------------
    Route("POST", "/v1/members", "register_member",
          "Register a member as mentor or mentee (R2: an excluded person never again).",
          target="identity.register_member", body=api.RegisterMember,
          response=api.MemberRegisteredResponse, status=201, tag=TAG),
    Route("GET", "/v1/members", "list_members",
          "The organisation's members: states, charter status and flags, no personal data.",
          target="identity.list_members", query=api.MemberQuery, response=api.MemberList,
          tag=TAG),
    Route("GET", "/v1/members/{member_id}", "get_member",
          "A member's profile, for her organisation or herself.",
          target="identity.get_member", response=api.Member, tag=TAG),
    Route("PATCH", "/v1/members/{member_id}", "update_member",
          "Change a member's profile (only the fields sent).",
          target="identity.update_member", body=api.UpdateMember, response=Accepted,
          tag=TAG),
    Route("POST", "/v1/members/{member_id}/charter-acceptance", "accept_charter",
          "The member accepts every commitment of her role in the current charter (R3).",
          target="identity.accept_charter", acting="member", body=api.AcceptCharter,
          response=api.CharterAcceptance, status=201, tag=TAG),
    Route("POST", "/v1/members/{member_id}/erasure", "erase_member",
          "Erase the member's personal data (crypto-shredding: her key is destroyed).",
          target="identity.erase_member", body=api.EraseMember, response=api.Erasure,
          tag=TAG),
    Route("GET", "/v1/members/{member_id}/export", "export_member",
          "Everything the platform holds on the member (right of access): identity's "
          "part, matching's, sessions' (the pair's texts only when she asks herself, R8).",
          target=("identity.export_member", "matching.export_member",
                  "sessions.export_member"),
          response=MemberExport, tag=TAG),
]
