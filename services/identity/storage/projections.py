"""identity's read models, each rebuilt from events by the same ``apply``.

- ``IdentityReadModel``: organisations, API keys, members, charter versions and
  acceptances, from identity's own events (applied in the command's own
  transaction, so a command's effect is readable as soon as it returns).
- ``ExclusionRegistry``: R2's permanent exclusions and profile flags, from
  moderation's ``MemberExcluded`` and ``ProfileFlagged`` (consumed from Kafka).

Personal values stay sealed here as in the events: the read model is no
weaker than the log (R8); only the service opens them, for the member and her
organisation, and nothing once the member's key is destroyed.
"""

from __future__ import annotations

from typing import Any

import psycopg

from services.eventcore.events import DomainEvent
from services.eventcore.projections import EventProjection
from services.identity.storage import credentials_epoch

IDENTITY_DDL = """
CREATE TABLE IF NOT EXISTS organisations (
    organisation_id  uuid PRIMARY KEY,
    kind             text NOT NULL,
    name             text NOT NULL,          -- sealed
    contact_email    text NOT NULL,          -- sealed
    matching_scope   text NOT NULL DEFAULT 'own',
    registered_at    timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_id           uuid PRIMARY KEY,
    organisation_id  uuid NOT NULL,
    prefix           text NOT NULL UNIQUE,
    secret_sha256    text NOT NULL,
    issued_at        timestamptz NOT NULL,
    revoked_at       timestamptz,
    revoked_reason   text
);
CREATE TABLE IF NOT EXISTS members (
    member_id          uuid PRIMARY KEY,
    organisation_id    uuid NOT NULL,
    role               text NOT NULL,
    fingerprint        text NOT NULL,
    display_name       text,                 -- sealed
    email              text,                 -- sealed
    expectations       text,                 -- sealed
    bio                text,                 -- sealed
    languages          text[] NOT NULL,
    topics             text[] NOT NULL,
    preferred_modality text NOT NULL,
    region             text,
    capacity           integer,
    accepted_version   integer,
    registered_at      timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    erased_at          timestamptz
);
DROP INDEX IF EXISTS members_once_per_role;
CREATE INDEX IF NOT EXISTS members_by_fingerprint ON members (fingerprint);
CREATE INDEX IF NOT EXISTS members_by_organisation ON members (organisation_id, registered_at);
CREATE TABLE IF NOT EXISTS charter_versions (
    charter_version     integer PRIMARY KEY,
    text_sha256         text NOT NULL,
    mentor_commitments  text[] NOT NULL,
    mentee_commitments  text[] NOT NULL,
    published_at        timestamptz NOT NULL
);
-- Not a projection (the events carry only its digest): the charter's text, written
-- with its CharterPublished event; kept when the projection is rebuilt.
CREATE TABLE IF NOT EXISTS charter_texts (
    charter_version  integer PRIMARY KEY,
    text             text NOT NULL
);
CREATE TABLE IF NOT EXISTS charter_acceptances (
    member_id        uuid NOT NULL,
    charter_version  integer NOT NULL,
    accepted_at      timestamptz NOT NULL,
    PRIMARY KEY (member_id, charter_version)
);
"""

REGISTRY_DDL = """
CREATE TABLE IF NOT EXISTS excluded_identities (
    fingerprint   text PRIMARY KEY,
    member_id     uuid NOT NULL,
    case_id       uuid NOT NULL,
    excluded_at   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS excluded_members (
    member_id     uuid PRIMARY KEY,
    case_id       uuid NOT NULL,
    excluded_at   timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_flags (
    member_id     uuid PRIMARY KEY,
    flag          text NOT NULL,
    case_id       uuid NOT NULL,
    flagged_at    timestamptz NOT NULL
);
"""


class IdentityReadModel(EventProjection):
    tables = ("organisations", "api_keys", "members", "charter_versions", "charter_acceptances")

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(IDENTITY_DDL)

    def on_OrganisationRegistered(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO organisations (organisation_id, kind, name, contact_email, "
            "registered_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["organisation_id"], d["kind"], d["name"], d["contact_email"],
             d["registered_at"]),
        )

    def on_OrganisationPolicyChanged(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE organisations SET matching_scope = %s WHERE organisation_id = %s",
                     (e.data["matching_scope"], e.data["organisation_id"]))

    def on_ApiKeyIssued(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO api_keys (key_id, organisation_id, prefix, secret_sha256, issued_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["key_id"], d["organisation_id"], d["prefix"], d["secret_sha256"], d["issued_at"]),
        )

    def on_ApiKeyRevoked(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE api_keys SET revoked_at = %s, revoked_reason = %s WHERE key_id = %s",
                     (e.data["revoked_at"], e.data["reason"], e.data["key_id"]))

    def on_MemberRegistered(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO members (member_id, organisation_id, role, fingerprint, display_name, "
            "email, expectations, bio, languages, topics, preferred_modality, region, "
            "capacity, registered_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (member_id) DO NOTHING",
            (d["member_id"], d["organisation_id"], d["role"], d["identity_fingerprint"],
             d["display_name"], d["email"], d.get("expectations"), d.get("bio"),
             d["languages"], d["topics"],
             d["preferred_modality"], d.get("region"), d.get("capacity"),
             d["registered_at"], d["registered_at"]),
        )

    _UPDATABLE = ("display_name", "email", "expectations", "bio", "languages", "topics",
                  "preferred_modality", "region", "capacity")

    def on_MemberProfileUpdated(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        changed = [name for name in self._UPDATABLE if name in e.data]
        assignments = ", ".join(f"{name} = %s" for name in changed)
        conn.execute(
            f"UPDATE members SET {assignments}, updated_at = %s WHERE member_id = %s",
            (*[e.data[name] for name in changed], e.data["updated_at"], e.data["member_id"]),
        )

    def on_CharterPublished(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO charter_versions (charter_version, text_sha256, mentor_commitments, "
            "mentee_commitments, published_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (d["charter_version"], d["text_sha256"], d["mentor_commitments"],
             d["mentee_commitments"], d["published_at"]),
        )

    def on_CharterAccepted(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute("UPDATE members SET accepted_version = %s WHERE member_id = %s",
                     (d["charter_version"], d["member_id"]))
        conn.execute(
            "INSERT INTO charter_acceptances (member_id, charter_version, accepted_at) "
            "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (d["member_id"], d["charter_version"], d["accepted_at"]),
        )

    def on_PersonalDataErased(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        # The sealed values would be unreadable anyway (the key is gone); dropping them
        # from the read model keeps it no larger than what can still mean anything.
        conn.execute(
            "UPDATE members SET erased_at = %s, display_name = NULL, email = NULL, "
            "expectations = NULL, bio = NULL WHERE member_id = %s",
            (e.data["erased_at"], e.data["member_id"]),
        )


class ExclusionRegistry(EventProjection):
    """R2: who is excluded, for good, by fingerprint (any organisation, even after
    erasure) and by member id; and the flag her organisation and moderators see."""

    tables = ("excluded_identities", "excluded_members", "profile_flags")

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(REGISTRY_DDL)

    def on_MemberExcluded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d: dict[str, Any] = e.data
        conn.execute(
            "INSERT INTO excluded_identities (fingerprint, member_id, case_id, excluded_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["identity_fingerprint"], d["member_id"], d["case_id"], d["excluded_at"]),
        )
        conn.execute(
            "INSERT INTO excluded_members (member_id, case_id, excluded_at) "
            "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (d["member_id"], d["case_id"], d["excluded_at"]),
        )

    def on_ProfileFlagged(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO profile_flags (member_id, flag, case_id, flagged_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["member_id"], d["flag"], d["case_id"], d["flagged_at"]),
        )


#: What ``python -m services.eventcore.rebuild identity`` rebuilds, and from where.
OWN = (IdentityReadModel(),)
FOREIGN = {"moderation": (ExclusionRegistry(),)}
#: A rebuild can change who may act (one that corrects a projection's fault may
#: revoke a key, or exclude a member (R2), the faulty tables had missed): the
#: epoch advances with it, and every gateway forgets what it had cached within
#: about a second of the commit (``credentials_epoch``).
AFTER_REBUILD = credentials_epoch.advance
