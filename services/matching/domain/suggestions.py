"""Suggestions: the top mentors for a mentee, among thousands, in well under 50 ms.

``MentorIndex`` encodes the eligible mentors once (topics and languages as
boolean rows per vocabulary entry, modality, region, organisation, scope and
fingerprint as integer codes, capacity and load as integers) and then scores a
mentee against all of them with a few numpy operations: the formulas of
``scoring`` (algorithm version 1), the same float operations in the same order,
so every score equals the one ``scoring.score`` gives for that pair, bit for
bit. Hard constraints are masks: an excluded mentor is never suggested, and the
result counts how many each constraint excluded.

Ties are broken by mentor id, so the same pool gives the same suggestions.
The index is a snapshot: rebuild it when the pool changes (``build`` takes
about 35 ms for 10,000 mentors), take a copy with every mentor's load of now
when only pairs changed (``with_loads``), or update a mentor's load in place
with ``set_load``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from services.matching.domain.criteria import CRITERIA, EXCLUSIONS
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.scoring import Score
from services.matching.domain.weights import Weights
from services.servicekit.errors import Invalid, NotFound

__all__ = ["MentorIndex", "Suggestion", "Suggestions"]

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

_REMOTE, _IN_PERSON, _EITHER = 0, 1, 2
_MODALITY = {"remote": _REMOTE, "in_person": _IN_PERSON, "either": _EITHER}
#: Codes a mentee side gets for a value no mentor has (never equal to a mentor's,
#: whose codes are >= 0, or -1 for "no region" / "no fingerprint").
_ABSENT = -2


@dataclass(frozen=True)
class Suggestion:
    """One suggested mentor, with her profile as scored (the proposal's inputs)
    and the score's explanation."""

    mentor: MentorProfile
    score: Score

    @property
    def mentor_id(self) -> str:
        return self.mentor.member_id

    def explain(self) -> dict[str, Any]:
        return {"mentor_id": self.mentor_id, **self.score.explain()}


@dataclass(frozen=True)
class Suggestions:
    """The best mentors for ``mentee``, best first; ``considered``: how many mentors
    were looked at; ``excluded``: how many each hard constraint ruled out (a
    mentor breaking two counts under both)."""

    mentee: MenteeProfile
    items: tuple[Suggestion, ...]
    considered: int
    excluded: Mapping[str, int] = field(default_factory=dict)

    def explain(self) -> dict[str, Any]:
        return {
            "mentee_id": self.mentee.member_id,
            "suggestions": [s.explain() for s in self.items],
            "considered": self.considered,
            "excluded": dict(self.excluded),
        }


@dataclass(frozen=True)
class _Evaluation:
    """One mentee against every mentor of the index."""

    values: dict[str, Floats]
    totals: Floats
    broken: dict[str, Bools]

    @property
    def feasible(self) -> Bools:
        masks = iter(self.broken.values())
        any_broken = next(masks).copy()
        for mask in masks:
            any_broken |= mask
        return ~any_broken


def _codes(values: Iterable[str | None]) -> tuple[dict[str, int], Ints]:
    """A vocabulary (sorted, so that an index is the same whatever the input order)
    and each value's code in it (-1 for None)."""
    listed = list(values)
    vocabulary = {v: i for i, v in enumerate(sorted({v for v in listed if v is not None}))}
    return vocabulary, np.array([-1 if v is None else vocabulary[v] for v in listed],
                                dtype=np.int64)


def _rows(sets: Sequence[frozenset[str]]) -> tuple[dict[str, int], Bools]:
    """A vocabulary and a (vocabulary x mentors) boolean matrix: row t says which
    mentors have entry t. Row-major per entry, so a mentee's few entries are a
    few contiguous rows to add up."""
    vocabulary = {v: i for i, v in enumerate(sorted(set().union(*sets)))} if sets else {}
    matrix = np.zeros((len(vocabulary), len(sets)), dtype=np.bool_)
    rows = [vocabulary[v] for s in sets for v in s]
    cols = [j for j, s in enumerate(sets) for _ in s]
    matrix[rows, cols] = True
    return vocabulary, matrix


class MentorIndex:
    """Eligible mentors, encoded for vectorised scoring (see the module's doc)."""

    def __init__(self, mentors: Iterable[MentorProfile]) -> None:
        profiles = sorted(mentors, key=lambda m: m.member_id)
        ids = [m.member_id for m in profiles]
        if len(set(ids)) != len(ids):
            raise Invalid("A mentor appears twice in the index.", field="mentor_id")
        self.profiles: list[MentorProfile] = profiles
        self._row = {member_id: i for i, member_id in enumerate(ids)}
        self._topics, self._topic_rows = _rows([m.topics for m in profiles])
        self._languages, self._language_rows = _rows([m.languages for m in profiles])
        self._modality = np.array([_MODALITY[m.preferred_modality] for m in profiles],
                                  dtype=np.int64)
        self._regions, self._region = _codes(m.region for m in profiles)
        self._organisations, self._organisation = _codes(m.organisation_id for m in profiles)
        self._fingerprints, self._fingerprint = _codes(m.fingerprint for m in profiles)
        self._open = np.array([m.matching_scope == "open" for m in profiles], dtype=np.bool_)
        self._capacity = np.array([m.capacity for m in profiles], dtype=np.int64)
        self._load = np.array([m.load for m in profiles], dtype=np.int64)

    @classmethod
    def build(cls, mentors: Iterable[MentorProfile]) -> MentorIndex:
        return cls(mentors)

    def __len__(self) -> int:
        return len(self.profiles)

    @property
    def mentor_ids(self) -> list[str]:
        return [m.member_id for m in self.profiles]

    @property
    def free_places(self) -> Ints:
        """Each mentor's free places (capacity - load, at least 0), in index order."""
        return np.maximum(self._capacity - self._load, 0)

    def with_loads(self, loads: Mapping[str, int]) -> MentorIndex:
        """The same mentors with their loads now (``loads``: each mentor's active and
        pending pairs, none listed for none). A new index: one being read is left
        as it was; what only the mentors' profiles decide is shared, not rebuilt."""
        current = np.array([loads.get(m.member_id, 0) for m in self.profiles], dtype=np.int64)
        refreshed = copy.copy(self)
        refreshed.profiles = [m if m.load == load else replace(m, load=int(load))
                              for m, load in zip(self.profiles, current, strict=True)]
        refreshed._load = current
        return refreshed

    def set_load(self, mentor_id: str, load: int) -> None:
        """A mentor's active and pending pairs changed (a proposal, an ending)."""
        try:
            row = self._row[mentor_id]
        except KeyError:
            raise NotFound("No such mentor in the pool.", field="mentor_id") from None
        self.profiles[row] = replace(self.profiles[row], load=load)  # validates load
        self._load[row] = load

    # -- one mentee --------------------------------------------------------------------

    def _count(self, vocabulary: dict[str, int], rows: Bools, entries: frozenset[str]) -> Ints:
        """Per mentor, how many of ``entries`` she has."""
        known = [vocabulary[e] for e in entries if e in vocabulary]
        if not known:
            return np.zeros(len(self), dtype=np.int64)
        return rows[known].sum(axis=0, dtype=np.int64)

    def _evaluate(self, mentee: MenteeProfile, weights: Weights) -> _Evaluation:
        """``scoring.exclusions`` and ``scoring.values`` for every mentor at once."""
        n = len(self)
        modality = _MODALITY[mentee.preferred_modality]
        hits = self._count(self._topics, self._topic_rows, mentee.topics)
        shared = self._count(self._languages, self._language_rows, mentee.languages)
        region = self._regions.get(mentee.region, _ABSENT) if mentee.region else _ABSENT
        same_region = self._region == region
        organisation = self._organisations.get(mentee.organisation_id, _ABSENT)
        same_organisation = self._organisation == organisation
        possible = (self._modality != _REMOTE) & (modality != _REMOTE)
        required = possible & ((self._modality == _IN_PERSON) | (modality == _IN_PERSON))
        fingerprint = self._fingerprints.get(mentee.fingerprint or "", _ABSENT)
        broken = {
            "same_person": self._fingerprint == fingerprint,
            "no_shared_language": shared == 0,
            "incompatible_modality": (
                np.zeros(n, dtype=np.bool_) if modality == _EITHER
                else self._modality == (_IN_PERSON if modality == _REMOTE else _REMOTE)
            ),
            "different_region": required & ~same_region,
            "no_free_capacity": self._load >= self._capacity,
            # Both organisations must be open for a match across them.
            "organisation_not_open": ~same_organisation & ~(
                self._open & (mentee.matching_scope == "open")),
        }
        needs = len(mentee.topics)
        values = {
            "topics": hits / needs if needs else np.zeros(n),
            "languages": shared / len(mentee.languages),
            "modality": np.where(self._modality == modality, 1.0, 0.5),
            "region": np.where(possible & same_region, 1.0, 0.0),
            "capacity": (self._capacity - self._load) / self._capacity,
            "organisation": np.where(same_organisation, 1.0, 0.0),
        }
        return _Evaluation(values, _totals(values, weights), broken)

    def suggest(self, mentee: MenteeProfile, weights: Weights, limit: int = 10) -> Suggestions:
        """The ``limit`` best mentors for ``mentee``: highest score first, ties by
        mentor id; hard-constrained mentors never appear."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise Invalid("Ask for at least one suggestion.", field="limit")
        evaluation = self._evaluate(mentee, weights)
        feasible = np.flatnonzero(evaluation.feasible)
        totals = evaluation.totals[feasible]
        if len(feasible) > limit:
            # Everything scoring at least the limit-th best score (ties included),
            # then an exact sort of those few: fast and deterministic.
            threshold = np.partition(totals, len(totals) - limit)[len(totals) - limit]
            keep = totals >= threshold
            feasible, totals = feasible[keep], totals[keep]
        # Rows are in mentor id order, so the row breaks ties by id.
        order = np.lexsort((feasible, -totals))[:limit]
        items = tuple(self._suggestion(int(feasible[i]), evaluation, weights) for i in order)
        excluded = {r: int(evaluation.broken[r].sum()) for r in EXCLUSIONS}
        return Suggestions(mentee, items, considered=len(self), excluded=excluded)

    def _suggestion(self, row: int, evaluation: _Evaluation, weights: Weights) -> Suggestion:
        values = {c: float(evaluation.values[c][row]) for c in CRITERIA}
        weight = weights.as_dict()
        score = Score(total=float(evaluation.totals[row]), values=values,
                      components={c: weight[c] * values[c] for c in CRITERIA},
                      weights=weights)
        return Suggestion(self.profiles[row], score)

    # -- many mentees (cohorts) ----------------------------------------------------------

    def score_matrix(self, mentees: Sequence[MenteeProfile], weights: Weights,
                     chunk: int = 256) -> tuple[Floats, Bools]:
        """``(scores, feasible)``, each (mentees x mentors) in index order: every
        mentee scored against every mentor, a block of ``chunk`` mentees at a time
        (topic and language overlaps as matrix products), so memory stays
        bounded whatever the cohort size. ``scores`` is 0 where not feasible."""
        scores = np.zeros((len(mentees), len(self)), dtype=np.float64)
        feasible = np.zeros((len(mentees), len(self)), dtype=np.bool_)
        topic_rows = self._topic_rows.astype(np.float32)
        language_rows = self._language_rows.astype(np.float32)
        for start in range(0, len(mentees), chunk):
            block = mentees[start:start + chunk]
            block_scores, block_feasible = self._score_block(block, weights, topic_rows,
                                                             language_rows)
            scores[start:start + len(block)] = block_scores
            feasible[start:start + len(block)] = block_feasible
        return scores, feasible

    def _score_block(self, mentees: Sequence[MenteeProfile], weights: Weights,
                     topic_rows: npt.NDArray[np.float32],
                     language_rows: npt.NDArray[np.float32]) -> tuple[Floats, Bools]:
        def column(values: Iterable[int]) -> Ints:
            return np.fromiter(values, dtype=np.int64, count=len(mentees))[:, None]

        hits = _overlaps(mentees, "topics", self._topics, topic_rows)
        shared = _overlaps(mentees, "languages", self._languages, language_rows)
        needs = column(len(m.topics) for m in mentees).astype(np.float64)
        spoken = column(len(m.languages) for m in mentees).astype(np.float64)
        modality = column(_MODALITY[m.preferred_modality] for m in mentees)
        region = column(self._regions.get(m.region, _ABSENT) if m.region else _ABSENT
                        for m in mentees)
        organisation = column(self._organisations.get(m.organisation_id, _ABSENT)
                              for m in mentees)
        mentee_open = column(m.matching_scope == "open" for m in mentees).astype(np.bool_)
        fingerprint = column(self._fingerprints.get(m.fingerprint or "", _ABSENT)
                             for m in mentees)
        mentor_modality = self._modality[None, :]
        same_region = self._region[None, :] == region
        same_organisation = self._organisation[None, :] == organisation
        possible = (mentor_modality != _REMOTE) & (modality != _REMOTE)
        required = possible & ((mentor_modality == _IN_PERSON) | (modality == _IN_PERSON))
        incompatible = ((modality == _REMOTE) & (mentor_modality == _IN_PERSON)) | (
            (modality == _IN_PERSON) & (mentor_modality == _REMOTE))
        infeasible = (
            (self._fingerprint[None, :] == fingerprint)
            | (shared == 0)
            | incompatible
            | (required & ~same_region)
            | (self._load >= self._capacity)[None, :]
            | (~same_organisation & ~(self._open[None, :] & mentee_open))
        )
        topics = np.divide(hits, needs, out=np.zeros_like(hits), where=needs > 0)
        values = {
            "topics": topics,
            "languages": shared / spoken,
            "modality": np.where(mentor_modality == modality, 1.0, 0.5),
            "region": np.where(possible & same_region, 1.0, 0.0),
            "capacity": ((self._capacity - self._load) / self._capacity)[None, :],
            "organisation": np.where(same_organisation, 1.0, 0.0),
        }
        totals = _totals(values, weights)
        totals[infeasible] = 0.0
        return totals, ~infeasible


def _overlaps(mentees: Sequence[MenteeProfile], attribute: str, vocabulary: dict[str, int],
              rows: npt.NDArray[np.float32]) -> Floats:
    """(mentees x mentors) counts of shared entries, as exact float64 integers."""
    wanted = np.zeros((len(mentees), len(vocabulary)), dtype=np.float32)
    for i, mentee in enumerate(mentees):
        for entry in getattr(mentee, attribute):
            if entry in vocabulary:
                wanted[i, vocabulary[entry]] = 1.0
    # Counts of at most a few dozen ones are exact in float32.
    return (wanted @ rows).astype(np.float64)


def _totals(values: Mapping[str, Any], weights: Weights) -> Floats:
    """``scoring.combine`` vectorised: weight x value summed in criterion order,
    at most 1."""
    weight = weights.as_dict()
    total: Any = 0.0
    for c in CRITERIA:
        total = total + weight[c] * values[c]
    return np.minimum(np.asarray(total, dtype=np.float64), 1.0)
