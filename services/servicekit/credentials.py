"""Bearer credentials: what a caller sends, and the only thing kept of it (a hash).

A credential is ``<kind>_<prefix>_<secret>``: the kind says whose it is (``mk``:
a partner organisation's API key, ``md``: a moderator's credential, so that one
is never taken for the other), 8 characters to find it by (shown in listings so
an admin recognises a key), and 256 random bits. Only the SHA-256 of the whole
credential is stored: with that much entropy a hash cannot be brute-forced, and
a stolen database yields no working credential.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

_ALPHABET = string.ascii_letters + string.digits
_SHAPE = r"^{kind}_([A-Za-z0-9]{{8}})_([A-Za-z0-9_-]{{43}})$"

#: A partner organisation's API key.
API_KEY = "mk"
#: A moderator's credential.
MODERATOR = "md"


@dataclass(frozen=True)
class NewCredential:
    key: str  # shown once, to the caller who asked for it
    prefix: str
    secret_sha256: str


def new_key(kind: str = API_KEY) -> NewCredential:
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    key = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewCredential(key=key, prefix=prefix, secret_sha256=digest(key))


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def prefix_of(key: str, kind: str = API_KEY) -> str | None:
    """The lookup prefix of a well-formed credential of ``kind``, ``None`` otherwise."""
    match = re.match(_SHAPE.format(kind=re.escape(kind)), key)
    return match.group(1) if match else None


def matches(key: str, secret_sha256: str) -> bool:
    return hmac.compare_digest(digest(key), secret_sha256)
