"""The moderators' public key, asked of moderation once per process.

Report details are sealed with it (``servicekit.crypto.box_seal``): only
moderation, which holds the private half, can open them; not even this service
reads back what it wrote (R8). A key is public, so caching it is harmless; a
rotated key carries a new key id, and a restart picks it up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from services.servicekit.crypto import box_seal

_lock = threading.Lock()
_key: dict[str, str] | None = None


def seal_for_moderators(ask: Callable[[], Any], plaintext: str) -> str:
    """``plaintext`` sealed for the moderators; ``ask()`` is the RPC to moderation."""
    global _key
    with _lock:
        key = _key
    if key is None:
        answer = ask()
        key = {"key_id": str(answer["key_id"]), "public_key": str(answer["public_key"])}
        with _lock:
            _key = key
    return box_seal(key["public_key"], key["key_id"], plaintext)
