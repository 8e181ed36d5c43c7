"""The hash chain: an intact log verifies, and every way of tampering with the
tables directly is found, classified, and its first broken position named."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from services.moderation.domain.case import Case
from services.moderation.domain.chain import (
    EMPTY,
    GENESIS,
    ChainHead,
    ChainLink,
    ChainRow,
    Finding,
    FindingKind,
    StoredEvent,
    canonical,
    extend,
    first_broken,
    join,
    link_hash,
    verify,
)
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    FINGERPRINT,
    ORG,
    Log,
    report,
    sealed_text,
)


def moderation_log() -> list[StoredEvent]:
    """Ten real moderation events: two cases, reports, votes, an exclusion, a dismissal."""
    log = Log()
    first = Case.open(report("a1"), 1, log.now, partner_org=ORG)
    log.save(first)
    other = Case.open(report("b1", member=str(uuid.uuid4())), 1, log.tick(), partner_org=ORG)
    log.save(other)
    first.add_report(report("a2"), log.tick())
    log.save(first)
    for moderator in (ALICE, BOB):
        first.confirm(moderator, "services_offered", sealed_text(moderator),
                      seen_version=first.version, identity_fingerprint=FINGERPRINT,
                      now=log.tick())
        log.save(first)
    other.add_report(report("b2", member=other.member_id), log.tick())
    log.save(other)
    other.dismiss(ALICE, "duplicate", sealed_text("dup"), seen_version=other.version,
                  now=log.tick())
    log.save(other)
    assert len(log.stored) == 10
    return [StoredEvent.from_recorded(e) for e in log.stored]


@pytest.fixture
def chained() -> tuple[list[StoredEvent], list[ChainLink], ChainHead]:
    events = moderation_log()
    links, head = extend(EMPTY, events)
    return events, links, head


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, int]]:
    return [(f.kind, f.position) for f in findings]


# -- building the chain ---------------------------------------------------------------


def test_an_intact_chain_verifies(chained):
    events, links, head = chained
    assert verify(join(events, links)) == []
    assert verify(join(events, links), anchor=head) == []
    assert first_broken([]) is None
    assert (head.position, head.hash) == (10, links[-1].hash)


def test_each_link_carries_the_hash_of_the_one_before(chained):
    events, links, _ = chained
    assert links[0].previous_hash == GENESIS and links[0].previous_position == 0
    for before, link, event in zip(links, links[1:], events[1:], strict=False):
        assert link.previous_hash == before.hash
        assert link.previous_position == before.position
        assert link.hash == link_hash(before.hash, event)
        assert link.event_id == event.event_id


def test_the_hash_is_sha256_over_the_previous_hash_and_the_canonical_row(chained):
    events, links, _ = chained
    expected = hashlib.sha256(
        b"moderation-chain:v1\n" + GENESIS.encode() + b"\n" + canonical(events[0])).hexdigest()
    assert links[0].hash == expected
    # Fixed for ever: every stored chain starts from it.
    assert GENESIS.startswith("e81416369009016457d90f966531e3c1")
    assert hashlib.sha256(b"mentoring-platform moderation.events hash chain v1 genesis"
                          ).hexdigest() == GENESIS
    with pytest.raises(ValueError):
        link_hash("not a hash", events[0])


def test_extending_in_steps_is_extending_at_once(chained):
    events, links, head = chained
    first, middle = extend(EMPTY, events[:4])
    rest, end = extend(middle, events[4:])
    assert first + rest == links and end == head


def test_an_append_made_outside_the_chain_lock_is_refused(chained):
    events, _, _ = chained
    _, head = extend(EMPTY, events[:5])
    with pytest.raises(ValueError, match="lock chain_head"):
        extend(head, [events[3]])  # a position at or below the head


def test_positions_burnt_by_rolled_back_appends_are_no_tampering(chained):
    events, _, _ = chained
    gappy = [replace(e, position=p) for e, p in zip(events, (1, 2, 5, 6, 7, 9, 10, 14, 15, 20),
                                                    strict=True)]
    links, head = extend(EMPTY, gappy)
    assert verify(join(gappy, links), anchor=head) == []


# -- the canonical form: one byte string per stored row ---------------------------------


def test_the_canonical_form_does_not_depend_on_how_the_row_was_read(chained):
    events, _, _ = chained
    event = events[4]
    # As PostgreSQL gives it back: jsonb reorders keys, timestamptz comes in the
    # session's zone, the uuid column as a UUID, the JSON re-parsed.
    paris = timezone(timedelta(hours=1))
    as_read = StoredEvent.from_row({
        "position": event.position, "stream_id": event.stream_id,
        "stream_version": event.stream_version, "event_id": uuid.UUID(event.event_id),
        "event_name": event.name, "event_version": event.version,
        "partner_org": event.partner_org,
        "data": json.loads(json.dumps(dict(reversed(list(event.data.items()))))),
        "recorded_at": event.recorded_at.astimezone(paris),
    })
    assert canonical(as_read) == canonical(event)
    as_text = replace(event, recorded_at=event.recorded_at.isoformat())
    assert canonical(as_text) == canonical(event)
    document = json.loads(canonical(event))
    assert set(document) == {"position", "stream_id", "stream_version", "event_id",
                             "event_name", "event_version", "partner_org", "data",
                             "recorded_at"}
    assert document["recorded_at"].endswith("Z")


@pytest.mark.parametrize(
    "change",
    [{"position": 99}, {"stream_id": "another"}, {"stream_version": 9},
     {"event_id": str(uuid.uuid4())}, {"name": "CaseDismissed"}, {"version": 5},
     {"partner_org": None}, {"recorded_at": "2026-03-02T09:00:00.000001+00:00"},
     {"data": {"case_id": "x"}}],
)
def test_every_column_is_in_the_hash(chained, change):
    events, _, _ = chained
    event = events[3]
    assert link_hash(GENESIS, replace(event, **change)) != link_hash(GENESIS, event)


# -- tampering ---------------------------------------------------------------------------


def test_data_edited_in_place_is_found_at_its_position(chained):
    events, links, head = chained
    events[4] = replace(events[4], data={**events[4].data, "reason": "payment_requested"})
    findings = verify(join(events, links), anchor=head)
    assert kinds(findings) == [(FindingKind.EDITED, 5)]
    assert first_broken(findings) == 5


@pytest.mark.parametrize(
    "change",
    [{"recorded_at": "2020-01-01T00:00:00+00:00"}, {"stream_version": 7},
     {"partner_org": None}, {"name": "CaseDismissed"}, {"version": 5},
     {"stream_id": str(uuid.uuid4())}],
)
def test_any_column_edited_is_found(chained, change):
    events, links, _ = chained
    events[2] = replace(events[2], **change)
    assert kinds(verify(join(events, links))) == [(FindingKind.EDITED, 3)]


def test_a_link_edited_is_found(chained):
    events, links, _ = chained
    links[6] = replace(links[6], hash="0" * 64)
    findings = verify(join(events, links))
    assert kinds(findings) == [(FindingKind.EDITED, 7)]


def test_a_link_pointing_elsewhere_is_found(chained):
    events, links, _ = chained
    links[6] = replace(links[6], previous_position=3)  # not hashed, but checked
    assert kinds(verify(join(events, links))) == [(FindingKind.EDITED, 7)]


def test_a_row_rewritten_with_its_hash_recomputed_is_found_at_the_next_link(chained):
    events, links, _ = chained
    forged = replace(events[4], data={**events[4].data, "moderator_id": str(uuid.uuid4())})
    events[4] = forged
    links[4] = replace(links[4], hash=link_hash(links[4].previous_hash, forged))
    findings = verify(join(events, links))
    assert kinds(findings) == [(FindingKind.EDITED, 5)]
    assert "rewritten together with its hash" in findings[0].detail


def test_data_that_no_longer_even_serialises_is_an_edit_not_a_crash(chained):
    events, links, _ = chained
    events[1] = replace(events[1], data={"x": float("nan")})
    events[2] = replace(events[2], recorded_at="2026-03-02T09:00:00")  # naive
    assert kinds(verify(join(events, links))) == [(FindingKind.EDITED, 2),
                                                  (FindingKind.EDITED, 3)]


def test_a_deleted_row_is_found_at_its_position(chained):
    events, links, head = chained
    del events[5], links[5]
    findings = verify(join(events, links), anchor=head)
    assert kinds(findings) == [(FindingKind.DELETED, 6)]
    assert "position 6 is missing" in findings[0].detail


def test_deleted_rows_name_the_first_missing_position(chained):
    events, links, _ = chained
    del events[3:6], links[3:6]  # positions 4, 5, 6
    findings = verify(join(events, links))
    assert kinds(findings) == [(FindingKind.DELETED, 4)]
    assert "position 6 is missing" in findings[0].detail and "from 3 to 7" in findings[0].detail


def test_the_first_row_deleted_is_found(chained):
    events, links, _ = chained
    del events[0], links[0]
    assert kinds(verify(join(events, links))) == [(FindingKind.DELETED, 1)]


def test_an_event_deleted_but_its_link_kept_is_found(chained):
    events, links, _ = chained
    del events[7]
    assert kinds(verify(join(events, links))) == [(FindingKind.DELETED, 8)]


def test_a_link_deleted_leaves_its_event_unchained(chained):
    events, links, _ = chained
    del links[7]
    assert kinds(verify(join(events, links))) == [(FindingKind.UNCHAINED, 8)]


def test_an_event_inserted_around_the_service_is_unchained(chained):
    events, links, _ = chained
    forged = replace(events[3], position=11, event_id=str(uuid.uuid4()))
    assert kinds(verify(join([*events, forged], links))) == [(FindingKind.UNCHAINED, 11)]


def swap(rows: list, a: int, b: int) -> None:
    """Rows at positions ``a`` and ``b`` exchange places (positions stay put)."""
    i, j = a - 1, b - 1
    rows[i], rows[j] = replace(rows[j], position=a), replace(rows[i], position=b)


@pytest.mark.parametrize(("a", "b"), [(3, 7), (4, 5), (1, 10)])
def test_two_rows_swapping_their_contents_are_reordered(chained, a, b):
    # UPDATE events SET position = ... : each event now sits at the other's position.
    events, links, head = chained
    swap(events, a, b)
    findings = verify(join(events, links), anchor=head)
    assert kinds(findings) == [(FindingKind.REORDERED, a), (FindingKind.REORDERED, b)]
    assert first_broken(findings) == a
    assert f"chained at position {b}" in findings[0].detail


@pytest.mark.parametrize(("a", "b"), [(3, 7), (4, 5), (1, 10)])
def test_two_rows_swapped_with_their_links_are_reordered(chained, a, b):
    # Events and links both moved: each row now follows another than it was chained after.
    events, links, _ = chained
    swap(events, a, b)
    swap(links, a, b)
    findings = verify(join(events, links))
    assert kinds(findings) == [(FindingKind.REORDERED, a), (FindingKind.REORDERED, b)]


def test_a_truncated_tail_is_found_only_against_the_anchored_head(chained):
    events, links, head = chained
    del events[7:], links[7:]
    # What remains is a consistent, shorter chain: the limit of any hash chain.
    assert verify(join(events, links)) == []
    findings = verify(join(events, links), anchor=head)
    assert kinds(findings) == [(FindingKind.TRUNCATED, 8)]
    assert "rows after 7" in findings[0].detail


def test_a_chain_rewritten_to_its_end_is_found_only_against_the_anchor(chained):
    events, links, head = chained
    events[8] = replace(events[8], data={**events[8].data, "reason": "not_commercial"})
    relinked, _ = extend(ChainHead(links[7].position, links[7].hash), events[8:])
    links[8:] = relinked
    assert verify(join(events, links)) == []
    assert kinds(verify(join(events, links), anchor=head)) == [(FindingKind.EDITED, 10)]


def test_a_window_verifies_from_a_checkpoint(chained):
    events, links, head = chained
    checkpoint = ChainHead(links[4].position, links[4].hash)
    window = join(events[5:], links[5:])
    assert verify(window, anchor=head, start=checkpoint) == []
    assert kinds(verify(window, start=ChainHead(5, "f" * 64))) == [(FindingKind.EDITED, 5)]


def test_one_row_per_position():
    with pytest.raises(ValueError):
        verify([ChainRow(1, None, None), ChainRow(1, None, None)])
