"""What every context's examples share: fixed ids, sealed-looking values, a time."""

from __future__ import annotations

import hashlib
import uuid

from contracts import sealed

_NAMESPACE = uuid.UUID("6f0a3f5e-2f4b-4c59-9a43-3c1d8e1b7a10")


def example_id(label: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, label))


def sealed_example(key_id: str, label: str) -> str:
    """A value in the sealed format (the payload is not real ciphertext: the
    catalogue only checks the shape; services encrypt for real)."""
    return sealed.seal_format(key_id, hashlib.sha256(label.encode()).digest() + bytes(12))


ORG = example_id("organisation")
MENTOR = example_id("mentor")
MENTEE = example_id("mentee")
PAIR = example_id("pair")
SESSION = example_id("session")
OBJECTIVE = example_id("objective")
CASE = example_id("case")
REPORT = example_id("report")
MODERATOR = example_id("moderator")
FINGERPRINT = "fp:v1:platform-1:" + hashlib.sha256(b"mentor@example.org").hexdigest()
AT = "2025-03-04T10:00:00+00:00"
#: What each member writes for the pair is sealed under her own key for it
#: (``servicekit.crypto.author_key_id``): her erasure shreds her words only.
MENTEE_PAIR_KEY = f"pair-{PAIR}-by-{MENTEE}"
MENTOR_PAIR_KEY = f"pair-{PAIR}-by-{MENTOR}"
MODERATORS_KEY = "moderators-1"

