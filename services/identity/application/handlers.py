"""What each identity command does, in one transaction: load, decide, seal, save.

The nameko service (``service``) only translates calls into these functions;
everything here runs inside ``uow.run`` (retried from scratch on a concurrency
conflict), so a command either commits whole or leaves nothing behind.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from services.eventcore.database import UnitOfWork
from services.identity.domain.charter import CHARTER_ID, SEED_COMMITMENTS, Charter, CharterVersion
from services.identity.domain.member import Member, refuse_excluded
from services.identity.domain.organisation import Organisation
from services.identity.storage import queries
from services.servicekit import credentials as api_keys
from services.servicekit.actor import Actor
from services.servicekit.crypto import (
    Keyring,
    fingerprint,
    fingerprints_on_record,
    member_key_id,
)
from services.servicekit.errors import Conflict, NotFound, RuleViolation

SEED_TEXT = Path(__file__).resolve().parents[1] / "charter" / "v1.fr.txt"

#: Profile values sealed under the member's key (R8); the rest are vocabularies.
SEALED_FIELDS = ("display_name", "email", "expectations", "bio")


def organisation_key_id(organisation_id: str) -> str:
    return f"org-{organisation_id}"


# -- organisations ------------------------------------------------------------------


def register_organisation(uow: UnitOfWork, keyring: Keyring, now: datetime,
                          payload: dict[str, Any]) -> dict[str, Any]:
    organisation_id = str(uuid.uuid4())
    key_id = organisation_key_id(organisation_id)
    organisation = Organisation.register(
        organisation_id,
        keyring.seal(uow.conn, key_id, payload["name"]),
        payload["kind"],
        keyring.seal(uow.conn, key_id, payload["contact_email"]),
        now,
    )
    organisation.set_matching_scope(payload.get("matching_scope", "own"), now)
    issued = _issue(organisation, now)
    uow.save(organisation)
    return {"organisation_id": organisation_id, **issued}


def _issue(organisation: Organisation, now: datetime) -> dict[str, str]:
    key = api_keys.new_key()
    key_id = str(uuid.uuid4())
    organisation.issue_key(key_id, key.prefix, key.secret_sha256, now)
    return {"key_id": key_id, "api_key": key.key}


def _organisation(uow: UnitOfWork, organisation_id: str) -> Organisation:
    organisation = uow.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.", field="organisation_id")
    return organisation


def issue_api_key(uow: UnitOfWork, now: datetime, organisation_id: str) -> dict[str, str]:
    organisation = _organisation(uow, organisation_id)
    issued = _issue(organisation, now)
    uow.save(organisation)
    return issued


def revoke_api_key(uow: UnitOfWork, now: datetime, organisation_id: str, key_id: str,
                   reason: str) -> dict[str, Any]:
    organisation = _organisation(uow, organisation_id)
    organisation.revoke_key(key_id, reason, now)
    uow.save(organisation)
    return {"id": key_id, "version": organisation.version}


def set_matching_scope(uow: UnitOfWork, now: datetime, organisation_id: str,
                       scope: str) -> dict[str, Any]:
    organisation = _organisation(uow, organisation_id)
    organisation.set_matching_scope(scope, now)
    uow.save(organisation)
    return {"id": organisation_id, "version": organisation.version}


# -- the charter (R3) -----------------------------------------------------------------


def current_charter(uow: UnitOfWork, now: datetime) -> CharterVersion:
    """The current version; the seed (v1, the French charter) is published on first use."""
    current = queries.current_charter(uow.conn)
    if current is not None:
        return current
    charter = uow.get(Charter, CHARTER_ID) or Charter(CHARTER_ID)
    if charter.current is None:
        text = SEED_TEXT.read_text(encoding="utf-8")
        version = charter.publish(text, SEED_COMMITMENTS["mentor"], SEED_COMMITMENTS["mentee"],
                                  now)
        _keep_text(uow.conn, version.version, text)
        uow.save(charter)
    assert charter.current is not None
    return charter.current


def publish_charter(uow: UnitOfWork, now: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    current_charter(uow, now)  # the seed first: a new version follows v1
    charter = uow.get(Charter, CHARTER_ID)
    assert charter is not None
    version = charter.publish(payload["text"], payload["mentor_commitments"],
                              payload["mentee_commitments"], now)
    _keep_text(uow.conn, version.version, payload["text"])
    uow.save(charter)
    return charter_view(uow.conn, version)


def _keep_text(conn: psycopg.Connection, version: int, text: str) -> None:
    conn.execute("INSERT INTO charter_texts (charter_version, text) VALUES (%s, %s) "
                 "ON CONFLICT DO NOTHING", (version, text))


def charter_view(conn: psycopg.Connection, version: CharterVersion) -> dict[str, Any]:
    row = conn.execute("SELECT text FROM charter_texts WHERE charter_version = %s",
                       (version.version,)).fetchone()
    return {
        "charter_version": version.version,
        "text": row[0] if row else "",
        "text_sha256": version.text_sha256,
        "commitments": {role: list(ids) for role, ids in version.commitments.items()},
        "published_at": version.published_at,
    }


# -- members ---------------------------------------------------------------------------


def register_member(uow: UnitOfWork, keyring: Keyring, now: datetime, actor: Actor,
                    payload: dict[str, Any]) -> dict[str, Any]:
    organisation_id = actor.as_admin()
    on_record = fingerprints_on_record(payload["email"])
    # R2: under any spelling of her mailbox, and any fingerprint she was excluded under.
    refuse_excluded(on_record[0], queries.fingerprint_excluded(uow.conn, *on_record))
    # One person, one fingerprint: someone registered before v2 keeps her v1 one, so
    # that an exclusion under either reaches all her memberships (identity, matching).
    identity = queries.fingerprint_in_use(uow.conn, on_record) or fingerprint(payload["email"])
    if not queries.claim_registration(uow.conn, organisation_id, payload["role"], identity):
        raise Conflict(f"This person is already registered as {payload['role']} in this "
                       "organisation.", field="email")
    member_id = str(uuid.uuid4())
    key_id = member_key_id(member_id)
    sealed = {name: (keyring.seal(uow.conn, key_id, payload[name])
                     if payload.get(name) is not None else None)
              for name in SEALED_FIELDS}
    member = Member.register(member_id, organisation_id, payload["role"], identity, sealed,
                             payload, now)
    uow.save(member)
    return {"member_id": member_id, "version": member.version}



def member_for(uow: UnitOfWork, actor: Actor, member_id: str) -> Member:
    """The member the actor may act on: her organisation, or herself. Anything else
    reads as a member that does not exist (tenant isolation)."""
    organisation_id = actor.in_organisation()
    if actor.kind == "member" and actor.member_id != member_id:
        raise NotFound("No such member.", field="member_id")
    member = uow.get(Member, member_id)
    if member is None or member.organisation_id != organisation_id:
        raise NotFound("No such member.", field="member_id")
    return member


def _refuse_if_excluded(uow: UnitOfWork, member: Member) -> None:
    if queries.fingerprint_excluded(uow.conn, member.fingerprint):
        # R2: every further command of an excluded member is refused.
        raise RuleViolation("R2", "This member is permanently excluded.", field="member_id")


def update_member(uow: UnitOfWork, keyring: Keyring, now: datetime, actor: Actor,
                  member_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    member = member_for(uow, actor, member_id)
    _refuse_if_excluded(uow, member)
    if member.erased:
        # Before sealing: her key is destroyed, and is never issued again.
        raise Conflict("This member's personal data was erased: she can no longer be "
                       "changed.", field="member_id")
    key_id = member_key_id(member_id)
    changes = {name: (keyring.seal(uow.conn, key_id, value)
                      if name in SEALED_FIELDS and value is not None else value)
               for name, value in payload.items()}
    member.update_profile(changes, now)
    uow.save(member)
    return {"id": member_id, "version": member.version}


def accept_charter(uow: UnitOfWork, now: datetime, actor: Actor, member_id: str,
                   payload: dict[str, Any]) -> dict[str, Any]:
    """R3: only the member herself accepts (acting as herself)."""
    actor.as_member()
    member = member_for(uow, actor, member_id)
    _refuse_if_excluded(uow, member)
    current = current_charter(uow, now)
    member.accept_charter(current, payload["charter_version"], payload["commitments"], now)
    uow.save(member)
    return {"member_id": member_id, "charter_version": payload["charter_version"],
            "accepted_at": now.isoformat()}


def erase_member(uow: UnitOfWork, keyring: Keyring, now: datetime, actor: Actor,
                 member_id: str) -> dict[str, Any]:
    """Crypto-shredding: the event and the destroyed key commit together."""
    member = member_for(uow, actor, member_id)
    key_id = member.erase("member" if actor.kind == "member" else "organisation", now)
    uow.save(member)
    keyring.destroy(uow.conn, key_id)
    return {"member_id": member_id, "erased_at": now.isoformat()}
