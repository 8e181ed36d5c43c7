"""The mentor index a process keeps is rebuilt as soon as the mentors changed, given
the loads of now as soon as only the pairs changed, and only then: the read model's
counters move when a change commits, never before."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from contracts import catalogue
from services.eventcore.database import UnitOfWork
from services.eventcore.store import EventStore
from services.matching.application import handlers
from services.matching.application.mentor_index import MentorIndexCache
from services.matching.domain.profiles import MentorProfile
from services.matching.domain.suggestions import MentorIndex
from services.matching.domain.weights import MatchingConfig
from services.matching.storage.projections import (
    ExclusionList,
    PairsReadModel,
    PoolReadModel,
    pool_versions,
    version_tables,
)
from services.servicekit.actor import Actor


@pytest.fixture
def read_model(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        for projection in (PoolReadModel(), PairsReadModel(), ExclusionList()):
            projection.create(conn)
    return database_url


def _exclude(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO pool_exclusions VALUES (%s, 'fp:v1:platform-1:x', now())",
                 (str(uuid.uuid4()),))


@pytest.mark.parametrize("table", ["pool_exclusions", "pool_organisations", "pairs",
                                   "pool_members", "pool_charter_versions"])
def test_the_version_moves_when_a_change_commits_and_not_before(read_model, table):
    changes = {
        "pool_exclusions": _exclude,
        "pool_organisations": lambda c: c.execute(
            "INSERT INTO pool_organisations VALUES (%s, 'open')", (str(uuid.uuid4()),)),
        "pairs": lambda c: c.execute(
            "INSERT INTO pairs (pair_id, mentor_id, mentee_id, score, state, proposed_at, "
            "expires_at, version) VALUES (%s, %s, %s, 0.5, 'proposed', now(), now(), 1)",
            (str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))),
        "pool_members": lambda c: c.execute(
            "INSERT INTO pool_members (member_id, organisation_id, role, fingerprint, "
            "languages, topics, preferred_modality) VALUES (%s, %s, 'mentor', 'fp', '{fr}', "
            "'{sql}', 'remote')", (str(uuid.uuid4()), str(uuid.uuid4()))),
        "pool_charter_versions": lambda c: c.execute(
            "INSERT INTO pool_charter_versions VALUES (7)"),
    }
    # The pairs hold only the mentors' loads: their counter is ``loads``.
    moved, still = (1, 0) if table == "pairs" else (0, 1)
    with psycopg.connect(read_model) as writer, psycopg.connect(read_model,
                                                                autocommit=True) as reader:
        before = pool_versions(reader)
        changes[table](writer)
        assert pool_versions(reader) == before, "an uncommitted change moved a counter"
        writer.commit()
        after = pool_versions(reader)
        assert after[moved] > before[moved] and after[still] == before[still]


def test_an_index_is_kept_while_nothing_changed_and_rebuilt_once_something_did(read_model):
    indexes, built = MentorIndexCache(), []
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())

    def build() -> MentorIndex:
        built.append(1)
        return MentorIndex([])

    with psycopg.connect(read_model, autocommit=True) as conn:
        first = indexes.get(conn, ours, 1, build, dict)
        assert indexes.get(conn, ours, 1, build, dict) is first and len(built) == 1
        indexes.get(conn, theirs, 1, build, dict)  # another organisation: its own index
        assert len(built) == 2
        indexes.get(conn, ours, 2, build, dict)  # another charter in force: another index
        assert len(built) == 3
        _exclude(conn)  # committed: an exclusion changes who may be suggested (R2)
        assert indexes.get(conn, ours, 1, build, dict) is not first and len(built) == 4


def test_only_the_most_recently_used_indexes_are_kept(read_model):
    indexes = MentorIndexCache(keep=2)
    organisations = [str(uuid.uuid4()) for _ in range(3)]
    with psycopg.connect(read_model, autocommit=True) as conn:
        for organisation in organisations:
            indexes.get(conn, organisation, 1, lambda: MentorIndex([]), dict)
        indexes.get(conn, organisations[0], 1, lambda: MentorIndex([]), dict)
    assert indexes.builds == 4  # the first was let go to keep two


def test_an_index_takes_in_new_loads_without_a_rebuild_when_only_pairs_changed(read_model):
    """A pair formed (the pairs table) changes mentors' loads, nothing else of the
    index: the kept one is given the loads read anew, and is not rebuilt."""
    indexes, built, read = MentorIndexCache(), [], []
    ours = str(uuid.uuid4())
    mentor = MentorProfile(member_id=str(uuid.uuid4()), organisation_id=ours,
                           matching_scope="own", topics=frozenset({"sql"}),
                           languages=frozenset({"fr"}), preferred_modality="remote",
                           region=None, fingerprint="fp:v2:m", capacity=2, load=0)

    def build() -> MentorIndex:
        built.append(1)
        return MentorIndex([mentor])

    def loads() -> dict[str, int]:
        read.append(1)
        return {mentor.member_id: 1}

    with psycopg.connect(read_model, autocommit=True) as conn:
        first = indexes.get(conn, ours, 1, build, loads)
        conn.execute(
            "INSERT INTO pairs (pair_id, mentor_id, mentee_id, score, state, proposed_at, "
            "expires_at, version) VALUES (%s, %s, %s, 0.5, 'formed', now(), now(), 1)",
            (str(uuid.uuid4()), mentor.member_id, str(uuid.uuid4())))
        refreshed = indexes.get(conn, ours, 1, build, loads)
        assert (len(built), len(read), indexes.load_refreshes) == (1, 1, 1)
        assert [m.load for m in refreshed.profiles] == [1]
        assert [m.load for m in first.profiles] == [0], "the index others read is untouched"
        assert indexes.get(conn, ours, 1, build, loads) is refreshed  # nothing new since
        _exclude(conn)  # but the mentors' side changed: rebuilt
        indexes.get(conn, ours, 1, build, loads)
        assert (len(built), len(read)) == (2, 1)


@pytest.mark.parametrize("since", ["before loads", "an older release started again"])
def test_a_read_model_whose_pairs_bumped_the_version_counts_them_under_loads(
    database_url, since,
):
    """Before the loads had a counter, the pairs bumped ``version`` (and an older
    release started again puts that trigger back beside the new one): created
    again, the pairs table bumps ``loads`` only."""
    with psycopg.connect(database_url) as conn:
        PairsReadModel().create(conn)
        if since == "before loads":
            conn.execute("DROP TRIGGER pairs_bumps_pool_loads ON pairs")
        version_tables(conn, "pairs")  # the older release's own start
        conn.commit()
        PairsReadModel().create(conn)
        PairsReadModel().create(conn)  # and at the next start: nothing left to do
        conn.commit()
        triggers = {name for (name,) in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'pairs'::regclass "
            "AND tgname LIKE '%bumps%'")}
        assert triggers == {"pairs_bumps_pool_loads"}


def test_a_mentor_who_becomes_full_is_no_longer_suggested_from_the_kept_index(read_model):
    """Through ``handlers.suggest``, as the service answers: her pair formed, the kept
    index is given her load of now, and she is ruled out (``no_free_capacity``)."""
    organisation = str(uuid.uuid4())
    mentor, mentee = str(uuid.uuid4()), str(uuid.uuid4())
    config = MatchingConfig.from_mapping({
        "weights": {"topics": 4, "languages": 1.5, "modality": 1, "region": 1,
                    "capacity": 1.5, "organisation": 1},
        "request_expiry_days": 7, "suggestions": 10})
    with psycopg.connect(read_model) as conn:
        conn.execute("INSERT INTO pool_charter_versions VALUES (1)")
        conn.execute("INSERT INTO pool_organisations VALUES (%s, 'own')", (organisation,))
        for member, role, capacity in ((mentor, "mentor", 1), (mentee, "mentee", None)):
            conn.execute(
                "INSERT INTO pool_members (member_id, organisation_id, role, fingerprint, "
                "languages, topics, preferred_modality, capacity, accepted_charter) "
                "VALUES (%s, %s, %s, %s, '{fr}', '{sql}', 'remote', %s, 1)",
                (member, organisation, role, f"fp:v2:{member}", capacity))
        conn.commit()
        uow, indexes = UnitOfWork(conn, EventStore("matching", catalogue)), MentorIndexCache()
        actor = Actor.member(organisation, mentee, "mentee")

        def suggested() -> tuple[list[str], dict[str, int]]:
            answer = handlers.suggest(uow, config, actor, mentee, None, indexes)
            conn.rollback()
            return [s["mentor_id"] for s in answer["suggestions"]], answer["excluded"]

        assert suggested()[0] == [mentor]
        conn.execute(
            "INSERT INTO pairs (pair_id, mentor_id, mentee_id, score, state, proposed_at, "
            "expires_at, version) VALUES (%s, %s, %s, 0.5, 'formed', now(), now(), 1)",
            (str(uuid.uuid4()), mentor, str(uuid.uuid4())))
        conn.commit()
        names, excluded = suggested()
        assert (names, excluded["no_free_capacity"]) == ([], 1)
        assert (indexes.builds, indexes.load_refreshes) == (1, 1)
