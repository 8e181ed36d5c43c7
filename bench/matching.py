"""Matching's solver benchmark: pure domain code, no server.

- suggestions: the top 10 mentors for one mentee among 10,000 (``MentorIndex.suggest``),
  median and p99 over many mentees (target: under 50 ms).
- cohort: 1,000 mentees of one organisation x 1,000 mentors with capacities 1 to 3
  (``assign_optimal``, scipy's ``linear_sum_assignment`` on capacity-expanded
  slots): time and peak traced memory (target: under 5 s), and its total score
  against the greedy baseline's (the ratio is >= 1 by construction; the figure
  says by how much). Twice: mentors with every place free (about two places per
  mentee), then mentors with some places taken (places scarcer, so the choice
  matters more).

The synthetic profiles are generated from a fixed seed, so two runs score the
same pool. Run alone with ``python -m bench.matching``.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import sys
import time
import tracemalloc
import uuid
from typing import Any

from services.matching.domain.cohort import assign_greedy, assign_optimal
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.suggestions import MentorIndex
from services.matching.domain.weights import Weights

SEED = 20250304
MENTORS = 10_000
SUGGESTION_CALLS = 500
SUGGESTIONS = 10
COHORT_MENTEES = 1_000
COHORT_MENTORS = 1_000
SUGGESTION_TARGET_MS = 50.0
COHORT_TARGET_S = 5.0

WEIGHTS = Weights.from_config({"topics": 4, "languages": 1.5, "modality": 1, "region": 1,
                               "capacity": 1.5, "organisation": 1})

_NAMESPACE = uuid.UUID("0b5e1c1e-6a0e-4b8e-9d4f-6d6174636869")
TOPICS = [f"topic-{i:02d}" for i in range(80)]
#: Languages with how often a member speaks them (French first: a French programme).
LANGUAGES = {"fr": 0.9, "en": 0.55, "es": 0.12, "de": 0.08, "ar": 0.08, "it": 0.05,
             "pt": 0.05, "wo": 0.03, "zh": 0.02, "ro": 0.02, "pl": 0.02, "tr": 0.02}
REGIONS = ["fr-idf", "fr-ara", "fr-hdf", "fr-naq", "fr-occ", "fr-pac", "fr-bre", "fr-pdl",
           "fr-ges", "fr-nor", "fr-bfc", "fr-cvl", "be-bru", "be-wal", "ch-ge"]
ORGANISATIONS = [str(uuid.uuid5(_NAMESPACE, f"organisation {i}")) for i in range(25)]
#: Which organisations opened their matching (the intake's, the first, is open).
OPEN = {org: i == 0 or i % 3 != 0 for i, org in enumerate(ORGANISATIONS)}


def _member_id(role: str, i: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{role} {i}"))


def _common(rng: random.Random, organisation_id: str, topics: tuple[int, int]) -> dict[str, Any]:
    languages = {lang for lang, p in LANGUAGES.items() if rng.random() < p} or {"fr"}
    modality = rng.choices(["remote", "in_person", "either"], weights=[4, 2, 4])[0]
    region = rng.choice(REGIONS) if modality == "in_person" or rng.random() < 0.7 else None
    # A few popular topics, a long tail: topic k is drawn with weight 1 / (k + 1).
    count = rng.randint(*topics)
    chosen = set()
    while len(chosen) < count:
        chosen.add(rng.choices(TOPICS, weights=[1 / (k + 1) for k in range(len(TOPICS))])[0])
    return {"organisation_id": organisation_id,
            "matching_scope": "open" if OPEN[organisation_id] else "own",
            "topics": frozenset(chosen), "languages": frozenset(languages),
            "preferred_modality": modality, "region": region}


def mentors(n: int, seed: int = SEED, loaded: bool = True) -> list[MentorProfile]:
    """``n`` mentors with capacities 1 to 3; ``loaded``: some places already taken
    (about one mentor in ten is full)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        capacity = rng.choice([1, 2, 2, 3])
        load = min(rng.choice([0, 0, 0, 1, 2, 3]), capacity) if loaded else 0
        out.append(MentorProfile(member_id=_member_id("mentor", i), capacity=capacity,
                                 load=load, fingerprint=f"fp-mentor-{i}",
                                 **_common(rng, rng.choice(ORGANISATIONS), (2, 8))))
    return out


def mentees(n: int, seed: int = SEED + 1, organisation_id: str | None = None
            ) -> list[MenteeProfile]:
    """``n`` mentees (of ``organisation_id``, or of any organisation)."""
    rng = random.Random(seed)
    return [MenteeProfile(member_id=_member_id("mentee", i), fingerprint=f"fp-mentee-{i}",
                          **_common(rng, organisation_id or rng.choice(ORGANISATIONS), (1, 5)))
            for i in range(n)]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_suggestions() -> dict[str, Any]:
    pool = mentors(MENTORS)
    started = time.perf_counter()
    index = MentorIndex.build(pool)
    build_ms = (time.perf_counter() - started) * 1000
    asking = mentees(SUGGESTION_CALLS, seed=SEED + 2)
    for mentee in asking[:20]:  # warm up (first calls allocate numpy's buffers)
        index.suggest(mentee, WEIGHTS, SUGGESTIONS)
    samples, returned = [], []
    for mentee in asking:
        started = time.perf_counter()
        result = index.suggest(mentee, WEIGHTS, SUGGESTIONS)
        samples.append((time.perf_counter() - started) * 1000)
        returned.append(len(result.items))
    return {
        "mentors": MENTORS, "calls": len(samples), "limit": SUGGESTIONS,
        "index_build_ms": round(build_ms, 1),
        "median_ms": round(statistics.median(samples), 3),
        "p99_ms": round(_percentile(samples, 0.99), 3),
        "max_ms": round(max(samples), 3),
        "mean_suggestions_returned": round(statistics.fmean(returned), 2),
        "target_ms": SUGGESTION_TARGET_MS,
        "meets_target": _percentile(samples, 0.99) < SUGGESTION_TARGET_MS,
    }


def bench_cohort(loaded: bool = False) -> dict[str, Any]:
    """``loaded``: mentors already busy (about one place in two taken), so that the
    places are scarce and the assignment a real choice."""
    intake = mentees(COHORT_MENTEES, seed=SEED + 3, organisation_id=ORGANISATIONS[0])
    pool = mentors(COHORT_MENTORS, seed=SEED + 4, loaded=loaded)
    gc.collect()
    started = time.perf_counter()
    optimal = assign_optimal(intake, pool, WEIGHTS)
    optimal_s = time.perf_counter() - started
    started = time.perf_counter()
    greedy = assign_greedy(intake, pool, WEIGHTS)
    greedy_s = time.perf_counter() - started
    # Memory on a separate run: tracing slows allocations down, so it is not timed.
    # (numpy's arrays are traced; scipy's solver works in place on the cost matrix.)
    gc.collect()
    tracemalloc.start()
    assign_optimal(intake, pool, WEIGHTS)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ratio = optimal.total / greedy.total if greedy.total else float("inf")
    return {
        "mentees": COHORT_MENTEES, "mentors": COHORT_MENTORS,
        "places": sum(m.free_places for m in pool),
        "optimal_s": round(optimal_s, 3), "greedy_s": round(greedy_s, 3),
        "peak_memory_mib": round(peak / 2**20, 1),
        "optimal_total": round(optimal.total, 4), "greedy_total": round(greedy.total, 4),
        "ratio": round(ratio, 5), "gain_percent": round((ratio - 1) * 100, 3),
        "optimal_matched": len(optimal.pairs), "greedy_matched": len(greedy.pairs),
        "target_s": COHORT_TARGET_S, "meets_target": optimal_s < COHORT_TARGET_S,
    }


def _report_cohort(label: str, cohort: dict[str, Any]) -> None:
    size = f"{cohort['mentees']:,} mentees x {cohort['mentors']:,} mentors"
    print(f"matching cohort ({label}) optimal, {size}, {cohort['places']:,} free places: "
          f"{cohort['optimal_s']:.2f} s (target < {COHORT_TARGET_S:.0f} s)")
    print(f"matching cohort ({label}) peak traced memory: "
          f"{cohort['peak_memory_mib']:.1f} MiB")
    print(f"matching cohort ({label}) greedy baseline: {cohort['greedy_s']:.2f} s")
    print(f"matching cohort ({label}) total score: optimal {cohort['optimal_total']:.3f} "
          f"({cohort['optimal_matched']} matched), greedy {cohort['greedy_total']:.3f} "
          f"({cohort['greedy_matched']} matched), ratio {cohort['ratio']:.4f} "
          f"(optimal +{cohort['gain_percent']:.2f} %; >= 1 by construction)")


def run() -> dict[str, Any]:
    """Both benchmarks; one line per figure, with its target."""
    suggestions = bench_suggestions()
    print(f"matching suggestions, 1 mentee among {suggestions['mentors']:,} mentors "
          f"(top {suggestions['limit']}, {suggestions['calls']} calls): median "
          f"{suggestions['median_ms']:.2f} ms, p99 {suggestions['p99_ms']:.2f} ms "
          f"(target < {SUGGESTION_TARGET_MS:.0f} ms)")
    print(f"matching index build, {suggestions['mentors']:,} mentors: "
          f"{suggestions['index_build_ms']:.0f} ms")
    cohort = bench_cohort()
    _report_cohort("capacities 1-3, all free", cohort)
    busy = bench_cohort(loaded=True)
    _report_cohort("capacities 1-3, some taken", busy)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"matching benchmark process peak RSS: {rss:.0f} MiB")
    return {"suggestions": suggestions, "cohort": cohort, "cohort_busy_mentors": busy,
            "peak_rss_mib": round(rss, 1)}


if __name__ == "__main__":
    results = run()
    ok = all(results[k]["meets_target"] for k in ("suggestions", "cohort",
                                                   "cohort_busy_mentors"))
    sys.exit(0 if ok else 1)
