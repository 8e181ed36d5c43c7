"""The gateway's memory of who a credential acts for (``actors.py``), on a clock
the tests move: kept long only while identity's epoch is heard (R2)."""

from __future__ import annotations

import pytest

from services.gateway.actors import ActorCache

MENTOR = {"kind": "member", "organisation_id": "org-a", "member_id": "m1", "role": "mentor"}
OTHER = {"kind": "member", "organisation_id": "org-b", "member_id": "m2", "role": "mentee"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> ActorCache:
    return ActorCache(ttl=2.0, trusted_ttl=60.0, heard_within=2.5, clock=clock)


def learn(cache: ActorCache, credential: str, member: str, actor: dict) -> None:
    cache.put(credential, member, actor, cache.asking())


def test_an_answer_lasts_the_short_ttl_while_no_epoch_was_ever_heard(cache, clock):
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 1.9
    assert cache.get("key-a", "m1") == MENTOR
    clock.now += 0.2
    assert cache.get("key-a", "m1") is None


def test_an_answer_lasts_up_to_the_trusted_ttl_while_the_epoch_is_heard(cache, clock):
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    for _ in range(29):  # announcements every second, the same epoch
        clock.now += 1.0
        cache.heard_epoch("i/7")
    assert cache.get("key-a", "m1") == MENTOR  # 29 s: within any drawn lifetime (30-60 s)
    for _ in range(31):
        clock.now += 1.0
        cache.heard_epoch("i/7")
    assert cache.get("key-a", "m1") is None  # 60 s: past every drawn lifetime


def test_when_the_announcements_stop_answers_fall_back_to_the_short_ttl(cache, clock):
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 2.4  # last announcement 2.4 s ago: still trusted
    assert cache.get("key-a", "m1") == MENTOR
    clock.now += 0.2  # 2.6 s: not any more, and the answer is 2.6 s old (> 2 s)
    assert cache.get("key-a", "m1") is None


def test_an_epoch_other_than_the_last_heard_forgets_everything(cache, clock):
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    learn(cache, "key-b", "m2", OTHER)
    clock.now += 1.0
    cache.heard_epoch("i/8")  # a change this gateway was not told of
    assert cache.get("key-a", "m1") is None and cache.get("key-b", "m2") is None


def test_a_database_created_anew_forgets_everything_even_at_the_same_count(cache):
    cache.heard_epoch("old-incarnation/0")
    learn(cache, "key-a", "m1", MENTOR)
    cache.heard_epoch("new-incarnation/0")
    assert cache.get("key-a", "m1") is None


def test_the_same_epoch_forgets_nothing(cache, clock):
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 1.0
    cache.heard_epoch("i/7")
    assert cache.get("key-a", "m1") == MENTOR


def test_a_broadcast_forgets_only_its_organisation(cache):
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    learn(cache, "key-b", "m2", OTHER)
    cache.forget_organisation("org-a")
    assert cache.get("key-a", "m1") is None
    assert cache.get("key-b", "m2") == OTHER


def test_an_answer_asked_for_before_a_forget_is_not_kept(cache):
    """The broadcast may overtake identity's reply, which may predate the change."""
    cache.heard_epoch("i/7")
    asked = cache.asking()
    cache.forget_organisation("org-a")  # arrives while identity's answer is on its way
    cache.put("key-a", "m1", MENTOR, asked)
    assert cache.get("key-a", "m1") is None
    learn(cache, "key-a", "m1", MENTOR)  # asked for after it: kept
    assert cache.get("key-a", "m1") == MENTOR


def test_an_answer_asked_for_before_a_new_epoch_is_not_kept(cache):
    cache.heard_epoch("i/7")
    asked = cache.asking()
    cache.heard_epoch("i/8")  # identity's reply may predate the change the epoch counts
    cache.put("key-a", "m1", MENTOR, asked)
    assert cache.get("key-a", "m1") is None


def test_an_announcement_that_waited_in_a_queue_does_not_keep_answers_trusted(cache, clock):
    """Its value says nothing of what committed since identity read it."""
    cache.heard_epoch("i/7")
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 2.4
    cache.heard_epoch("i/7", age=2.3)  # read 2.3 s ago: trusted 0.2 s more, no longer
    clock.now += 0.1
    assert cache.trusted() and cache.get("key-a", "m1") == MENTOR
    clock.now += 0.2
    assert not cache.trusted()
    assert cache.get("key-a", "m1") is None  # 2.7 s old: past the short TTL
    cache.heard_epoch("i/7", age=3.0)  # older than HEARD_WITHIN: no trust at all
    assert not cache.trusted()


def test_the_cache_holds_no_usable_credential(cache):
    learn(cache, "secret-api-key", "m1", MENTOR)
    assert "secret-api-key" not in repr(cache._entries)
