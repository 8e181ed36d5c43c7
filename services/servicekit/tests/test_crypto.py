"""Sealing, crypto-shredding and the moderators' box, against a real PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import os

import psycopg
import pytest

from contracts import sealed
from services.servicekit.crypto import (
    Keyring,
    Unreadable,
    box_seal,
    canonical_mailbox,
    fingerprint,
    fingerprints_on_record,
    normalise_email,
)


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url, autocommit=True) as c:
        Keyring.install(c)
        yield c


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(os.urandom(32))


def test_a_sealed_value_opens_with_its_key_only(conn, keyring):
    value = keyring.seal(conn, "member-1", "Zoé Martin")
    assert sealed.is_sealed(value) and "Zoé" not in value
    assert keyring.open(conn, value) == "Zoé Martin"
    _, payload = sealed.parse(value)
    forged = sealed.seal_format("member-2", payload)  # the same bytes under another key
    keyring.seal(conn, "member-2", "x")
    with pytest.raises(Unreadable):
        keyring.open(conn, forged)


def test_destroying_the_key_makes_every_value_unreadable_for_good(conn, keyring):
    values = [keyring.seal(conn, "member-9", text) for text in ("a", "b")]
    assert keyring.destroy(conn, "member-9") is True
    for value in values:
        with pytest.raises(Unreadable):
            keyring.open(conn, value)
        assert keyring.open_or_none(conn, value) is None
    with pytest.raises(Unreadable):
        keyring.seal(conn, "member-9", "new data")  # an erased subject gets no new key
    assert keyring.destroy(conn, "member-9") is False
    assert keyring.is_destroyed(conn, "member-9")


def test_another_master_secret_opens_nothing(conn, keyring):
    value = keyring.seal(conn, "pair-1", "note")
    with pytest.raises(Unreadable):
        Keyring(os.urandom(32)).open(conn, value)


def test_the_moderators_box_opens_for_the_key_holder_only(conn, keyring):
    public = keyring.box_public_key(conn)
    assert keyring.box_public_key(conn) == public, "one key pair, created once"
    value = box_seal(public, "moderators-1", "She offered paid coaching")
    assert keyring.box_open(conn, value) == "She offered paid coaching"
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(Unreadable):
        keyring.box_open(conn, tampered)


def test_a_fingerprint_is_keyed_stable_and_normalised():
    key = os.urandom(32)
    assert fingerprint(" Zoe@Example.ORG ", key) == fingerprint("zoe@example.org", key)
    assert fingerprint("zoe@example.org", key) != fingerprint("zoe@example.org", os.urandom(32))
    assert "zoe" not in fingerprint("zoe@example.org", key)
    full_width_zoe = "\uff3a\uff2f\uff25"  # NFKC folds full-width letters to ASCII
    assert normalise_email(f"{full_width_zoe}@example.org") == "zoe@example.org"
    assert fingerprint("zoe@example.org", key).startswith("fp:v2:platform-1:")


@pytest.mark.parametrize("spelling", [
    "seller@gmail.com", "Seller@GMAIL.com", "seller+again@gmail.com", '"seller"@gmail.com',
    "sel.ler@gmail.com", "s.e.l.l.e.r+x@googlemail.com", "seller@gmail.com.",
])
def test_r2_every_spelling_of_one_mailbox_has_one_fingerprint(spelling):
    """Each of these registered again, under v1, a seller excluded as seller@gmail.com."""
    key = os.urandom(32)
    assert canonical_mailbox(spelling) == "seller@gmail.com"
    assert fingerprint(spelling, key) == fingerprint("seller@gmail.com", key)


def test_r2_the_mailbox_keeps_what_tells_two_people_apart():
    assert canonical_mailbox("zoe@bücher.de") == canonical_mailbox("ZOE@xn--bcher-kva.de")
    assert canonical_mailbox("zoe@xn--bcher-kva.de") == "zoe@bücher.de"
    assert canonical_mailbox("ana@xn--strae-oqa.de") == "ana@straße.de"  # not IDNA 2003's
    assert canonical_mailbox("ana@straße.de") != canonical_mailbox("ana@strasse.de")
    assert canonical_mailbox("a.na@example.org") == "a.na@example.org"  # dots: Gmail's rule
    assert canonical_mailbox("ana@example.org") != canonical_mailbox("ann@example.org")
    assert canonical_mailbox("+tag@example.org") == "+tag@example.org"  # no address left
    assert canonical_mailbox('"a\\"b"@x.org') == 'a"b@x.org'


def test_r2_registration_checks_the_v1_fingerprints_members_were_excluded_under():
    """Members registered before v2 are on record (and excluded) under v1, of the
    spelling they gave: their erased address cannot be fingerprinted again."""
    key = os.urandom(32)

    def v1(email: str) -> str:  # the fingerprint before v2, exactly
        digest = hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256)
        return f"fp:v1:platform-1:{digest.hexdigest()}"

    spelling = "Sel.Ler+again@gmail.com"
    assert set(fingerprints_on_record(spelling, key)) == {
        fingerprint(spelling, key), v1(spelling), v1("seller@gmail.com")}
    assert fingerprints_on_record(spelling, key)[0] == fingerprint(spelling, key)


def test_an_erasure_meeting_a_key_being_created_destroys_it(conn, keyring, database_url):
    """Her words sealed in a transaction not yet committed when her erasure arrives:
    the erasure waits for that key, then destroys it (never leaves it alive)."""
    import threading

    with psycopg.connect(database_url) as sealing:
        value = keyring.seal(sealing, "pair-1-by-member-7", "her words")  # not committed
        outcome: list[bool] = []

        def erase() -> None:
            with psycopg.connect(database_url) as erasing:
                outcome.append(keyring.destroy(erasing, "pair-1-by-member-7"))

        eraser = threading.Thread(target=erase)
        eraser.start()
        eraser.join(timeout=1.0)
        assert eraser.is_alive(), "the erasure waits for the key being created"
        sealing.commit()
        eraser.join(timeout=10)
    assert outcome == [True]
    with pytest.raises(Unreadable):
        keyring.open(conn, value)
