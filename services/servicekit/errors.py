"""Errors: what the domain refuses, and the one shape every service returns for it.

The domain raises pure errors (no nameko, no HTTP): ``RuleViolation`` when a
charter rule forbids a command (its ``rule`` is the id in CHARTER-RULES.md,
"R5"), ``Invalid`` for a value that cannot be, ``NotFound``, ``Conflict``,
``Forbidden``. ``rpc.command`` turns each into a ``ServiceError``, which
crosses RPC intact (nameko rebuilds it on the caller's side from its one
argument) and which the HTTP edges render as problem+json with its status.

A ``NotFound`` is also what a caller gets for what exists but is not hers to
see (another organisation's member, a pair she is not in): the two must be
indistinguishable, or ids would leak across tenants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nameko.exceptions import deserialize_to_instance

from contracts.errors import flatten


class DomainError(Exception):
    """Base of what a command may be refused for; ``code`` names the kind."""

    code = "domain_error"
    status = 422

    def __init__(
        self, detail: str, field: str | None = None, rule: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.rule = rule


class RuleViolation(DomainError):
    """A charter rule forbids it (``rule`` is "R1".."R11")."""

    code = "rule_violated"
    status = 422

    def __init__(self, rule: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field=field, rule=rule)


class Invalid(DomainError):
    """A value the domain cannot accept, beyond its schema."""

    code = "validation_failed"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The state moved on: already decided, already exists, taken by someone else."""

    code = "conflict"
    status = 409


class Forbidden(DomainError):
    """The caller is known but may not do this (the acting party is wrong)."""

    code = "forbidden"
    status = 403


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401


@deserialize_to_instance
class ServiceError(Exception):
    """The error a service returns across RPC, rebuilt as itself by the caller.

    Its single argument is a plain dict (nameko serialises ``args``)::

        {"status": 422, "code": "validation_failed", "detail": "...",
         "errors": [{"field": "duration_minutes", "message": "..."}], "rule": "R6"}
    """

    def __init__(self, body: Mapping[str, Any]) -> None:
        super().__init__(dict(body))
        self.body: dict[str, Any] = dict(body)

    @property
    def status(self) -> int:
        return int(self.body.get("status", 500))

    @property
    def code(self) -> str:
        return str(self.body.get("code", "error"))

    @property
    def detail(self) -> str:
        return str(self.body.get("detail", ""))

    @property
    def errors(self) -> list[dict[str, str]]:
        return list(self.body.get("errors", []))

    @property
    def rule(self) -> str | None:
        return self.body.get("rule")

    @property
    def retry_after(self) -> int | None:
        value = self.body.get("retry_after")
        return int(value) if value is not None else None

    def __str__(self) -> str:
        fields = ", ".join(e["field"] for e in self.errors)
        return f"{self.code} ({self.status}): {self.detail}" + (f" [{fields}]" if fields else "")

    @classmethod
    def make(
        cls, status: int, code: str, detail: str,
        errors: Sequence[Mapping[str, str]] = (), rule: str | None = None,
        retry_after: int | None = None,
    ) -> ServiceError:
        """``retry_after``: seconds after which the same request may succeed (the
        edge sends it as ``Retry-After``)."""
        body: dict[str, Any] = {"status": status, "code": code, "detail": detail,
                                "errors": [dict(e) for e in errors]}
        if rule:
            body["rule"] = rule
        if retry_after is not None:
            body["retry_after"] = retry_after
        return cls(body)

    @classmethod
    def from_domain(cls, error: DomainError) -> ServiceError:
        errors = [{"field": error.field, "message": error.detail}] if error.field else []
        return cls.make(error.status, error.code, error.detail, errors, error.rule)

    @classmethod
    def invalid(cls, messages: Mapping[str, Any], where: str = "",
                rule: str | None = None) -> ServiceError:
        """From marshmallow's nested messages: one entry per field, dotted paths;
        ``rule``: the charter rule every refused field stands for, if one does."""
        errors = [{"field": f"{where}{path}", "message": " ".join(texts)}
                  for path, texts in sorted(flatten(messages).items())]
        named = ", ".join(e["field"] for e in errors) or "the request"
        return cls.make(422, "validation_failed", f"Invalid {named}.", errors, rule)

    @classmethod
    def not_found(cls, what: str) -> ServiceError:
        return cls.make(404, "not_found", f"No such {what}.")

