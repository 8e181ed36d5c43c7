"""moderation's read models, each rebuilt from events by the same ``apply``.

- ``CaseList``: every case with its state and counts, from moderation's own events
  (the list moderators filter; decisions always reload the case's stream).
- ``MemberDirectory``: who is who (organisation, role, identity fingerprint, which
  ``MemberExcluded`` must carry, R2), from identity's ``MemberRegistered``.
- ``EvidenceFile``: each report as filed (details sealed for moderators, R8),
  from sessions' ``CommercialSolicitationReported``.
- ``MatchingActivity`` and ``SessionsActivity``: the state events of pairs and
  sessions (no text: none of these events has any), so that a dispute can be seen
  as things stood at a moment (``domain.as_of``).
"""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from services.eventcore.events import DomainEvent
from services.eventcore.projections import EventProjection


class CaseList(EventProjection):
    tables = ("cases",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS cases (
            case_id          uuid PRIMARY KEY,
            member_id        uuid NOT NULL,
            organisation_id  uuid,
            sequence         integer,
            status           text NOT NULL,
            version          integer NOT NULL,
            reports          integer NOT NULL,
            votes            integer NOT NULL,
            opened_at        timestamptz NOT NULL,
            decided_at       timestamptz,
            reason           text
        );
        CREATE INDEX IF NOT EXISTS cases_by_status ON cases (status, opened_at);
        CREATE INDEX IF NOT EXISTS cases_by_member ON cases (member_id);
        """)

    def _step(self, conn: psycopg.Connection, e: DomainEvent, assignments: str = "",
              params: tuple = ()) -> None:
        extra = f", {assignments}" if assignments else ""
        conn.execute(f"UPDATE cases SET version = %s{extra} WHERE case_id = %s",
                     (e.stream_version, *params, e.data["case_id"]))

    def on_CaseOpened(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO cases (case_id, member_id, organisation_id, sequence, status, version, "
            "reports, votes, opened_at) VALUES (%s, %s, %s, %s, 'open', %s, 1, 0, %s) "
            "ON CONFLICT (case_id) DO NOTHING",
            (d["case_id"], d["reported_member_id"], e.partner_org, d.get("sequence"),
             e.stream_version, d["opened_at"]),
        )

    def on_ReportJoinedCase(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "reports = reports + 1")

    def on_ExclusionConfirmed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "votes = votes + 1")

    def on_CaseConfirmed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "status = 'confirmed', decided_at = %s, reason = %s",
                   (e.data["confirmed_at"], e.data["reason"]))

    def on_CaseDismissed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e, "status = 'dismissed', decided_at = %s, reason = %s",
                   (e.data["dismissed_at"], e.data["reason"]))

    def on_MemberExcluded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e)

    def on_ProfileFlagged(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        self._step(conn, e)


class MemberDirectory(EventProjection):
    tables = ("member_directory",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS member_directory (
            member_id        uuid PRIMARY KEY,
            organisation_id  uuid NOT NULL,
            role             text NOT NULL,
            fingerprint      text NOT NULL
        );
        """)

    def on_MemberRegistered(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO member_directory (member_id, organisation_id, role, fingerprint) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (member_id) DO NOTHING",
            (d["member_id"], d["organisation_id"], d["role"], d["identity_fingerprint"]),
        )


class EvidenceFile(EventProjection):
    tables = ("evidence",)

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute("""
        CREATE TABLE IF NOT EXISTS evidence (
            report_id           uuid PRIMARY KEY,
            reported_member_id  uuid NOT NULL,
            reporter_id         uuid NOT NULL,
            pair_id             uuid NOT NULL,
            session_ids         uuid[] NOT NULL,
            details             text NOT NULL,   -- sealed for moderators (R8)
            reported_at         timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS evidence_by_member ON evidence (reported_member_id);
        """)

    def on_CommercialSolicitationReported(self, conn: psycopg.Connection,
                                          e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO evidence (report_id, reported_member_id, reporter_id, pair_id, "
            "session_ids, details, reported_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (report_id) DO NOTHING",
            (d["report_id"], d["reported_member_id"], d["reporter_id"], d["pair_id"],
             d["session_ids"], d["details"], d["reported_at"]),
        )


#: What the as-of view folds (``domain.as_of``): states, never text.
MATCHING_STATES = ("MatchProposed", "MatchAccepted", "MatchDeclined", "MatchExpired",
                   "PairFormed", "PairEnded")
SESSIONS_STATES = ("MeetingPlanRecorded", "PairBecameOverdue", "PairCadenceRestored",
                   "SessionScheduled", "SessionHeld", "SessionConfirmed", "SessionCancelled")


class _Activity:
    tables: tuple[str, ...]
    kept: tuple[str, ...]
    table: str

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(f"""
        CREATE TABLE IF NOT EXISTS {self.table} (
            event_id     uuid PRIMARY KEY,
            pair_id      uuid NOT NULL,
            name         text NOT NULL,
            recorded_at  timestamptz NOT NULL,
            data         jsonb NOT NULL
        );
        CREATE INDEX IF NOT EXISTS {self.table}_by_pair ON {self.table} (pair_id, recorded_at);
        """)

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        if event.name not in self.kept or "pair_id" not in event.data:
            return
        conn.execute(
            f"INSERT INTO {self.table} (event_id, pair_id, name, recorded_at, data) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
            (event.event_id, event.data["pair_id"], event.name, event.time, Jsonb(event.data)),
        )


class MatchingActivity(_Activity):
    tables = ("matching_activity", "pair_members")
    kept = MATCHING_STATES
    table = "matching_activity"

    def create(self, conn: psycopg.Connection) -> None:
        super().create(conn)
        conn.execute("""
        CREATE TABLE IF NOT EXISTS pair_members (
            pair_id    uuid NOT NULL,
            member_id  uuid NOT NULL,
            PRIMARY KEY (member_id, pair_id)
        );
        """)

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        super().apply(conn, event)
        if event.name in ("MatchProposed", "PairFormed"):
            for member in (event.data["mentor_id"], event.data["mentee_id"]):
                conn.execute("INSERT INTO pair_members (pair_id, member_id) VALUES (%s, %s) "
                             "ON CONFLICT DO NOTHING", (event.data["pair_id"], member))


class SessionsActivity(_Activity):
    tables = ("sessions_activity",)
    kept = SESSIONS_STATES
    table = "sessions_activity"


#: What ``python -m services.eventcore.rebuild moderation`` rebuilds, and from where.
OWN = (CaseList(),)
FOREIGN = {
    "identity": (MemberDirectory(),),
    "sessions": (EvidenceFile(), SessionsActivity()),
    "matching": (MatchingActivity(),),
}
