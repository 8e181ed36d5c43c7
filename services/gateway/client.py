"""A small client of the partner API, as a partner's back end would write one.

Used by the end-to-end tests, ``make demo`` and the benchmarks, so that all of
them speak to the gateway over real HTTP exactly as partners do::

    platform = PartnerApi.operator()                       # the operator's credential
    org = platform.register_organisation("Elles Codent")   # -> an organisation's client
    mentee = org.register_member("mentee", email="zoe@example.org")
    org.as_member(mentee).accept_charter()                 # acts for her (X-Acting-Member)
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from services.eventcore import settings as stack_settings
from services.servicekit import secrets

_counter = itertools.count(1)


@dataclass
class Answer:
    """One HTTP answer: the status, the JSON body (or text), the headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers.get("Content-Type", "").startswith("application/problem+json"), (
            f"not a problem+json answer: {self.status} {self.body}")
        return self.body

    def fields(self) -> list[str]:
        return [e["field"] for e in self.problem["errors"]]

    def ok(self) -> Any:
        assert 200 <= self.status < 300, f"expected success, got {self.status}: {self.body}"
        return self.body


class PartnerApi:
    """The API as one caller: a credential and, optionally, the member it acts for."""

    def __init__(self, credential: str | None, base_url: str | None = None,
                 acting_member: str | None = None, session: requests.Session | None = None,
                 organisation_id: str | None = None) -> None:
        self.base_url = base_url or default_base_url()
        self.credential = credential
        self.acting_member = acting_member
        self.organisation_id = organisation_id
        self.http = session or requests.Session()

    @classmethod
    def operator(cls, base_url: str | None = None) -> PartnerApi:
        return cls(secrets.load_text("operator"), base_url)

    # -- raw calls -------------------------------------------------------------------

    def call(self, method: str, path: str, json: Any = None, params: Any = None,
             headers: dict[str, str] | None = None, data: Any = None) -> Answer:
        sent = {"Content-Type": "application/json"}
        if self.credential:
            sent["Authorization"] = f"Bearer {self.credential}"
        if self.acting_member:
            sent["X-Acting-Member"] = self.acting_member
        sent.update(headers or {})
        response = self.http.request(method, self.base_url + path, json=json, params=params,
                                     headers=sent, data=data, timeout=60)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return Answer(response.status_code, body, dict(response.headers))

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, json=json, **kwargs)

    # -- acting parties ------------------------------------------------------------------

    def as_member(self, member_id: str) -> PartnerApi:
        """The same organisation, acting for one of its members (R8)."""
        return PartnerApi(self.credential, self.base_url, member_id, self.http,
                          self.organisation_id)

    def as_organisation(self) -> PartnerApi:
        return PartnerApi(self.credential, self.base_url, None, self.http, self.organisation_id)

    # -- what partners do ------------------------------------------------------------------

    def register_organisation(self, name: str | None = None, matching_scope: str = "own",
                              kind: str = "association") -> PartnerApi:
        """Operator: a new organisation; returns its client (with its first key)."""
        answer = self.post("/v1/operator/organisations", {
            "name": name or f"Organisation {next(_counter)}", "kind": kind,
            "contact_email": f"contact+{uuid.uuid4().hex[:8]}@example.org",
            "matching_scope": matching_scope,
        }).ok()
        return PartnerApi(answer["api_key"], self.base_url, session=requests.Session(),
                          organisation_id=answer["organisation_id"])

    def register_member(self, role: str, email: str | None = None, **profile: Any) -> str:
        body = member_profile(role, email, **profile)
        return self.post("/v1/members", body).ok()["member_id"]

    def accept_charter(self, member_id: str | None = None) -> Answer:
        """The acting member accepts every commitment of her role (R3)."""
        member_id = member_id or self.acting_member
        assert member_id, "acts for a member: use as_member(...)"
        charter = self.get("/v1/charter").ok()
        role = self.get(f"/v1/members/{member_id}").ok()["role"]
        return PartnerApi(self.credential, self.base_url, member_id, self.http).post(
            f"/v1/members/{member_id}/charter-acceptance",
            {"charter_version": charter["charter_version"],
             "commitments": charter["commitments"][role]})

    def ready_member(self, role: str, email: str | None = None, **profile: Any) -> str:
        """Registered and with the charter accepted: ready to be matched (R3)."""
        member_id = self.register_member(role, email, **profile)
        self.as_member(member_id).accept_charter().ok()
        return member_id


def member_profile(role: str, email: str | None = None, **overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "role": role,
        "display_name": f"Member {n}",
        "email": email or f"member-{uuid.uuid4().hex[:12]}@example.org",
        "languages": ["fr", "en"],
        "topics": ["software", "career-change"],
        "preferred_modality": "remote",
    }
    if role == "mentor":
        body["capacity"] = 2
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def default_base_url() -> str:
    return f"http://127.0.0.1:{stack_settings.load().gateway_port}"


