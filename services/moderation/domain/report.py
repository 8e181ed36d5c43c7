"""A report of commercial solicitation (R1) as moderation sees it.

It comes from sessions' ``CommercialSolicitationReported``. Its ``details`` are
sealed for moderators (R8) and stay out of the case: the service keeps them as
evidence, decrypted for moderators only; the case needs who reported whom.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.servicekit.errors import Invalid


def uuid_text(value: object, field: str) -> str:
    """The canonical lowercase text of a UUID, or ``Invalid`` naming ``field``."""
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError) as error:
        raise Invalid(f"{field} must be a UUID.", field=field) from error


@dataclass(frozen=True)
class Report:
    report_id: str
    reporter_id: str
    reported_member_id: str

    def __post_init__(self) -> None:
        for name in ("report_id", "reporter_id", "reported_member_id"):
            object.__setattr__(self, name, uuid_text(getattr(self, name), name))
        if self.reporter_id == self.reported_member_id:
            # R9: either member may report the *other*; the contract refuses it too.
            raise Invalid("A member cannot report herself.", field="reported_member_id")

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> Report:
        """From ``CommercialSolicitationReported`` data (any version, upcast)."""
        return cls(data["report_id"], data["reporter_id"], data["reported_member_id"])
