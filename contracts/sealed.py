"""The sealed (encrypted) text format that events carry instead of plaintext (R8).

``enc:v1:<key-id>:<base64url payload>``: the services encrypt with an AEAD
(``cryptography``) under the named key and put only this string in an event.
The key id says which key opens it: a member's key (destroyed to erase the
member's personal data: crypto-shredding), a member's key for one pair (notes,
objectives, feedback: readable by the pair only, shredded with her), or the
moderators' key (report details).

This module only knows the *shape*, so the catalogue can refuse plaintext
without holding any key.
"""

from __future__ import annotations

import base64
import binascii
import math
import re

PREFIX = "enc:v1:"

#: Lowercase, so the same key is never spelt two ways; long enough for
#: ``member-<uuid>`` style ids.
KEY_ID_PATTERN = r"[a-z0-9][a-z0-9._-]{0,99}"

#: 12-byte nonce + 16-byte tag: the shortest output of AES-GCM (or
#: ChaCha20-Poly1305), even for an empty plaintext. Anything shorter cannot
#: be one of ours, which rules out short plaintext that happens to be base64.
MIN_PAYLOAD_BYTES = 28

#: Bounds one field: a long note fits, a file does not.
MAX_LENGTH = 65_536

#: The shortest sealed string: prefix, a one-character key id, the colon and
#: the base64url of ``MIN_PAYLOAD_BYTES`` (unpadded).
MIN_LENGTH = len(PREFIX) + 2 + math.ceil(MIN_PAYLOAD_BYTES * 4 / 3)

SEALED_PATTERN = rf"^enc:v1:{KEY_ID_PATTERN}:[A-Za-z0-9_-]+={{0,2}}$"
_SEALED = re.compile(SEALED_PATTERN)


class NotSealed(ValueError):
    """A value that is not in the sealed format."""


def seal_format(key_id: str, payload: bytes) -> str:
    """Wrap an AEAD output (nonce + ciphertext + tag) in the sealed format."""
    value = PREFIX + key_id + ":" + base64.urlsafe_b64encode(payload).decode("ascii")
    parse(value)  # the same checks as on the way in, so nothing unreadable is written
    return value


def parse(value: str) -> tuple[str, bytes]:
    """``(key_id, payload)`` of a sealed value; ``NotSealed`` says why not."""
    if not isinstance(value, str):
        raise NotSealed("Not a string.")
    if not value.startswith(PREFIX):
        raise NotSealed(f"Not sealed: expected '{PREFIX}<key-id>:<base64url>' (R8, no plaintext).")
    if len(value) > MAX_LENGTH:
        raise NotSealed(f"Sealed value longer than {MAX_LENGTH} characters.")
    if not _SEALED.match(value):
        raise NotSealed("Malformed sealed value: bad key id or payload not base64url.")
    key_id, _, encoded = value[len(PREFIX):].partition(":")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as error:
        raise NotSealed("Malformed sealed value: payload not base64url.") from error
    if len(payload) < MIN_PAYLOAD_BYTES:
        raise NotSealed(
            f"Sealed payload of {len(payload)} bytes is shorter than any AEAD output "
            f"({MIN_PAYLOAD_BYTES})."
        )
    return key_id, payload


def is_sealed(value: object) -> bool:
    try:
        parse(value)  # type: ignore[arg-type]
    except NotSealed:
        return False
    return True
