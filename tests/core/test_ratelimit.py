"""The fixed-window brake on public forms (sign-in, reset codes, new inquiries), kept in the default cache: Redis when
REDIS_URL is set, shared by every web process."""

import time
import uuid

import pytest
from django.core.cache import cache

from core.ratelimit import _cache_key, allow

MOBILE = "13800138000"


@pytest.fixture
def scope():
    """A scope of this test's own, whose keys are removed before and after it."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    used: list[tuple[str, int]] = []

    def remember(identity: str, window_seconds: int) -> None:
        used.append((identity, window_seconds))
        cache.delete(_cache_key(name, identity, window_seconds))

    yield name, remember
    for identity, window_seconds in used:
        cache.delete(_cache_key(name, identity, window_seconds))


def attempts(scope: str, identity: str, count: int, *, limit: int, window_seconds: int = 60) -> list[bool]:
    return [allow(scope, identity, limit=limit, window_seconds=window_seconds) for _ in range(count)]


def test_it_allows_up_to_the_limit_and_refuses_the_rest_of_the_window(scope):
    name, remember = scope
    remember(MOBILE, 60)

    assert attempts(name, MOBILE, 5, limit=3) == [True, True, True, False, False]


def test_a_limit_of_one_allows_a_single_attempt(scope):
    name, remember = scope
    remember(MOBILE, 60)

    assert attempts(name, MOBILE, 3, limit=1) == [True, False, False]


def test_identities_are_counted_separately(scope):
    name, remember = scope
    for identity in (MOBILE, "13900139000", "203.0.113.7"):
        remember(identity, 60)

    assert attempts(name, MOBILE, 3, limit=2) == [True, True, False]
    assert attempts(name, "13900139000", 2, limit=2) == [True, True]
    assert attempts(name, "203.0.113.7", 1, limit=2) == [True]
    assert attempts(name, MOBILE, 1, limit=2) == [False]


def test_scopes_are_counted_separately(scope):
    name, remember = scope
    remember(MOBILE, 60)
    other = f"{name}-other"
    cache.delete(_cache_key(other, MOBILE, 60))
    try:
        assert attempts(name, MOBILE, 2, limit=1) == [True, False]
        assert attempts(other, MOBILE, 2, limit=1) == [True, False]
    finally:
        cache.delete(_cache_key(other, MOBILE, 60))


def test_clearing_the_cache_starts_the_window_again(scope):
    name, remember = scope
    remember(MOBILE, 60)
    assert attempts(name, MOBILE, 3, limit=2) == [True, True, False]

    cache.delete(_cache_key(name, MOBILE, 60))

    assert attempts(name, MOBILE, 3, limit=2) == [True, True, False]


def test_the_window_ends_a_fixed_time_after_the_first_attempt(scope):
    name, remember = scope
    remember(MOBILE, 1)
    started = time.monotonic()
    assert attempts(name, MOBILE, 2, limit=1, window_seconds=1) == [True, False]
    # More attempts inside the window do not push its end further (a fixed window, not a sliding one).
    time.sleep(0.6)
    assert attempts(name, MOBILE, 1, limit=1, window_seconds=1) == [False]

    time.sleep(max(0.0, 1.15 - (time.monotonic() - started)))

    assert attempts(name, MOBILE, 2, limit=1, window_seconds=1) == [True, False]


def test_the_cache_key_does_not_show_the_mobile_number():
    key = _cache_key("portal-sign-in", MOBILE, 900)

    assert MOBILE not in key
    assert key.startswith("ratelimit:portal-sign-in:900:")
    assert key != _cache_key("portal-sign-in", "13900139000", 900)
