"""The charter rules that the event schemas themselves enforce."""

from __future__ import annotations

import re

import pytest

from contracts import catalogue, charter, examples, sealed
from contracts.errors import ContractError
from contracts.fields import Ciphertext
from contracts.tests.cases import ALL_VERSIONS, load_fields


def errors(name: str, version: int, **changes) -> dict[str, list[str]]:
    data = examples.example(name, version)
    data.update(changes)
    try:
        catalogue.validate(name, version, data)
    except ContractError as error:
        return error.fields
    return {}


# -- R6: a session lasts 60 to 120 minutes, remote or in person ---------------


@pytest.mark.parametrize("minutes", [59, 121, 0, -60, 600])
def test_r6_a_session_outside_one_to_two_hours_is_refused(minutes):
    fields = errors("SessionHeld", 2, duration_minutes=minutes)
    assert list(fields) == ["duration_minutes"]
    assert "60 to 120 minutes (R6)" in fields["duration_minutes"][0]


@pytest.mark.parametrize("minutes", [60, 61, 90, 119, 120])
def test_r6_one_to_two_hours_is_accepted(minutes):
    assert errors("SessionHeld", 2, duration_minutes=minutes) == {}


@pytest.mark.parametrize("modality", ["phone", "online", "Remote", "", "in person"])
def test_r6_only_remote_or_in_person(modality):
    fields = errors("SessionHeld", 2, modality=modality)
    assert list(fields) == ["modality"]
    assert "(R6)" in fields["modality"][0]


@pytest.mark.parametrize("modality", ["remote", "in_person"])
def test_r6_both_modalities_are_accepted(modality):
    assert errors("SessionHeld", 2, modality=modality) == {}


def test_r6_minutes_must_be_whole_minutes():
    assert list(errors("SessionHeld", 2, duration_minutes=90.5)) == ["duration_minutes"]
    assert list(errors("SessionHeld", 2, duration_minutes="90")) == ["duration_minutes"]


def test_r6_also_bounds_what_is_scheduled():
    assert list(errors("SessionScheduled", 1, planned_minutes=121)) == ["planned_minutes"]
    assert list(errors("SessionScheduled", 1, modality="phone")) == ["modality"]
    assert errors("SessionScheduled", 1, planned_minutes=60) == {}


# -- R5 / R7: at most 45 days between meetings --------------------------------


@pytest.mark.parametrize("days", [46, 60, 0, -1])
def test_r5_an_interval_over_45_days_is_refused(days):
    fields = errors("MeetingPlanRecorded", 1, interval_days=days)
    assert list(fields) == ["interval_days"]
    assert "(R5)" in fields["interval_days"][0]


@pytest.mark.parametrize("days", [1, 30, 45])
def test_r5_an_interval_up_to_45_days_is_accepted(days):
    assert errors("MeetingPlanRecorded", 1, interval_days=days) == {}


def test_r7_overdue_carries_the_agreed_interval_within_r5():
    assert list(errors("PairBecameOverdue", 1, interval_days=46)) == ["interval_days"]
    assert errors("PairBecameOverdue", 1, last_session_at=None) == {}


# -- R3: the charter's commitments ------------------------------------------------


def test_r3_a_member_accepts_her_own_role_commitments_only():
    fields = errors("CharterAccepted", 1, role="mentee",
                    commitments=["mentee.confidentiality", "mentor.patience"])
    assert list(fields) == ["commitments"]
    assert "mentor.patience" in fields["commitments"][0]


def test_r3_a_mentor_accepts_the_mentor_commitments():
    assert errors("CharterAccepted", 1, role="mentor",
                  commitments=list(charter.COMMITMENTS["mentor"])) == {}
    assert list(errors("CharterAccepted", 1, role="admin")) == ["role"]
    assert list(errors("CharterAccepted", 1, commitments=[])) == ["commitments"]


def test_r3_the_published_lists_are_per_role():
    assert list(errors("CharterPublished", 1, mentee_commitments=["mentor.patience"])) == [
        "mentee_commitments.0"
    ]


def test_r3_the_seed_commitments_are_the_charter_rules():
    assert len(charter.COMMITMENTS["mentor"]) == 11
    assert len(charter.COMMITMENTS["mentee"]) == 8
    for role, ids in charter.COMMITMENTS.items():
        assert all(re.match(charter.COMMITMENT_ID_PATTERN, c) and c.startswith(role) for c in ids)
        assert f"{role}.no_solicitation" in ids  # R1 is a commitment of both roles


# -- R2: permanent exclusion -------------------------------------------------------


def test_r2_an_exclusion_is_permanent_by_contract():
    assert list(errors("MemberExcluded", 1, permanent=False)) == ["permanent"]
    assert list(errors("MemberExcluded", 1, permanent="yes")) == ["permanent"]


def test_r2_there_is_no_reinstatement_event():
    assert not [n for n in catalogue.names() if re.search("reinstat|unexclud|unflag", n, re.I)]


def test_r2_exclusion_and_flag_carry_the_identity_fingerprint():
    for name in ("MemberExcluded", "ProfileFlagged", "MemberRegistered"):
        assert load_fields(name, 1)["identity_fingerprint"].required
    assert list(errors("MemberExcluded", 1, identity_fingerprint="ada@example.org")) == [
        "identity_fingerprint"
    ]


def test_r2_a_pair_ended_by_exclusion_has_no_member_ending_it():
    assert errors("PairEnded", 1, reason="counterpart_excluded", ended_by=None) == {}
    assert list(errors("PairEnded", 1, reason="counterpart_excluded")) == ["ended_by"]
    assert list(errors("PairEnded", 1, reason="withdrawn", ended_by=None)) == ["ended_by"]
    assert list(errors("PairEnded", 1, reason="bored")) == ["reason"]


# -- R9, R10, R11 ------------------------------------------------------------------


def test_r9_a_member_cannot_report_herself():
    assert list(errors("CommercialSolicitationReported", 1,
                       reported_member_id=examples.MENTEE)) == ["reported_member_id"]


def test_r10_action_item_states():
    for state in ("done", "dropped"):
        assert errors("ActionItemStateChanged", 1, state=state) == {}
    assert list(errors("ActionItemStateChanged", 1, state="closed")) == ["state"]
    assert list(errors("ActionItemStateChanged", 1, state="open")) == ["state"]  # no change


def test_r11_feedback_is_for_the_other_member():
    assert list(errors("FeedbackGiven", 1, to_member_id=examples.MENTEE)) == ["to_member_id"]


def test_a_pair_is_two_people():
    assert list(errors("PairFormed", 1, mentee_id=examples.MENTOR)) == ["mentee_id"]
    assert list(errors("MatchProposed", 1, mentee_id=examples.MENTOR)) == ["mentee_id"]


# -- R1: nothing to sell, nothing to pay --------------------------------------------

#: Matched word by word (snake_case fields, PascalCase events): "feedback" is
#: not a fee, "session_fee" is.
R1_WORDS = re.compile(
    r"^(prices?|fees?|amounts?|payments?|pay|paid|invoices?|costs?|billing|currency|tariffs?"
    r"|charges?)$"
)


def r1_words(name: str) -> list[str]:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().replace(".", "_").split("_")
    return [w for w in words if R1_WORDS.match(w)]


def walk_field_names(schema, prefix=""):
    for attr, field in schema.load_fields.items():
        name = f"{prefix}{field.data_key or attr}"
        yield name
        nested = getattr(field, "schema", None)
        if nested is not None:
            yield from walk_field_names(nested, f"{name}.")
        inner = getattr(field, "inner", None)
        if inner is not None and getattr(inner, "schema", None) is not None:
            yield from walk_field_names(inner.schema, f"{name}.")


def test_r1_no_field_anywhere_takes_a_price_a_fee_or_a_payment():
    names = [
        (event, version, field)
        for event, version in ALL_VERSIONS
        for field in walk_field_names(catalogue.schema(event, version))
    ]
    assert len(names) > 150  # the walk really walks
    offending = [n for n in names if r1_words(n[2]) or r1_words(n[0])]
    assert offending == []


def test_r1_the_walk_would_catch_one():
    from marshmallow import fields

    from contracts.events.base import EventData

    bad = {"session_fee": fields.Integer(), "price": fields.Integer(),
           "paymentReference": fields.String(), "feedback_id": fields.String(),
           "invoices": fields.List(fields.String()), "accounts": fields.String()}
    schema = type("Bad", (EventData,), bad)()
    caught = [n for n in walk_field_names(schema) if r1_words(n)]
    assert caught == ["session_fee", "price", "paymentReference", "invoices"]
    assert r1_words("SessionFeeCharged") == ["fee"] and r1_words("FeedbackGiven") == []


# -- R8: no plaintext personal data or confidential text ----------------------------

#: Field names that hold personal data or confidential text.
SENSITIVE = re.compile(
    r"(^|_)(name|email|text|note|comment|details|description|rationale|bio|phone|address"
    r"|message|feedback)$"
)


def test_r8_every_personal_or_confidential_field_is_sealed():
    sensitive = [
        (event, version, key, type(field).__name__)
        for event, version in ALL_VERSIONS
        for key, field in load_fields(event, version).items()
        if SENSITIVE.search(key)
    ]
    assert len(sensitive) >= 15
    assert [s for s in sensitive if s[3] != "Ciphertext"] == []


def test_r8_report_details_notes_objectives_and_feedback_are_sealed():
    for event, field in [
        ("CommercialSolicitationReported", "details"),
        ("NoteAdded", "text"),
        ("ObjectiveStated", "text"),
        ("ObjectiveRevised", "text"),
        ("ActionItemAdded", "text"),
        ("FeedbackGiven", "text"),
        ("MemberRegistered", "display_name"),
        ("MemberRegistered", "email"),
    ]:
        assert isinstance(load_fields(event, 1)[field], Ciphertext), (event, field)
        assert list(errors(event, 1, **{field: "plain words"})) == [field]


SEALED = sealed.seal_format("pair-1", bytes(range(40)))


@pytest.mark.parametrize(
    "value",
    [
        "Talked about her salary negotiation",
        "ada@example.org",
        "",
        "enc:v1:",
        "enc:v1:pair-1:",
        "enc:v1:pair-1:c2hvcnQ",  # valid base64url, but 5 bytes: no AEAD output is that short
        "enc:v2:pair-1:" + SEALED.rsplit(":", 1)[1],
        "enc:v1:Pair-1:" + SEALED.rsplit(":", 1)[1],  # key ids are lowercase
        "enc:v1:pair-1:" + SEALED.rsplit(":", 1)[1] + " and some plaintext",
        "ENC:V1:pair-1:" + SEALED.rsplit(":", 1)[1],
        "enc:v1:pair-1:" + "A" * sealed.MAX_LENGTH,
        SEALED.replace("enc:v1:pair-1:", "enc:v1:pair-1::"),
    ],
)
def test_r8_ciphertext_refuses_plaintext_and_malformed_values(value):
    fields = errors("NoteAdded", 1, text=value)
    assert list(fields) == ["text"]
    assert not sealed.is_sealed(value)


def test_r8_ciphertext_refuses_non_strings():
    for value in (42, ["enc:v1:x"], {"enc": "v1"}, None):
        assert list(errors("NoteAdded", 1, text=value)) == ["text"]


def test_r8_ciphertext_accepts_the_sealed_format():
    assert errors("NoteAdded", 1, text=SEALED) == {}
    assert sealed.parse(SEALED) == ("pair-1", bytes(range(40)))
    assert errors("NoteAdded", 1, text=sealed.seal_format(f"member-{examples.MENTEE}",
                                                        bytes(28))) == {}


def test_r8_seal_format_refuses_what_parse_would():
    with pytest.raises(sealed.NotSealed):
        sealed.seal_format("pair-1", b"too short")
    with pytest.raises(sealed.NotSealed):
        sealed.seal_format("Bad Key", bytes(40))


def test_r8_the_plaintext_message_names_the_rule():
    fields = errors("NoteAdded", 1, text="hello")
    assert "R8" in fields["text"][0]
