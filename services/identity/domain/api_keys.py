"""API keys: what a partner sends, and the only thing identity keeps of it (a hash).

A key is ``mk_<prefix>_<secret>``: 8 characters to find it by (shown in listings
so an admin recognises a key), and 256 random bits. Only the SHA-256 of the
whole key is stored: with that much entropy a hash cannot be brute-forced, and a
stolen database yields no working key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_letters + string.digits
_KEY = re.compile(r"^mk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    key: str  # shown once, to the caller who asked for it
    prefix: str
    secret_sha256: str


def new_key() -> NewKey:
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    key = f"mk_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, secret_sha256=digest(key))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def prefix_of(key: str) -> str | None:
    """The lookup prefix of a well-formed key, ``None`` for anything else."""
    match = _KEY.match(key)
    return match.group(1) if match else None


def matches(key: str, secret_sha256: str) -> bool:
    return hmac.compare_digest(digest(key), secret_sha256)
