"""The moderator API's routes (its own port, its own OpenAPI document).

``target`` names the ``ModerationService`` method that answers; ``acting`` is
``moderator`` (a moderator's ``md_`` credential), ``operator`` (the platform
operator's credential) or ``public``.
"""

from __future__ import annotations

from contracts.api import moderation as api
from contracts.api.identity import Health
from services.servicekit.http import Route

TAG = "moderation"

ROUTES = [
    Route("GET", "/health", "health", "Is the moderation service up?", acting="public",
          response=Health, tag="system"),
    Route("GET", "/openapi.json", "openapi", "This document (OpenAPI 3.1).", acting="public",
          tag="system"),
    Route("POST", "/v1/operator/moderators", "enrol_moderator",
          "Enrol a moderator (operator); returns her credential, once.",
          target="enrol_moderator", acting="operator", body=api.EnrolModerator,
          response=api.ModeratorEnrolled, status=201, tag=TAG,
          # Shown once and stored hashed: never kept for a retry, which answers null.
          kept=lambda enrolled: {**enrolled, "credential": None}),
    Route("POST", "/v1/operator/moderators/{moderator_id}/revocation", "revoke_moderator",
          "Revoke a moderator's credential (operator): it stops working at once; her "
          "decisions stay, with her id.",
          target="revoke_moderator", acting="operator", response=api.ModeratorRevoked,
          tag=TAG),
    Route("GET", "/v1/cases", "list_cases", "Cases, filtered by status or member.",
          target="list_cases", acting="moderator", query=api.CaseQuery, response=api.CaseList,
          tag=TAG),
    Route("GET", "/v1/cases/{case_id}", "get_case",
          "A case with its evidence (the reporters' words, for moderators only, R8).",
          target="get_case", acting="moderator", response=api.Case, tag=TAG),
    Route("POST", "/v1/cases/{case_id}/confirmations", "confirm_case",
          "Vote to confirm the solicitation (R1): a second, different moderator's vote "
          "excludes the member for good and flags her profile (R2).",
          target="confirm_case", acting="moderator", body=api.Confirm,
          response=api.Decision, tag=TAG),
    Route("POST", "/v1/cases/{case_id}/dismissal", "dismiss_case",
          "Dismiss the case (one moderator suffices: nobody is excluded).",
          target="dismiss_case", acting="moderator", body=api.Dismiss, response=api.Decision,
          tag=TAG),
    Route("POST", "/v1/cases/{case_id}/reinstatement", "reinstate",
          "There is no reinstatement (R2): always refused, naming the rule.",
          target="reinstate", acting="moderator", body=api.Reinstate, response=api.Decision,
          tag=TAG),
    Route("GET", "/v1/cases/{case_id}/audit", "case_audit",
          "Who decided what, when and why, read from the case's events.",
          target="case_audit", acting="moderator", response=api.Audit, tag=TAG),
    Route("GET", "/v1/cases/{case_id}/as-of", "case_as_of",
          "The case, and the reported member's pairs and sessions (states, not content), "
          "as they stood at a moment.",
          target="case_as_of", acting="moderator", query=api.AsOfQuery, response=api.CaseAsOf,
          tag=TAG),
    Route("GET", "/v1/audit/chain", "verify_chain",
          "Verify the hash chain of the moderation log: any row edited or deleted is named.",
          target="verify_chain", acting="moderator", response=api.ChainVerification, tag=TAG),
]
