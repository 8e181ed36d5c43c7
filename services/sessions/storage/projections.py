"""sessions' read models, each rebuilt from events by the same ``apply``.

- ``PairsReadModel``: pairs, their meeting plans, sessions, cadence state,
  objectives, action items, notes, feedback and reports, from sessions' own
  events (applied in the command's own transaction, so a command's effect is
  readable as soon as it returns).
- ``MemberDirectory``: who each member is for this context (organisation and
  role), from identity's ``MemberRegistered`` (consumed from Kafka): a pair
  formed as ``PairFormed`` v1 names its two members but not their
  organisations, which ``PairOpened`` records.

Texts stay sealed here as in the events (R8): the read model is no weaker than
the log. Only the service opens them, for a member of the pair acting as
herself. Report details are not kept at all: they are sealed for moderators
and nothing in this context could ever read them (R8).
"""

from __future__ import annotations

import psycopg

from services.eventcore.events import DomainEvent
from services.eventcore.projections import EventProjection

PAIRS_DDL = """
CREATE TABLE IF NOT EXISTS pairs (
    pair_id                 uuid PRIMARY KEY,
    mentor_id               uuid NOT NULL,
    mentee_id               uuid NOT NULL,
    mentor_organisation_id  uuid NOT NULL,
    mentee_organisation_id  uuid NOT NULL,
    formed_at               timestamptz NOT NULL,
    status                  text NOT NULL DEFAULT 'open',   -- open | closed
    close_cause             text,
    closed_at               timestamptz,
    interval_days           integer NOT NULL DEFAULT 45,    -- R5: the charter's longest
    last_session_at         timestamptz,
    due_on                  date NOT NULL,                  -- R7: met by this day
    overdue                 boolean NOT NULL DEFAULT false,
    overdue_since           timestamptz,
    version                 integer NOT NULL
);
CREATE INDEX IF NOT EXISTS pairs_by_mentor ON pairs (mentor_id);
CREATE INDEX IF NOT EXISTS pairs_by_mentee ON pairs (mentee_id);
CREATE INDEX IF NOT EXISTS pairs_by_mentor_organisation ON pairs (mentor_organisation_id);
CREATE INDEX IF NOT EXISTS pairs_by_mentee_organisation ON pairs (mentee_organisation_id);
-- The cadence timer's question (R7): which open, on-time pairs are past their due day?
CREATE INDEX IF NOT EXISTS pairs_due ON pairs (due_on)
    WHERE status = 'open' AND NOT overdue;
CREATE TABLE IF NOT EXISTS meeting_plans (
    pair_id             uuid NOT NULL,
    revision            integer NOT NULL,
    interval_days       integer NOT NULL,
    preferred_modality  text NOT NULL,
    first_meeting_on    date NOT NULL,
    next_dates          date[] NOT NULL,
    recorded_by         uuid NOT NULL,
    recorded_at         timestamptz NOT NULL,
    PRIMARY KEY (pair_id, revision)
);
CREATE TABLE IF NOT EXISTS pair_sessions (
    session_id        uuid PRIMARY KEY,
    pair_id           uuid NOT NULL,
    state             text NOT NULL,                    -- scheduled | held | cancelled
    modality          text NOT NULL,
    starts_at         timestamptz,
    planned_minutes   integer,
    scheduled_by      uuid,
    started_at        timestamptz,
    duration_minutes  integer,
    held_by           uuid,
    confirmed_by      uuid,
    confirmed_at      timestamptz,
    cancelled_by      uuid,
    cancel_reason     text,
    cancelled_at      timestamptz
);
CREATE INDEX IF NOT EXISTS pair_sessions_by_pair ON pair_sessions (pair_id);
CREATE TABLE IF NOT EXISTS objectives (
    objective_id  uuid PRIMARY KEY,
    pair_id       uuid NOT NULL,
    mentee_id     uuid NOT NULL,
    kind          text NOT NULL,
    revision      integer NOT NULL,
    achieved_at   timestamptz,
    stated_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS objectives_by_pair ON objectives (pair_id);
-- R4: every wording of an objective, the statement being revision 1.
CREATE TABLE IF NOT EXISTS objective_revisions (
    objective_id  uuid NOT NULL,
    revision      integer NOT NULL,
    text          text NOT NULL,                -- sealed (pair)
    written_at    timestamptz NOT NULL,
    PRIMARY KEY (objective_id, revision)
);
CREATE TABLE IF NOT EXISTS objective_comments (
    comment_id    uuid PRIMARY KEY,
    objective_id  uuid NOT NULL,
    pair_id       uuid NOT NULL,
    author_id     uuid NOT NULL,
    text          text NOT NULL,                -- sealed (pair)
    commented_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS objective_comments_by_pair ON objective_comments (pair_id);
CREATE TABLE IF NOT EXISTS action_items (
    action_item_id  uuid PRIMARY KEY,
    objective_id    uuid NOT NULL,
    pair_id         uuid NOT NULL,
    owner_id        uuid NOT NULL,
    added_by        uuid NOT NULL,
    text            text NOT NULL,              -- sealed (pair)
    due_on          date,
    state           text NOT NULL,
    added_at        timestamptz NOT NULL,
    changed_at      timestamptz
);
CREATE INDEX IF NOT EXISTS action_items_by_pair ON action_items (pair_id);
CREATE TABLE IF NOT EXISTS notes (
    note_id     uuid PRIMARY KEY,
    pair_id     uuid NOT NULL,
    session_id  uuid,
    author_id   uuid NOT NULL,
    text        text NOT NULL,                  -- sealed (pair)
    added_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_pair ON notes (pair_id);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id     uuid PRIMARY KEY,
    pair_id         uuid NOT NULL,
    session_id      uuid NOT NULL,
    from_member_id  uuid NOT NULL,
    to_member_id    uuid NOT NULL,
    text            text NOT NULL,              -- sealed (pair)
    given_at        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_pair ON feedback (pair_id);
-- R1/R2: that a report was filed, never what it says (sealed for moderators only).
CREATE TABLE IF NOT EXISTS solicitation_reports (
    report_id           uuid PRIMARY KEY,
    pair_id             uuid NOT NULL,
    reporter_id         uuid NOT NULL,
    reported_member_id  uuid NOT NULL,
    sessions_named      integer NOT NULL,
    reported_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS solicitation_reports_by_pair ON solicitation_reports (pair_id);
"""

DIRECTORY_DDL = """
CREATE TABLE IF NOT EXISTS members (
    member_id        uuid PRIMARY KEY,
    organisation_id  uuid NOT NULL,
    role             text NOT NULL,
    accepted_charter integer           -- R3: the last charter version she accepted
);
ALTER TABLE members ADD COLUMN IF NOT EXISTS accepted_charter integer;
CREATE TABLE IF NOT EXISTS charter_versions (
    charter_version  integer PRIMARY KEY  -- R3: every version identity published
);
-- Not a projection: matching's PairFormed events without organisations (v1) whose
-- members identity's events have not brought yet (two topics, no order between
-- them). Each waits here until both members are known, then opens its pair; kept
-- when the directory is rebuilt.
CREATE TABLE IF NOT EXISTS pairs_awaiting_members (
    pair_id      uuid PRIMARY KEY,
    mentor_id    uuid NOT NULL,
    mentee_id    uuid NOT NULL,
    formed_at    timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
"""

#: R7: a pair is due ``interval_days`` whole UTC days after its last held session,
#: or after its formation while it has held none (``domain.cadence.due_on``).
_DUE_ON = ("UPDATE pairs SET due_on = (coalesce(last_session_at, formed_at) AT TIME ZONE 'UTC')"
           "::date + interval_days WHERE pair_id = %s")


class PairsReadModel(EventProjection):
    """Every statement is scoped by the event's pair: an id is only ever its own
    pair's, whatever another pair's event names."""

    tables = ("pairs", "meeting_plans", "pair_sessions", "objectives", "objective_revisions",
              "objective_comments", "action_items", "notes", "feedback",
              "solicitation_reports")

    #: Events whose handler writes the pair's version in a statement of its own:
    #: ``apply`` does not write it again (SessionHeld's is on every command's path).
    VERSIONED_BY_HANDLER = frozenset({"PairOpened", "SessionHeld"})

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(PAIRS_DDL)

    def apply(self, conn: psycopg.Connection, event: DomainEvent) -> None:
        super().apply(conn, event)
        if event.name not in self.VERSIONED_BY_HANDLER:
            conn.execute("UPDATE pairs SET version = %s WHERE pair_id = %s",
                         (event.stream_version, event.stream_id))

    # -- the pair --------------------------------------------------------------------------

    def on_PairOpened(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO pairs (pair_id, mentor_id, mentee_id, mentor_organisation_id, "
            "mentee_organisation_id, formed_at, due_on, version) "
            "VALUES (%s, %s, %s, %s, %s, %s, '-infinity', %s) ON CONFLICT DO NOTHING",
            (d["pair_id"], d["mentor_id"], d["mentee_id"], d["mentor_organisation_id"],
             d["mentee_organisation_id"], d["formed_at"], e.stream_version),
        )
        conn.execute(_DUE_ON, (d["pair_id"],))

    def on_PairClosed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        # A closed pair no longer meets: it is never overdue (domain.cadence.check).
        conn.execute("UPDATE pairs SET status = 'closed', close_cause = %s, closed_at = %s, "
                     "overdue = false, overdue_since = NULL WHERE pair_id = %s",
                     (e.data["cause"], e.data["closed_at"], e.data["pair_id"]))

    # -- R5: the meeting plan, history kept ------------------------------------------------

    def on_MeetingPlanRecorded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO meeting_plans (pair_id, revision, interval_days, preferred_modality, "
            "first_meeting_on, next_dates, recorded_by, recorded_at) "
            "SELECT %s, coalesce(max(revision), 0) + 1, %s, %s, %s, %s::date[], %s, %s "
            "FROM meeting_plans WHERE pair_id = %s",
            (d["pair_id"], d["interval_days"], d["preferred_modality"], d["first_meeting_on"],
             d["next_dates"], d["recorded_by"], d["recorded_at"], d["pair_id"]),
        )
        conn.execute("UPDATE pairs SET interval_days = %s WHERE pair_id = %s",
                     (d["interval_days"], d["pair_id"]))
        conn.execute(_DUE_ON, (d["pair_id"],))

    # -- R6, R9: sessions ------------------------------------------------------------------

    def on_SessionScheduled(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO pair_sessions (session_id, pair_id, state, modality, starts_at, "
            "planned_minutes, scheduled_by) VALUES (%s, %s, 'scheduled', %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (d["session_id"], d["pair_id"], d["modality"], d["starts_at"],
             d["planned_minutes"], d["scheduled_by"]),
        )

    def on_SessionHeld(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        # One statement for the session and its pair: this runs in every SessionHeld
        # command's transaction, and each statement is a round trip (about 0.13 ms
        # of CPU between this process and PostgreSQL). The WITH part runs once
        # whether or not the UPDATE reads it. The UPDATE also sets the pair's version
        # (VERSIONED_BY_HANDLER): a SessionHeld is an event of its pair's own stream.
        conn.execute(
            "WITH held AS ("
            " INSERT INTO pair_sessions (session_id, pair_id, state, modality, started_at, "
            " duration_minutes, held_by) VALUES (%(session)s, %(pair)s, 'held', %(modality)s, "
            " %(at)s, %(minutes)s, %(by)s) "
            " ON CONFLICT (session_id) DO UPDATE SET state = 'held', "
            " modality = EXCLUDED.modality, started_at = EXCLUDED.started_at, "
            " duration_minutes = EXCLUDED.duration_minutes, held_by = EXCLUDED.held_by "
            # A session is its pair's: never let another pair's event touch it.
            " WHERE pair_sessions.pair_id = EXCLUDED.pair_id) "
            # R7 counts from the latest session by when it took place (one recorded
            # late does not move the pair's cadence back).
            "UPDATE pairs SET last_session_at = greatest(last_session_at, %(at)s::timestamptz), "
            "due_on = (coalesce(greatest(last_session_at, %(at)s::timestamptz), formed_at) "
            "AT TIME ZONE 'UTC')::date + interval_days, version = %(version)s "
            "WHERE pair_id = %(pair)s",
            {"session": d["session_id"], "pair": d["pair_id"], "modality": d["modality"],
             "at": d["started_at"], "minutes": d["duration_minutes"], "by": d["held_by"],
             "version": e.stream_version})

    def on_SessionConfirmed(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE pair_sessions SET confirmed_by = %s, confirmed_at = %s "
                     "WHERE session_id = %s AND pair_id = %s",
                     (e.data["confirmed_by"], e.data["confirmed_at"], e.data["session_id"],
                      e.data["pair_id"]))

    def on_SessionCancelled(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE pair_sessions SET state = 'cancelled', cancelled_by = %s, "
                     "cancel_reason = %s, cancelled_at = %s WHERE session_id = %s "
                     "AND pair_id = %s",
                     (e.data.get("cancelled_by"), e.data["reason"], e.data["cancelled_at"],
                      e.data["session_id"], e.data["pair_id"]))

    # -- R7: cadence -----------------------------------------------------------------------

    def on_PairBecameOverdue(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE pairs SET overdue = true, overdue_since = %s WHERE pair_id = %s",
                     (e.data["detected_at"], e.data["pair_id"]))

    def on_PairCadenceRestored(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE pairs SET overdue = false, overdue_since = NULL WHERE pair_id = %s",
                     (e.data["pair_id"],))

    # -- R4, R10: objectives and action items ----------------------------------------------

    def on_ObjectiveStated(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO objectives (objective_id, pair_id, mentee_id, kind, revision, "
            "stated_at) VALUES (%s, %s, %s, %s, 1, %s) ON CONFLICT DO NOTHING",
            (d["objective_id"], d["pair_id"], d["mentee_id"], d["kind"], d["stated_at"]),
        )
        conn.execute(
            "INSERT INTO objective_revisions (objective_id, revision, text, written_at) "
            "VALUES (%s, 1, %s, %s) ON CONFLICT DO NOTHING",
            (d["objective_id"], d["text"], d["stated_at"]),
        )

    def on_ObjectiveRevised(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute("UPDATE objectives SET revision = %s WHERE objective_id = %s "
                     "AND pair_id = %s", (d["revision"], d["objective_id"], d["pair_id"]))
        conn.execute(
            "INSERT INTO objective_revisions (objective_id, revision, text, written_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["objective_id"], d["revision"], d["text"], d["revised_at"]),
        )

    def on_ObjectiveAchieved(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE objectives SET achieved_at = %s WHERE objective_id = %s "
                     "AND pair_id = %s",
                     (e.data["achieved_at"], e.data["objective_id"], e.data["pair_id"]))

    def on_ObjectiveCommented(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO objective_comments (comment_id, objective_id, pair_id, author_id, "
            "text, commented_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["comment_id"], d["objective_id"], d["pair_id"], d["author_id"], d["text"],
             d["commented_at"]),
        )

    def on_ActionItemAdded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO action_items (action_item_id, objective_id, pair_id, owner_id, "
            "added_by, text, due_on, state, added_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s::date, 'open', %s) ON CONFLICT DO NOTHING",
            (d["action_item_id"], d["objective_id"], d["pair_id"], d["owner_id"],
             d["added_by"], d["text"], d.get("due_on"), d["added_at"]),
        )

    def on_ActionItemStateChanged(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("UPDATE action_items SET state = %s, changed_at = %s "
                     "WHERE action_item_id = %s AND pair_id = %s",
                     (e.data["state"], e.data["changed_at"], e.data["action_item_id"],
                      e.data["pair_id"]))

    # -- R8, R11: notes and feedback -------------------------------------------------------

    def on_NoteAdded(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO notes (note_id, pair_id, session_id, author_id, text, added_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (d["note_id"], d["pair_id"], d.get("session_id"), d["author_id"], d["text"],
             d["added_at"]),
        )

    def on_FeedbackGiven(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO feedback (feedback_id, pair_id, session_id, from_member_id, "
            "to_member_id, text, given_at) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (d["feedback_id"], d["pair_id"], d["session_id"], d["from_member_id"],
             d["to_member_id"], d["text"], d["given_at"]),
        )

    # -- R1/R2: reports --------------------------------------------------------------------

    def on_CommercialSolicitationReported(self, conn: psycopg.Connection,
                                          e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO solicitation_reports (report_id, pair_id, reporter_id, "
            "reported_member_id, sessions_named, reported_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (d["report_id"], d["pair_id"], d["reporter_id"], d["reported_member_id"],
             len(d["session_ids"]), d["reported_at"]),
        )


class MemberDirectory(EventProjection):
    """Each member's organisation, role and accepted charter version, and the charter
    versions published, from identity (v1 arrives upcast to v2)."""

    tables = ("members", "charter_versions")

    def create(self, conn: psycopg.Connection) -> None:
        conn.execute(DIRECTORY_DDL)

    def on_MemberRegistered(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        d = e.data
        conn.execute(
            "INSERT INTO members (member_id, organisation_id, role) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (d["member_id"], d["organisation_id"], d["role"]),
        )

    def on_CharterPublished(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        conn.execute("INSERT INTO charter_versions (charter_version) VALUES (%s) "
                     "ON CONFLICT DO NOTHING", (e.data["charter_version"],))

    def on_CharterAccepted(self, conn: psycopg.Connection, e: DomainEvent) -> None:
        # Keyed by member on one partition, by charter on another: an acceptance may
        # arrive before the publication it accepts, and keeps the highest version.
        conn.execute("UPDATE members SET accepted_charter = greatest(accepted_charter, %s) "
                     "WHERE member_id = %s", (e.data["charter_version"], e.data["member_id"]))


#: What ``python -m services.eventcore.rebuild sessions`` rebuilds, and from where.
OWN = (PairsReadModel(),)
FOREIGN = {"identity": (MemberDirectory(),)}
