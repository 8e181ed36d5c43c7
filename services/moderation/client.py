"""A small client of the moderator API, for the tests, ``make demo`` and the operators."""

from __future__ import annotations

from services.eventcore import settings as stack_settings
from services.gateway.client import PartnerApi


def moderation_url() -> str:
    return f"http://127.0.0.1:{stack_settings.load().moderation_port}"


def moderator_api(credential: str | None) -> PartnerApi:
    """The moderator API as one caller (the same HTTP client as partners use)."""
    return PartnerApi(credential, base_url=moderation_url())


def enrol(name: str = "Moderator") -> PartnerApi:
    """The operator enrols a moderator; returns her client (``.moderator_id`` set)."""
    operator = PartnerApi.operator(moderation_url())
    enrolled = operator.post("/v1/operator/moderators", {"display_name": name}).ok()
    client = moderator_api(enrolled["credential"])
    client.moderator_id = enrolled["moderator_id"]  # type: ignore[attr-defined]
    return client
