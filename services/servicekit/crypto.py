"""Encryption of personal and confidential text (R8), and crypto-shredding.

Every sealed value is ``enc:v1:<key-id>:<payload>`` (``contracts.sealed``). The
key id says whose it is:

- ``member-<id>``: a member's personal data (identity). Erasure destroys this
  key: the events stay, their content is unreadable everywhere, for good.
- ``pair-<pair>-by-<member>``: what one member wrote for her pair, which only
  the pair reads (sessions: notes, objectives, feedback). One key per author:
  her erasure destroys hers in sessions too, and her counterpart's words stay.
- ``moderators-1``: report details and decisions, readable by moderation only.
  Other services seal for it with moderation's *public* key (X25519 sealed
  box), so even the service that wrote a report cannot read it back.

Symmetric data keys (AES-256-GCM, the key id as associated data, so a payload
cannot be passed off under another key) are random, stored in the service's
own database wrapped by the platform's master secret, and never leave it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from typing import Any

import psycopg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from contracts import sealed
from services.servicekit import secrets

NONCE_BYTES = 12
FINGERPRINT_KEY_ID = "platform-1"
MODERATORS_KEY_ID = "moderators-1"

DDL = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id        text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('aead', 'x25519')),
    wrapped       bytea,              -- NULL once destroyed (crypto-shredding)
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz
);
"""


class Unreadable(Exception):
    """The key of a sealed value is destroyed, unknown, or the value was tampered with."""


def _wrap(master: bytes, key_id: str, key: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, key, b"data-key:" + key_id.encode())


def _unwrap(master: bytes, key_id: str, wrapped: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                      b"data-key:" + key_id.encode())
    except InvalidTag:
        raise Unreadable(f"data key {key_id} does not open with this master secret") from None


class Keyring:
    """A service's data keys, in its own database (the caller's transaction)."""

    def __init__(self, master: bytes | None = None) -> None:
        self._master = master

    @property
    def master(self) -> bytes:
        if self._master is None:
            self._master = secrets.load("master")
        return self._master

    @staticmethod
    def install(conn: psycopg.Connection) -> None:
        conn.execute(DDL)

    # -- symmetric keys -----------------------------------------------------------

    def _key(self, conn: psycopg.Connection, key_id: str, create: bool) -> bytes:
        if create:
            conn.execute(
                "INSERT INTO data_keys (key_id, kind, wrapped) VALUES (%s, 'aead', %s) "
                "ON CONFLICT (key_id) DO NOTHING",
                (key_id, _wrap(self.master, key_id, AESGCM.generate_key(256))),
            )
        row = conn.execute(
            "SELECT wrapped FROM data_keys WHERE key_id = %s", (key_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise Unreadable(f"key {key_id} is destroyed or unknown")
        return _unwrap(self.master, key_id, bytes(row[0]))

    def seal(self, conn: psycopg.Connection, key_id: str, plaintext: str) -> str:
        """``plaintext`` under ``key_id`` (created on first use). A destroyed key is
        never re-created: sealing for an erased subject raises ``Unreadable``."""
        key = self._key(conn, key_id, create=True)
        nonce = os.urandom(NONCE_BYTES)
        payload = nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), key_id.encode())
        return sealed.seal_format(key_id, payload)

    def open(self, conn: psycopg.Connection, value: str) -> str:
        """The plaintext of a sealed value, or ``Unreadable``."""
        key_id, payload = sealed.parse(value)
        key = self._key(conn, key_id, create=False)
        try:
            text = AESGCM(key).decrypt(payload[:NONCE_BYTES], payload[NONCE_BYTES:],
                                       key_id.encode())
        except InvalidTag:
            raise Unreadable(f"a value under {key_id} does not open (tampered?)") from None
        return text.decode("utf-8")

    def open_or_none(self, conn: psycopg.Connection, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return self.open(conn, value)
        except Unreadable:
            return None

    def destroy(self, conn: psycopg.Connection, key_id: str) -> bool:
        """Crypto-shredding: the key is gone; ``True`` if it existed until now.

        A tombstone row stays, so that the key id is never issued again. One statement:
        a key being created by a transaction not yet committed is waited for, then
        destroyed (an UPDATE would not see it, and an INSERT would then do nothing)."""
        row = conn.execute(
            "INSERT INTO data_keys (key_id, kind, wrapped, destroyed_at) "
            "VALUES (%s, 'aead', NULL, now()) ON CONFLICT (key_id) DO UPDATE SET "
            "wrapped = NULL, destroyed_at = COALESCE(data_keys.destroyed_at, now()) "
            # Updated (not inserted), and alive until now (not destroyed before).
            "RETURNING xmax <> 0 AND destroyed_at = now()", (key_id,),
        ).fetchone()
        return bool(row and row[0])

    def is_destroyed(self, conn: psycopg.Connection, key_id: str) -> bool:
        row = conn.execute("SELECT wrapped IS NULL FROM data_keys WHERE key_id = %s",
                           (key_id,)).fetchone()
        return bool(row and row[0])

    # -- the moderators' key pair ------------------------------------------------------

    def box_public_key(self, conn: psycopg.Connection, key_id: str = MODERATORS_KEY_ID) -> str:
        """The public half (base64) of the key pair ``key_id``, created on first use."""
        private = self._private(conn, key_id)
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def box_open(self, conn: psycopg.Connection, value: str) -> str:
        key_id, payload = sealed.parse(value)
        private = self._private(conn, key_id, create=False)
        ephemeral, rest = payload[:32], payload[32:]
        key = _box_key(private.exchange(X25519PublicKey.from_public_bytes(ephemeral)),
                       ephemeral, private.public_key())
        try:
            text = AESGCM(key).decrypt(rest[:NONCE_BYTES], rest[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise Unreadable(f"a value under {key_id} does not open (tampered?)") from None
        return text.decode("utf-8")

    def _private(
        self, conn: psycopg.Connection, key_id: str, create: bool = True
    ) -> X25519PrivateKey:
        if create:
            raw = X25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            conn.execute(
                "INSERT INTO data_keys (key_id, kind, wrapped) VALUES (%s, 'x25519', %s) "
                "ON CONFLICT (key_id) DO NOTHING", (key_id, _wrap(self.master, key_id, raw)),
            )
        row = conn.execute(
            "SELECT wrapped FROM data_keys WHERE key_id = %s AND kind = 'x25519'", (key_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise Unreadable(f"key pair {key_id} is destroyed or unknown")
        return X25519PrivateKey.from_private_bytes(_unwrap(self.master, key_id, bytes(row[0])))


def _box_key(shared: bytes, ephemeral: bytes, recipient: X25519PublicKey) -> bytes:
    recipient_raw = recipient.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"mentoring-sealed-box-v1" + ephemeral + recipient_raw).derive(shared)


def box_seal(public_key_b64: str, key_id: str, plaintext: str) -> str:
    """Seal for the holder of a key pair, knowing only its public half: the writer
    itself cannot open the result (an ephemeral key is used once and dropped)."""
    recipient = X25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes(serialization.Encoding.Raw,
                                                        serialization.PublicFormat.Raw)
    key = _box_key(ephemeral.exchange(recipient), ephemeral_raw, recipient)
    nonce = os.urandom(NONCE_BYTES)
    payload = ephemeral_raw + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"),
                                                          key_id.encode())
    return sealed.seal_format(key_id, payload)


# -- identity fingerprints (R2) ---------------------------------------------------------


#: Mail domains that ignore dots in the local part, and are one another's alias.
_DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalise_email(email: str) -> str:
    """The v1 spelling of an e-mail: Unicode NFKC, trimmed, lower case."""
    return unicodedata.normalize("NFKC", email).strip().lower()


def canonical_mailbox(email: str) -> str:
    """R2: one spelling per mailbox, the v2 fingerprint's input. Beyond v1's case and
    Unicode forms, the spellings one mailbox receives under, each of which let an
    excluded seller register again under v1:

    - a quoted local part (``"ana"@x.org`` is ``ana@x.org``, RFC 5321);
    - a sub-address (``ana+again@x.org`` reaches ``ana@x.org``);
    - an internationalised domain in its ASCII form (``xn--bcher-kva.de`` is
      ``bücher.de``), and a trailing dot;
    - Gmail's dots (``a.na@gmail.com`` is ``ana@gmail.com``) and its
      ``googlemail.com`` alias.
    """
    text = normalise_email(email)
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return text
    domain = ".".join(_unicode_label(label) for label in domain.rstrip(".").split("."))
    if len(local) >= 2 and local[0] == local[-1] == '"':
        local = re.sub(r"\\(.)", r"\1", local[1:-1])
    base, plus, _tag = local.partition("+")
    if plus and base:
        local = base
    if domain in _DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _unicode_label(label: str) -> str:
    """An ``xn--`` label as the Unicode it spells. Decoded, not encoded: encoding
    goes through IDNA 2003's mapping, which makes ``straße`` ``strasse``, another
    domain, and leaves ``xn--strae-oqa`` apart from the ``straße`` it spells."""
    if not label.startswith("xn--"):
        return label
    try:
        return normalise_email(label[4:].encode("ascii").decode("punycode"))
    except UnicodeError:
        return label


def fingerprint(email: str, key: bytes | None = None) -> str:
    """R2: a keyed one-way fingerprint of a person's mailbox, kept after erasure so
    an excluded person can never register again, under any organisation."""
    return _fingerprint("v2", canonical_mailbox(email), key)


def fingerprints_on_record(email: str, key: bytes | None = None) -> tuple[str, ...]:
    """R2: every fingerprint the owner of ``email`` may be on record under: v2, and
    the v1 ones of members registered before v2, of this spelling and of the
    canonical one. An erased member's address is gone, so her v1 fingerprint cannot
    be recomputed as v2: registration checks them all, for good."""
    v1 = {_fingerprint("v1", normalise_email(spelling), key)
          for spelling in (email, canonical_mailbox(email))}
    return (fingerprint(email, key), *sorted(v1))


def _fingerprint(version: str, text: str, key: bytes | None) -> str:
    secret = key if key is not None else secrets.load("fingerprint")
    digest = hmac.new(secret, text.encode("utf-8"), hashlib.sha256)
    return f"fp:{version}:{FINGERPRINT_KEY_ID}:{digest.hexdigest()}"


def member_key_id(member_id: Any) -> str:
    return f"member-{member_id}"


def author_key_id(pair_id: Any, member_id: Any) -> str:
    """What ``member_id`` writes for the pair ``pair_id`` (sessions)."""
    return f"pair-{pair_id}-by-{member_id}"
