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
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    for _ in range(29):  # announcements every second, the same epoch
        clock.now += 1.0
        cache.heard_epoch(7)
    assert cache.get("key-a", "m1") == MENTOR  # 29 s: within any drawn lifetime (30-60 s)
    for _ in range(31):
        clock.now += 1.0
        cache.heard_epoch(7)
    assert cache.get("key-a", "m1") is None  # 60 s: past every drawn lifetime


def test_when_the_announcements_stop_answers_fall_back_to_the_short_ttl(cache, clock):
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 2.4  # last announcement 2.4 s ago: still trusted
    assert cache.get("key-a", "m1") == MENTOR
    clock.now += 0.2  # 2.6 s: not any more, and the answer is 2.6 s old (> 2 s)
    assert cache.get("key-a", "m1") is None


def test_an_epoch_other_than_the_last_heard_forgets_everything(cache, clock):
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    learn(cache, "key-b", "m2", OTHER)
    clock.now += 1.0
    cache.heard_epoch(8)  # a change this gateway was not told of
    assert cache.get("key-a", "m1") is None and cache.get("key-b", "m2") is None


def test_an_epoch_starting_again_lower_forgets_everything_too(cache, clock):
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    cache.heard_epoch(0)  # identity's database started again: another value
    assert cache.get("key-a", "m1") is None


def test_the_same_epoch_forgets_nothing(cache, clock):
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    clock.now += 1.0
    cache.heard_epoch(7)
    assert cache.get("key-a", "m1") == MENTOR


def test_a_broadcast_forgets_only_its_organisation(cache, clock):
    cache.heard_epoch(7)
    learn(cache, "key-a", "m1", MENTOR)
    learn(cache, "key-b", "m2", OTHER)
    cache.forget_organisation("org-a")
    assert cache.get("key-a", "m1") is None
    assert cache.get("key-b", "m2") == OTHER


def test_an_answer_asked_for_before_a_forget_is_not_kept(cache, clock):
    """The broadcast may overtake identity's reply, which may predate the change."""
    cache.heard_epoch(7)
    asked = cache.asking()
    cache.forget_organisation("org-a")  # arrives while identity's answer is on its way
    cache.put("key-a", "m1", MENTOR, asked)
    assert cache.get("key-a", "m1") is None
    learn(cache, "key-a", "m1", MENTOR)  # asked for after it: kept
    assert cache.get("key-a", "m1") == MENTOR


def test_the_cache_holds_no_usable_credential(cache):
    learn(cache, "secret-api-key", "m1", MENTOR)
    assert "secret-api-key" not in repr(cache._entries)
