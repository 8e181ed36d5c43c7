"""matching's read models, each rebuilt from events by the same ``apply``.

- ``PairsReadModel``: every proposal and the pair it became, from matching's own
  events (applied in the command's own transaction: a mentor's load and a
  mentee's open pair are never behind a commit, which the capacity checks rely on).
- ``PoolReadModel``: the candidates (``domain.candidate.Candidate``) as identity's
  events describe them: profile vocabularies, the charter version each accepted
  for her role, erasure; the published charter versions; organisations' matching
  scopes.
- ``ExclusionList``: R2, who moderation excluded, by person (fingerprint) and
  by member id, from ``MemberExcluded``.

The pool keeps *facts* and eligibility is decided when read (``queries``, with
``domain.eligibility``): identity's charter and member streams, identity's and
moderation's topics, arrive in no order relative to one another (a rebuild reads
a topic partition by partition), and facts folded in any order give the same
tables. For the same reason no index carries a rule (a projection replays any
history): who may be proposed is decided under locks (``queries.lock``).
No text and no personal value is kept here: vocabularies, ids, fingerprints.
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.eventcore.events import DomainEvent
from services.eventcore.projections import EventProjection
from services.matching.domain.candidate import PROFILE_FIELDS

#: Pair states that hold a mentee's one pair and a mentor's place (``domain.OPEN_STATES``).
OPEN = ("proposed", "formed")


# The mentors a mentee may be suggested depend on five tables. Each change to them
# bumps a counter *at commit* (a deferred constraint trigger: the counter's row is the
# last lock a writer takes, so writers cannot deadlock on it), and a reader that
# reads the counters before the mentors knows whether an index it built is still true
# (``application.mentor_index``):
# - ``version`` (the row of ``pool_version``): the mentors, their organisations'
#   policies, the charter in force, the exclusions (who is in the index, and as what);
# - ``loads`` (the row of ``pool_loads``): the pairs, of which the index holds only
#   each mentor's load (what a kept index takes in without being rebuilt: a pair is
#   formed far more often than a mentor registers).
# Two tables, not two columns of one: nothing here alters a table whose row every
# committing writer updates (an ALTER at start deadlocked with one). Upgrading from
# a release before ``loads``: its replicas, still running, do not see pairs change
# once a new one has started (they read ``version`` only), and may suggest a mentor
# who became full until they stop; a request for her is refused all the same (the
# capacity is checked under lock when she is proposed).
# The rows are no projection's: a rebuild keeps them counting up, so no index built
# before a rebuild is taken for one built after.
_VERSIONED = """
CREATE TABLE IF NOT EXISTS pool_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    bigint NOT NULL
);
INSERT INTO pool_version (version) SELECT 0 WHERE NOT EXISTS (SELECT FROM pool_version);
CREATE TABLE IF NOT EXISTS pool_loads (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    loads      bigint NOT NULL
);
INSERT INTO pool_loads (loads) SELECT 0 WHERE NOT EXISTS (SELECT FROM pool_loads);
CREATE OR REPLACE FUNCTION pool_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pool_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION pool_loads_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pool_loads SET loads = loads + 1;
    RETURN NULL;
END $$;
"""
_TRIGGER = """
DO $$
BEGIN
    -- Counted under the other counter before (the pairs, once under version; again
    -- if an older release started since): under this one only. Looked up first, so
    -- that an ordinary start takes no lock on the table.
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{table}_bumps_pool_{other}'
               AND tgrelid = '{table}'::regclass) THEN
        DROP TRIGGER {table}_bumps_pool_{other} ON {table};
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '{table}_bumps_pool_{counter}'
                   AND tgrelid = '{table}'::regclass) THEN
        CREATE CONSTRAINT TRIGGER {table}_bumps_pool_{counter}
            AFTER INSERT OR UPDATE OR DELETE ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pool_{counter}_bump();
    END IF;
END $$;
"""


def version_tables(conn: psycopg.Connection, *tables: str, counter: str = "version") -> None:
    """Make every change to ``tables`` bump ``counter`` (``version`` or ``loads``)
    when it commits (a rebuild re-inserts the rows: its commit bumps it
    too). Replicas starting together take turns (the DDL would collide); the counters'
    rows are never written here, so a rebuild in a REPEATABLE READ snapshot does not
    collide with live bumps."""
    other = {"version": "loads", "loads": "version"}[counter]
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('matching.pool_version'))")
    conn.execute(_VERSIONED)
    for table in tables:
        conn.execute(_TRIGGER.format(table=table, counter=counter, other=other))


def pool_version(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT version FROM pool_version").fetchone()[0])


def pool_versions(conn: psycopg.Connection) -> tuple[int, int]:
    """``(version, loads)``, read together (one statement, one snapshot)."""
    version, loads = conn.execute("SELECT (SELECT version FROM pool_version), "
                                  "(SELECT loads FROM pool_loads)").fetchone()
    return int(version), int(loads)


class PairsReadModel(EventProjection):
    tables = ("pairs",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS pairs (
            pair_id                 uuid PRIMARY KEY,
            mentor_id               uuid NOT NULL,
            mentee_id               uuid NOT NULL,
            mentor_organisation_id  uuid,             -- null only for a v1 proposal
            mentee_organisation_id  uuid,
            source                  text,             -- request | cohort
            cohort_id               uuid,
            score                   double precision NOT NULL,
            state                   text NOT NULL,    -- proposed formed declined expired
                                                      -- withdrawn ended
            accepted_by             uuid[] NOT NULL DEFAULT '{}',
            proposed_at             timestamptz NOT NULL,
            expires_at              timestamptz NOT NULL,
            formed_at               timestamptz,
            closed_at               timestamptz,
            close_reason            text,
            closed_by               uuid,
            version                 integer NOT NULL
        );
        CREATE INDEX IF NOT EXISTS pairs_open_by_mentor ON pairs (mentor_id)
            WHERE state IN ('proposed', 'formed');
        CREATE INDEX IF NOT EXISTS pairs_open_by_mentee ON pairs (mentee_id)
            WHERE state IN ('proposed', 'formed');
        CREATE INDEX IF NOT EXISTS pairs_due ON pairs (expires_at) WHERE state = 'proposed';
        CREATE INDEX IF NOT EXISTS pairs_by_mentee_organisation
            ON pairs (mentee_organisation_id, proposed_at);
        CREATE INDEX IF NOT EXISTS pairs_by_mentor_organisation
            ON pairs (mentor_organisation_id, proposed_at);
        """)
        version_tables(conn, "pairs", counter="loads")  # the mentors' loads, no more

    def _step(self, conn: psycopg.Connection, e: DomainEvent, assignments: str,
              params: tuple[Any, ...] = ()) -> None:
        conn.execute(f"UPDATE pairs SET version = %s, {assignments} WHERE pair_id = %s",
                     (e.stream_version, *params, e.data["pair_id"]))

    def on_MatchProposed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        inputs = d.get("inputs") or {}
        conn.execute(
            "INSERT INTO pairs (pair_id, mentor_id, mentee_id, mentor_organisation_id, "
            "mentee_organisation_id, source, cohort_id, score, state, proposed_at, "
            "expires_at, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'proposed', %s, "
            "%s, %s) ON CONFLICT (pair_id) DO NOTHING",
            (d["pair_id"], d["mentor_id"], d["mentee_id"],
             (inputs.get("mentor") or {}).get("organisation_id"),
             (inputs.get("mentee") or {}).get("organisation_id"),
             d.get("source"), d.get("cohort_id"), d["score"], d["proposed_at"],
             d["expires_at"], e.stream_version),
        )

    def on_MatchAccepted(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "accepted_by = CASE WHEN %s = ANY(accepted_by) THEN accepted_by "
                   "ELSE array_append(accepted_by, %s) END",
                   (e.data["member_id"], e.data["member_id"]))

    def on_MatchDeclined(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        self._step(conn, e, "state = 'declined', closed_at = %s, close_reason = %s, "
                   "closed_by = %s", (d["declined_at"], d["reason"], d["member_id"]))

    def on_MatchExpired(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "state = 'expired', closed_at = %s, close_reason = 'expired'",
                   (e.data["expired_at"],))

    def on_ProposalWithdrawn(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        self._step(conn, e, "state = 'withdrawn', closed_at = %s, close_reason = %s, "
                   "closed_by = %s", (d["withdrawn_at"], d["reason"], d["withdrawn_by"]))

    def on_PairFormed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "state = 'formed', formed_at = %s", (e.data["formed_at"],))

    def on_PairEnded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        self._step(conn, e, "state = 'ended', closed_at = %s, close_reason = %s, "
                   "closed_by = %s", (d["ended_at"], d["reason"], d["ended_by"]))


class PoolReadModel(EventProjection):
    """The facts eligibility is decided from, as identity publishes them (R3)."""

    tables = ("pool_members", "pool_charter_versions", "pool_organisations")

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS pool_members (
            member_id           uuid PRIMARY KEY,
            organisation_id     uuid NOT NULL,
            role                text NOT NULL,
            fingerprint         text NOT NULL,
            languages           text[] NOT NULL,
            topics              text[] NOT NULL,
            preferred_modality  text NOT NULL,
            region              text,
            capacity            integer,
            accepted_charter    integer,        -- the last version accepted for her role
            erased              boolean NOT NULL DEFAULT false
        );
        CREATE INDEX IF NOT EXISTS pool_members_by_organisation
            ON pool_members (organisation_id, role);
        CREATE INDEX IF NOT EXISTS pool_members_by_fingerprint ON pool_members (fingerprint);
        CREATE TABLE IF NOT EXISTS pool_charter_versions (
            charter_version  integer PRIMARY KEY
        );
        CREATE TABLE IF NOT EXISTS pool_organisations (
            organisation_id  uuid PRIMARY KEY,
            matching_scope   text NOT NULL
        );
        """)
        # R3: a new charter in force, or a member's acceptance of it, changes who may
        # be suggested; so do the members and their organisations' policies.
        version_tables(conn, "pool_members", "pool_charter_versions", "pool_organisations")

    def on_MemberRegistered(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data  # v2 (v1 arrives upcast)
        conn.execute(
            "INSERT INTO pool_members (member_id, organisation_id, role, fingerprint, "
            "languages, topics, preferred_modality, region, capacity) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (member_id) DO NOTHING",
            (d["member_id"], d["organisation_id"], d["role"], d["identity_fingerprint"],
             sorted(d["languages"]), sorted(d["topics"]), d["preferred_modality"],
             d.get("region"), d.get("capacity")),
        )

    def on_MemberProfileUpdated(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        changed = [name for name in PROFILE_FIELDS if name in e.data]
        if not changed:
            return  # a change of what matching does not score on (a name, a bio)
        values = [sorted(e.data[n]) if n in ("languages", "topics") else e.data[n]
                  for n in changed]
        assignments = ", ".join(f"{name} = %s" for name in changed)
        # An erased member keeps her tombstone: a late update cannot bring her back.
        conn.execute(f"UPDATE pool_members SET {assignments} WHERE member_id = %s "
                     "AND NOT erased", (*values, e.data["member_id"]))

    def on_CharterPublished(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("INSERT INTO pool_charter_versions (charter_version) VALUES (%s) "
                     "ON CONFLICT DO NOTHING", (e.data["charter_version"],))

    def on_CharterAccepted(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        # R3: an acceptance counts for her role only; an older version changes nothing.
        conn.execute(
            "UPDATE pool_members SET accepted_charter = GREATEST(COALESCE(accepted_charter, 0), "
            "%s) WHERE member_id = %s AND role = %s",
            (e.data["charter_version"], e.data["member_id"], e.data["role"]),
        )

    def on_PersonalDataErased(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        # As ``Candidate.as_erased``: a tombstone without her vocabularies.
        conn.execute(
            "UPDATE pool_members SET erased = true, languages = '{}', topics = '{}', "
            "region = NULL, preferred_modality = 'either' WHERE member_id = %s",
            (e.data["member_id"],),
        )

    def on_OrganisationPolicyChanged(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute(
            "INSERT INTO pool_organisations (organisation_id, matching_scope) VALUES (%s, %s) "
            "ON CONFLICT (organisation_id) DO UPDATE SET matching_scope = EXCLUDED.matching_scope",
            (e.data["organisation_id"], e.data["matching_scope"]),
        )


class ExclusionList(EventProjection):
    """R2: an exclusion bars the person in every role and organisation, including a
    registration matching reads after it (eligibility joins on the fingerprint)."""

    tables = ("pool_exclusions",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS pool_exclusions (
            member_id    uuid NOT NULL,
            fingerprint  text NOT NULL,
            excluded_at  timestamptz NOT NULL,
            PRIMARY KEY (member_id, fingerprint)
        );
        CREATE INDEX IF NOT EXISTS pool_exclusions_by_fingerprint
            ON pool_exclusions (fingerprint);
        """)
        version_tables(conn, "pool_exclusions")  # R2: excluded, out of every kept index

    def on_MemberExcluded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        # The earliest exclusion, whichever case's event is read first (two cases
        # have two keys, so two partitions: any order).
        conn.execute(
            "INSERT INTO pool_exclusions (member_id, fingerprint, excluded_at) "
            "VALUES (%s, %s, %s) ON CONFLICT (member_id, fingerprint) DO UPDATE SET "
            "excluded_at = LEAST(pool_exclusions.excluded_at, EXCLUDED.excluded_at)",
            (d["member_id"], d["identity_fingerprint"], d["excluded_at"]),
        )


#: The identity events the pool folds (``domain.pool.POOL_EVENTS`` but moderation's).
IDENTITY_EVENTS = ("MemberRegistered", "MemberProfileUpdated", "CharterPublished",
                   "CharterAccepted", "PersonalDataErased", "OrganisationPolicyChanged")

#: What ``python -m services.eventcore.rebuild matching`` rebuilds, and from where.
OWN = (PairsReadModel(),)
FOREIGN = {"identity": (PoolReadModel(),), "moderation": (ExclusionList(),)}
