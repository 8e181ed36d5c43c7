"""Sealing, crypto-shredding and the moderators' box, against a real PostgreSQL."""

from __future__ import annotations

import os

import psycopg
import pytest

from contracts import sealed
from services.servicekit.crypto import (
    Keyring,
    Unreadable,
    box_seal,
    fingerprint,
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
