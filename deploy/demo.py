"""``make demo``: the charter's first law, end to end, on the running stack.

Two partner organisations; a mentor and a mentee who accept the charter (R3); a
match (suggestion, request, acceptance); a meeting plan and sessions (R5, R6);
the mentee reports her mentor for selling her coaching (R1); two moderators
confirm (four eyes, R2); and every consequence, each read back through the
public APIs: identity refuses the mentor and bars her e-mail everywhere, matching
ends the pair and puts the mentee back in the pool, sessions cancels what was
scheduled; the audit, the hash chain and the view of the pair as it stood before.

The end-to-end test (``tests/e2e/test_story.py``) plays the same ``Story`` and
asserts every observation; here each step is printed with where to look.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.gateway.client import PartnerApi, default_base_url
from services.moderation.client import enrol, moderation_url

DETAILS = "At our second session she offered me her paid coaching package, 400 euros."


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@dataclass
class Story:
    """Each step acts through the public APIs and records what it observed."""

    say: Callable[[str], None] = print
    seen: dict[str, Any] = field(default_factory=dict)
    #: Called just before the report is filed and just after (the fault test kills the
    #: moderation consumer before, and starts it again after: the report waits on Kafka).
    before_report_filed: Callable[[], None] | None = None
    after_report_filed: Callable[[], None] | None = None
    #: Called once the case is open, before any decision (the fault test kills the
    #: consumer there too: whatever it had not committed is delivered again).
    after_case_opened: Callable[[], None] | None = None

    def step(self, title: str, where: str) -> None:
        self.say(f"\n== {title}\n   (where to look: {where})")

    def note(self, key: str, value: Any, text: str) -> Any:
        self.seen[key] = value
        self.say(f"   {text}")
        return value

    # -- the story -----------------------------------------------------------------

    def play(self) -> dict[str, Any]:
        self.organisations()
        self.members()
        self.match()
        self.sessions()
        self.report()
        self.decision()
        self.consequences()
        self.evidence_of_it()
        return self.seen

    def organisations(self) -> None:
        self.step("The operator registers two partner organisations, open to each other",
                  f"POST {default_base_url()}/v1/operator/organisations")
        operator = PartnerApi.operator()
        tag = uuid.uuid4().hex[:6]
        self.company = operator.register_organisation(f"Tech company {tag}", "open", "company")
        self.association = operator.register_organisation(f"Association {tag}", "open")
        self.note("organisations", (self.company.organisation_id,
                                    self.association.organisation_id),
                  f"company {self.company.organisation_id}, "
                  f"association {self.association.organisation_id}")

    def members(self) -> None:
        self.step("A mentor (company) and a mentee (association) register and accept the "
                  "charter, every commitment of their role (R3)",
                  "POST /v1/members, GET /v1/charter, POST /v1/members/{id}/charter-acceptance")
        tag = uuid.uuid4().hex[:8]
        self.mentor_email = f"ada.{tag}@example.org"
        self.mentor = self.company.ready_member(
            "mentor", email=self.mentor_email, display_name="Ada", capacity=2,
            topics=["software", "career-change"])
        self.mentee = self.association.ready_member(
            "mentee", display_name="Zoé", topics=["career-change"],
            expectations="Move from teaching to software")
        self.note("mentor", self.mentor, f"mentor Ada {self.mentor}")
        self.note("mentee", self.mentee, f"mentee Zoé {self.mentee}")

    def match(self) -> None:
        self.step("Zoé gets her suggestions, asks Ada, Ada accepts: the pair is formed",
                  "GET /v1/matching/mentees/{id}/suggestions, POST .../requests, "
                  "POST /v1/matching/pairs/{id}/acceptance")
        zoe = self.association.as_member(self.mentee)
        suggestions = wait_for(lambda: self._suggests(zoe, self.mentor),
                               "Ada among Zoé's suggestions")
        ada_suggested = next(s for s in suggestions if s["mentor_id"] == self.mentor)
        self.note("suggested_score", ada_suggested["score"],
                  f"Ada is suggested with score {ada_suggested['score']:.3f} "
                  f"({len(suggestions)} suggestion(s))")
        proposal = zoe.post(f"/v1/matching/mentees/{self.mentee}/requests",
                            {"mentor_id": self.mentor}).ok()
        self.pair = proposal["pair_id"]
        ada = self.company.as_member(self.mentor)
        formed = ada.post(f"/v1/matching/pairs/{self.pair}/acceptance").ok()
        self.note("pair_state", formed["state"], f"pair {self.pair}: {formed['state']}")

    def _suggests(self, zoe: PartnerApi, mentor: str) -> list[dict[str, Any]] | None:
        answer = zoe.get(f"/v1/matching/mentees/{self.mentee}/suggestions")
        if answer.status != 200:
            return None
        items = answer.body["suggestions"]
        return items if any(s["mentor_id"] == mentor for s in items) else None

    def sessions(self) -> None:
        self.step("They fix their meeting plan (R5), hold a session (R6), schedule the next",
                  "PUT /v1/pairs/{id}/meeting-plan, POST .../held-sessions, POST .../sessions")
        zoe = self.association.as_member(self.mentee)
        wait_for(lambda: zoe.get(f"/v1/pairs/{self.pair}").status == 200,
                 "the sessions service to open the pair")
        # The pair was formed a moment ago: their first meeting is today.
        today = datetime.now(UTC)
        zoe.call("PUT", f"/v1/pairs/{self.pair}/meeting-plan", json={
            "interval_days": 30, "preferred_modality": "remote",
            "first_meeting_on": today.date().isoformat()}).ok()
        self.held = zoe.post(f"/v1/pairs/{self.pair}/held-sessions", {
            "started_at": today.isoformat(), "duration_minutes": 90,
            "modality": "remote"}).ok()["id"]
        self.scheduled = self.company.as_member(self.mentor).post(
            f"/v1/pairs/{self.pair}/sessions", {
                "starts_at": (today + timedelta(days=28)).isoformat(), "planned_minutes": 60,
                "modality": "remote"}).ok()["id"]
        self.before_report = datetime.now(UTC)
        self.note("sessions", (self.held, self.scheduled),
                  f"session {self.held} held, session {self.scheduled} scheduled in 28 days")

    def report(self) -> None:
        self.step("Zoé reports Ada for commercial solicitation (R1); the details are sealed "
                  "for moderators only (R8)", "POST /v1/pairs/{id}/reports")
        zoe = self.association.as_member(self.mentee)
        if self.before_report_filed is not None:
            self.before_report_filed()
        report = zoe.post(f"/v1/pairs/{self.pair}/reports",
                          {"details": DETAILS, "session_ids": [self.held]}).ok()
        self.note("report", report["id"], f"report {report['id']} filed")
        if self.after_report_filed is not None:
            self.after_report_filed()
        self.first = enrol("Claire (moderator)")
        self.second = enrol("Inès (moderator)")
        case = wait_for(lambda: self._open_case(), "moderation to open the case")
        self.case = case["case_id"]
        self.note("case", case, f"case {self.case} opened: {case['reports']} report(s)")
        if self.after_case_opened is not None:
            self.after_case_opened()

    def _open_case(self) -> dict[str, Any] | None:
        items = self.first.get("/v1/cases", params={"member_id": self.mentor}).ok()["items"]
        return items[0] if items else None

    def decision(self) -> None:
        self.step("Two moderators read the evidence and confirm: four eyes (R2)",
                  f"{moderation_url()}/v1/cases/{{id}} and .../confirmations")
        case = self.first.get(f"/v1/cases/{self.case}").ok()
        self.note("evidence", [e["details"] for e in case["evidence"]],
                  f"evidence read by moderators: {case['evidence'][0]['details']!r}")
        cases = self.first.get("/v1/cases", params={"member_id": self.mentor}).ok()["items"]
        self.note("cases_before_decision", cases, f"{len(cases)} case(s) for Ada")
        vote = self.first.post(f"/v1/cases/{self.case}/confirmations", {
            "reason": "services_offered", "rationale": "Paid coaching offered in session",
            "seen_version": case["version"]}).ok()
        self.note("first_vote", vote, f"Claire votes to confirm: {vote['votes']}/"
                  f"{vote['quorum']}, excluded: {vote['excluded']}")
        final = self.second.post(f"/v1/cases/{self.case}/confirmations", {
            "reason": "services_offered", "rationale": "Confirmed: a paid offer",
            "seen_version": vote["version"]}).ok()
        self.note("decision", final, f"Inès concurs: case {final['status']}, "
                  f"excluded: {final['excluded']}")

    def consequences(self) -> None:
        self.step("Every service draws the consequences, through Kafka",
                  "identity, matching and sessions logs in .stack/logs/")
        ada = self.company.as_member(self.mentor)
        refused = wait_for(lambda: (lambda a: a if a.status == 403 else None)(
            ada.get(f"/v1/members/{self.mentor}")), "identity to refuse Ada")
        self.note("identity_refuses", (refused.status, refused.body.get("rule")),
                  f"identity refuses Ada: {refused.status}, rule {refused.body.get('rule')}")
        flag = self.company.get(f"/v1/members/{self.mentor}").ok()["flag"]
        self.note("flag", flag, f"her organisation sees the flag: {flag}")

        pair = wait_for(lambda: (lambda p: p if p["state"] == "ended" else None)(
            self.association.get(f"/v1/matching/pairs/{self.pair}").ok()),
            "matching to end the pair")
        self.note("pair_ended", pair["close_reason"],
                  f"matching ended the pair: {pair['close_reason']}")
        zoe = self.association.as_member(self.mentee)
        eligibility = self.association.get(
            f"/v1/matching/members/{self.mentee}/eligibility").ok()
        again = zoe.get(f"/v1/matching/mentees/{self.mentee}/suggestions").ok()
        self.note("mentee_back_in_pool", (eligibility, [s["mentor_id"] for s in
                                                        again["suggestions"]]),
                  f"Zoé is back in the pool (eligible: {eligibility['eligible']}, open pairs: "
                  f"{eligibility['open_pairs']}); Ada is no longer suggested")

        closed = wait_for(lambda: (lambda p: p if p["status"] != "open" else None)(
            zoe.get(f"/v1/pairs/{self.pair}").ok()), "sessions to close the pair")
        sessions = {s["session_id"]: s for s in closed.get("sessions", [])}
        scheduled = sessions.get(self.scheduled, {})
        self.note("future_session", (scheduled.get("state"), scheduled.get("cancel_reason")),
                  f"sessions closed the pair ({closed['close_cause']}); the scheduled session "
                  f"is {scheduled.get('state')} ({scheduled.get('cancel_reason')})")
        self.note("held_session", sessions.get(self.held, {}).get("state"),
                  "the held session stays held: history is never rewritten")

        again = self.association.post("/v1/members", {
            "role": "mentor", "display_name": "Ada", "email": self.mentor_email.upper(),
            "languages": ["fr"], "preferred_modality": "remote", "capacity": 1})
        self.note("re_registration", (again.status, again.body.get("rule")),
                  f"her e-mail registering again elsewhere: {again.status}, rule "
                  f"{again.body.get('rule')}")

    def evidence_of_it(self) -> None:
        self.step("The proof: the audit trail, the hash chain, the pair as it stood before",
                  "GET .../cases/{id}/audit, /v1/audit/chain, .../cases/{id}/as-of?at=...")
        audit = self.first.get(f"/v1/cases/{self.case}/audit").ok()["entries"]
        self.note("audit", [e["action"] for e in audit],
                  "audit: " + ", ".join(e["action"] for e in audit))
        chain = self.first.get("/v1/audit/chain").ok()
        self.note("chain", chain, f"hash chain intact: {chain['intact']} "
                  f"({chain['events']} events)")
        moment = self.before_report.isoformat()
        as_of = self.first.get(f"/v1/cases/{self.case}/as-of", params={"at": moment}).ok()
        states = [(p["state"], p["pair_id"] == self.pair) for p in as_of["pairs"]]
        self.note("as_of", as_of, f"as of {moment}: case {as_of['case']}, pair states "
                  f"{states}, sessions {[s['state'] for s in as_of['sessions']]}")


def main() -> int:
    try:
        Story().play()
    except Exception as failure:  # the demo's edge: one line, never a traceback
        print(f"\ndemo: {type(failure).__name__}: {failure}\n"
              "demo: is the stack up? `make up` starts it; `make status` shows it.",
              file=sys.stderr)
        return 1
    print("\nThe whole story is in the events: every step above can be replayed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
