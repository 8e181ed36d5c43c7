"""Matching's routes: eligibility, suggestions, requests and answers, cohorts, pairs
and their audit. Under ``/v1/matching`` (``/v1/pairs`` is the sessions of a
formed pair); a proposal and the pair it becomes share one id.

``acting``: ``organisation`` routes take the organisation's key, with or without
``X-Acting-Member`` (the service decides what each may see: a member her own,
an organisation its members'); ``member`` routes are a member's own decisions
(R9: asking, accepting, declining, withdrawing, ending), made acting as herself.
"""

from __future__ import annotations

from contracts.api import matching as api
from services.servicekit.http import Route

TAG = "matching"

ROUTES = [
    # -- the pool (R2, R3) ------------------------------------------------------------------
    Route("GET", "/v1/matching/members/{member_id}/eligibility", "get_eligibility",
          "Whether a member may be suggested or paired now, and why not (R2, R3).",
          target="matching.get_eligibility", response=api.Eligibility, tag=TAG),
    Route("GET", "/v1/matching/mentees/{mentee_id}/suggestions", "suggest_mentors",
          "The best mentors for a mentee, each with the part every criterion played.",
          target="matching.suggest", query=api.SuggestionQuery, response=api.Suggestions,
          tag=TAG, description=(
              "For the mentee herself or her organisation. Only eligible mentors (R2, R3) "
              "with a free place, of her organisation or, when both opened their matching, "
              "of another one. The weights are the platform's configuration.")),
    Route("POST", "/v1/matching/mentees/{mentee_id}/requests", "request_mentor",
          "The mentee asks one mentor; the mentor has a set number of days to answer.",
          target="matching.request_mentor", acting="member", body=api.RequestMentor,
          response=api.Pair, status=201, tag=TAG, description=(
              "A mentee has one active or pending pair at a time; a mentor never more than "
              "her capacity, pending proposals included.")),
    # -- cohorts ----------------------------------------------------------------------------
    Route("POST", "/v1/matching/cohorts", "propose_cohort",
          "Propose the optimal assignment of the organisation's whole intake.",
          target="matching.propose_cohort", body=api.ProposeCohort, response=api.Cohort,
          status=201, tag=TAG, description=(
              "The organisation itself (no X-Acting-Member): every eligible mentee of it "
              "without a pair, assigned for the greatest total score under mentor "
              "capacities; each pair is proposed and both members must accept. Greedy's "
              "assignment is returned beside it for comparison.")),
    # -- pairs ------------------------------------------------------------------------------
    Route("GET", "/v1/matching/pairs", "list_matching_pairs",
          "A member's proposals and pairs, or those of an organisation's members.",
          target="matching.list_pairs", query=api.PairQuery, response=api.PairList, tag=TAG),
    Route("GET", "/v1/matching/pairs/{pair_id}", "get_matching_pair",
          "A proposal or pair: its state, for its members and their organisations.",
          target="matching.get_pair", response=api.Pair, tag=TAG),
    Route("GET", "/v1/matching/pairs/{pair_id}/explanation", "explain_pair",
          "What the proposal recorded (inputs, weights, algorithm) and its re-derivation.",
          target="matching.explain_pair", response=api.Explanation, tag=TAG),
    Route("POST", "/v1/matching/pairs/{pair_id}/acceptance", "accept_pair",
          "The acting member accepts the proposal; the pair forms when both have (R9).",
          target="matching.accept_pair", acting="member", response=api.Pair, tag=TAG),
    Route("POST", "/v1/matching/pairs/{pair_id}/decline", "decline_pair",
          "The acting member declines the proposal (R9: either member may).",
          target="matching.decline_pair", acting="member", body=api.DeclineProposal,
          response=api.Pair, tag=TAG),
    Route("POST", "/v1/matching/pairs/{pair_id}/withdrawal", "withdraw_pair",
          "The member who accepted (who asked) takes the proposal back before it forms.",
          target="matching.withdraw_pair", acting="member", response=api.Pair, tag=TAG),
    Route("POST", "/v1/matching/pairs/{pair_id}/ending", "end_matching_pair",
          "The acting member ends the pair: completed or withdrawn (R9).",
          target="matching.end_pair", acting="member", body=api.EndPair, response=api.Pair,
          tag=TAG),
]
