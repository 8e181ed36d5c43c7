"""Credentials: 256 random bits, found by a prefix, kept only as a hash."""

from __future__ import annotations

from services.servicekit import credentials as api_keys


def test_a_new_key_is_found_by_its_prefix_and_checked_by_its_hash():
    key = api_keys.new_key()
    assert api_keys.prefix_of(key.key) == key.prefix
    assert api_keys.matches(key.key, key.secret_sha256)
    assert key.key not in key.secret_sha256
    other = api_keys.new_key()
    assert not api_keys.matches(other.key, key.secret_sha256)
    assert key.key != other.key and len(key.key) == len("mk_") + 8 + 1 + 43


def test_anything_else_has_no_prefix():
    for value in ("", "mk_short", "Bearer mk_x", "mk_ABCDEFGH_" + "x" * 42, "op_" + "x" * 60):
        assert api_keys.prefix_of(value) is None


def test_a_moderator_credential_is_never_taken_for_an_api_key():
    moderator = api_keys.new_key(api_keys.MODERATOR)
    assert moderator.key.startswith("md_")
    assert api_keys.prefix_of(moderator.key, api_keys.MODERATOR) == moderator.prefix
    assert api_keys.prefix_of(moderator.key) is None
    assert api_keys.prefix_of(api_keys.new_key().key, api_keys.MODERATOR) is None
