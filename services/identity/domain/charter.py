"""The charter (R3): versioned texts, each with the commitments of each role.

One aggregate for the platform (``CHARTER_ID``): versions are published in
order, never edited. A member's acceptance names every commitment of her role
in one version; the current version is the last published.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts import charter as vocabulary
from services.eventcore.aggregate import Aggregate
from services.servicekit.errors import Conflict, Invalid, RuleViolation

#: The platform's one charter stream (a fixed id, so every instance finds it).
CHARTER_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://mentoring.example/charter"))


@dataclass(frozen=True)
class CharterVersion:
    version: int
    text_sha256: str
    commitments: dict[str, tuple[str, ...]]  # role -> ids
    published_at: str

    def of_role(self, role: str) -> tuple[str, ...]:
        return self.commitments[role]


class Charter(Aggregate):
    kind = "charter"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.versions: dict[int, CharterVersion] = {}

    @property
    def current(self) -> CharterVersion | None:
        return self.versions[max(self.versions)] if self.versions else None

    def publish(
        self, text: str, mentor_commitments: list[str], mentee_commitments: list[str],
        now: datetime,
    ) -> CharterVersion:
        """R3: a new version; every member must accept it again."""
        for role, ids in (("mentor", mentor_commitments), ("mentee", mentee_commitments)):
            if len(set(ids)) != len(ids):
                raise Invalid(f"The {role} commitments repeat an id.",
                              field=f"{role}_commitments")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if self.current is not None and self.current.text_sha256 == digest and (
            self.current.commitments == {"mentor": tuple(mentor_commitments),
                                         "mentee": tuple(mentee_commitments)}
        ):
            raise Conflict("This text and these commitments are already the current version.")
        version = (max(self.versions) if self.versions else 0) + 1
        self.record("CharterPublished", {
            "charter_id": self.id,
            "charter_version": version,
            "text_sha256": digest,
            "mentor_commitments": list(mentor_commitments),
            "mentee_commitments": list(mentee_commitments),
            "published_at": now.isoformat(),
        })
        return self.versions[version]

    def when_charter_published(self, data: dict[str, Any]) -> None:
        version = int(data["charter_version"])
        self.versions[version] = CharterVersion(
            version=version,
            text_sha256=data["text_sha256"],
            commitments={"mentor": tuple(data["mentor_commitments"]),
                         "mentee": tuple(data["mentee_commitments"])},
            published_at=str(data["published_at"]),
        )


def check_acceptance(current: CharterVersion, role: str, version: int,
                     commitments: list[str]) -> None:
    """R3: an acceptance names the current version and every commitment of the role,
    nothing of another role, nothing unknown."""
    if version != current.version:
        raise RuleViolation("R3", f"Version {version} is not the current charter: accept "
                            f"version {current.version}.", field="charter_version")
    foreign = sorted(c for c in commitments if not c.startswith(f"{role}."))
    if foreign:
        raise RuleViolation("R3", f"Commitments of another role than {role}: "
                            f"{', '.join(foreign)}.", field="commitments")
    expected = set(current.of_role(role))
    unknown = sorted(set(commitments) - expected)
    if unknown:
        raise RuleViolation("R3", f"Not commitments of charter v{current.version}: "
                            f"{', '.join(unknown)}.", field="commitments")
    missing = [c for c in current.of_role(role) if c not in set(commitments)]
    if missing:
        raise RuleViolation("R3", "Taking part means accepting every commitment of the "
                            f"{role} role; missing: {', '.join(missing)}.", field="commitments")


SEED_COMMITMENTS = {role: list(ids) for role, ids in vocabulary.COMMITMENTS.items()}
