"""What matching's queries return: domain values and read-model rows shaped for
``contracts.api.matching``. Ids, vocabularies, states and scores; never a text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.matching.domain.cohort import Assignment
from services.matching.domain.eligibility import INELIGIBILITY, Eligibility
from services.matching.domain.suggestions import Suggestions


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def suggestions(result: Suggestions) -> dict[str, Any]:
    return result.explain()


def eligibility(decided: Eligibility, *, role: str, charter_version: int | None,
                accepted_charter: int | None, open_pairs: int,
                capacity: int | None) -> dict[str, Any]:
    return {
        "member_id": decided.member_id,
        "role": role,
        "eligible": decided.eligible,
        "reasons": [{"reason": r, "rule": INELIGIBILITY[r]} for r in decided.reasons],
        "charter_version": charter_version,
        "accepted_charter": accepted_charter,
        "open_pairs": open_pairs,
        "capacity": capacity,
        "free_places": max(capacity - open_pairs, 0) if capacity is not None else None,
    }


def pair(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "pair_id": row["pair_id"],
        "state": row["state"],
        "source": row["source"],
        "cohort_id": row["cohort_id"],
        "mentor_id": row["mentor_id"],
        "mentee_id": row["mentee_id"],
        "mentor_organisation_id": row["mentor_organisation_id"],
        "mentee_organisation_id": row["mentee_organisation_id"],
        "score": row["score"],
        "accepted_by": sorted(row["accepted_by"]),
        "proposed_at": row["proposed_at"].isoformat(),
        "expires_at": row["expires_at"].isoformat(),
        "formed_at": _iso(row["formed_at"]),
        "closed_at": _iso(row["closed_at"]),
        "close_reason": row["close_reason"],
        "version": row["version"],
    }


def explanation(pair_id: str, recorded: dict[str, Any],
                rederived: dict[str, Any] | None) -> dict[str, Any]:
    """``recorded``: the ``MatchProposed`` data as stored (upcast to v2)."""
    return {
        "pair_id": pair_id,
        "source": recorded.get("source"),
        "proposed_at": str(recorded["proposed_at"]),
        "score": recorded["score"],
        "algorithm_version": recorded.get("algorithm_version"),
        "weights": recorded.get("weights"),
        "components": recorded.get("components"),
        "inputs": recorded.get("inputs"),
        "rederived": rederived,
    }


def assignment(found: Assignment, pair_ids: dict[str, str] | None = None) -> dict[str, Any]:
    """``pair_ids``: by mentee id, the proposals recorded for it (none on a dry run)."""
    ids = pair_ids or {}
    return {
        "method": found.method,
        "total": found.total,
        "pairs": [{"pair_id": ids.get(p.mentee.member_id), "mentee_id": p.mentee.member_id,
                   "mentor_id": p.mentor.member_id, "score": p.total} for p in found.pairs],
        "unmatched": list(found.unmatched),
    }
