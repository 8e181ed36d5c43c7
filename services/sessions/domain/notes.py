"""R8, R11: the pair's notes and the feedback its members give each other.

Notes (R8) are written by either member, about a session or the pair in
general, sealed under the author's key for the pair: the two members read them,
nobody else (partner admins and ops see counts). Feedback (R11) follows a held session:
one member's word for the other, at most once per member and session, sealed
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.servicekit.errors import Conflict, RuleViolation
from services.sessions.domain.checks import aware, canonical_id, iso
from services.sessions.domain.confidentiality import sealed_for_pair
from services.sessions.domain.session import SessionsMixin, SessionState


@dataclass(frozen=True)
class Note:
    note_id: str
    author_id: str
    session_id: str | None


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    session_id: str
    from_member_id: str
    to_member_id: str


class NotesMixin(SessionsMixin):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.notes: dict[str, Note] = {}
        self.feedback: dict[str, Feedback] = {}

    def add_note(self, note_id: str, by: str, text: str, now: datetime,
                 session_id: str | None = None) -> None:
        """R8: either member adds a note, sealed for the pair, about one of the
        pair's sessions (any state: preparing one counts) or none."""
        author = self._acting(by)
        note_id = canonical_id(note_id, "note_id")
        if note_id in self.notes:
            raise Conflict("A note with this id already exists.", field="note_id")
        session = None if session_id is None else self.session(session_id).session_id
        self.record("NoteAdded", {
            "pair_id": self.id, "note_id": note_id, "session_id": session,
            "author_id": author, "text": sealed_for_pair(text, self.id, author),
            "added_at": iso(aware(now, "now")),
        })

    def give_feedback(self, feedback_id: str, session_id: str, by: str, text: str,
                      now: datetime) -> None:
        """R11: after a held session, a member's feedback for the other member,
        once per member and session."""
        author = self._acting(by)
        feedback_id = canonical_id(feedback_id, "feedback_id")
        if feedback_id in self.feedback:
            raise Conflict("Feedback with this id already exists.", field="feedback_id")
        session = self.session(session_id)
        if session.state is not SessionState.HELD:
            raise RuleViolation("R11", f"Feedback follows a held session; this one is "
                                f"{session.state} (R11).", field="session_id")
        if any(f.session_id == session.session_id and f.from_member_id == author
               for f in self.feedback.values()):
            raise Conflict("You already gave feedback for this session.", field="session_id")
        self.record("FeedbackGiven", {
            "pair_id": self.id, "session_id": session.session_id, "feedback_id": feedback_id,
            "from_member_id": author, "to_member_id": self.other(author),
            "text": sealed_for_pair(text, self.id, author), "given_at": iso(aware(now, "now")),
        })

    # -- apply -------------------------------------------------------------------------

    def when_note_added(self, data: dict[str, Any]) -> None:
        self.notes[data["note_id"]] = Note(data["note_id"], data["author_id"],
                                           data.get("session_id"))

    def when_feedback_given(self, data: dict[str, Any]) -> None:
        self.feedback[data["feedback_id"]] = Feedback(
            data["feedback_id"], data["session_id"], data["from_member_id"],
            data["to_member_id"],
        )
