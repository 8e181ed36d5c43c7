"""``keyring = KeyringProvider()``: a service's data keys, as a nameko dependency.

The keyring works on the unit of work's connection: a key created for a new
member commits with her registration, a key destroyed for an erasure commits
with ``PersonalDataErased``, never one without the other.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from services.eventcore import service_config
from services.eventcore.database import DatabasePools
from services.servicekit import secrets
from services.servicekit.crypto import Keyring


class KeyringProvider(DependencyProvider):
    pools = DatabasePools()

    def setup(self) -> None:
        # Read the master secret now: a service without it fails at start, loudly,
        # not at its first encryption.
        self.keyring = Keyring(secrets.load("master"))
        self.config = service_config.from_container(
            self.container.config, self.container.service_name
        )

    def start(self) -> None:
        with self.pools.get(self.config.database_url).transaction() as conn:
            Keyring.install(conn)

    def get_dependency(self, worker_ctx: Any) -> Keyring:
        return self.keyring
