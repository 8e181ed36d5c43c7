"""The moderation service. Its key pair is the one thing other services need of it
now: report details are sealed for moderators with the public half (R8), which
only this service can open."""

from __future__ import annotations

from typing import Any

from contracts import catalogue
from services.eventcore.database import UnitOfWorkProvider
from services.servicekit.crypto import MODERATORS_KEY_ID
from services.servicekit.keys import KeyringProvider
from services.servicekit.metrics import ServiceMetrics
from services.servicekit.rpc import internal


class ModerationService:
    name = "moderation"

    uow = UnitOfWorkProvider(catalogue)
    keyring = KeyringProvider()
    metrics = ServiceMetrics()

    @internal
    def public_key(self) -> dict[str, Any]:
        """The moderators' public key (X25519, base64): seal report details with it
        (``servicekit.crypto.box_seal``); the private half never leaves this service."""
        with self.uow() as uow:
            return {"key_id": MODERATORS_KEY_ID,
                    "public_key": self.keyring.box_public_key(uow.conn)}
