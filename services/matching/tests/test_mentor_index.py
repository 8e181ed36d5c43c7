"""The mentor index a process keeps is rebuilt as soon as the read model changed, and
only then: ``pool_version`` moves when a change to the mentors commits, never before."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from services.matching.application.mentor_index import MentorIndexCache
from services.matching.domain.suggestions import MentorIndex
from services.matching.storage.projections import (
    ExclusionList,
    PairsReadModel,
    PoolReadModel,
    pool_version,
)


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
    with psycopg.connect(read_model) as writer, psycopg.connect(read_model,
                                                                autocommit=True) as reader:
        before = pool_version(reader)
        changes[table](writer)
        assert pool_version(reader) == before, "an uncommitted change moved the version"
        writer.commit()
        assert pool_version(reader) > before


def test_an_index_is_kept_while_nothing_changed_and_rebuilt_once_something_did(read_model):
    indexes, built = MentorIndexCache(), []
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())

    def build() -> MentorIndex:
        built.append(1)
        return MentorIndex([])

    with psycopg.connect(read_model, autocommit=True) as conn:
        first = indexes.get(conn, ours, 1, build)
        assert indexes.get(conn, ours, 1, build) is first and len(built) == 1
        indexes.get(conn, theirs, 1, build)  # another organisation: its own index
        assert len(built) == 2
        indexes.get(conn, ours, 2, build)  # another charter in force: another index
        assert len(built) == 3
        _exclude(conn)  # committed: an exclusion changes who may be suggested (R2)
        assert indexes.get(conn, ours, 1, build) is not first and len(built) == 4


def test_only_the_most_recently_used_indexes_are_kept(read_model):
    indexes = MentorIndexCache(keep=2)
    organisations = [str(uuid.uuid4()) for _ in range(3)]
    with psycopg.connect(read_model, autocommit=True) as conn:
        for organisation in organisations:
            indexes.get(conn, organisation, 1, lambda: MentorIndex([]))
        indexes.get(conn, organisations[0], 1, lambda: MentorIndex([]))
    assert indexes.builds == 4  # the first was let go to keep two
