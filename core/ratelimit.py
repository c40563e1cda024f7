"""A fixed-window rate limit kept in the cache (Redis in production, shared by every web process).

Used where a person or a script could hammer a public form: borrower sign-in, password-reset codes and new
inquiries. The count lives only in the cache: if the cache is cleared the window starts again, which is acceptable
for a brake (the account lockout of django-axes is the hard limit and lives in the database).
"""

import hashlib

from django.core.cache import cache


def _cache_key(scope: str, identity: str, window_seconds: int) -> str:
    # Hashed: identities are mobile numbers and IP addresses, which should not sit readable in the cache.
    digest = hashlib.sha256(f"{scope}:{identity}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{window_seconds}:{digest}"


def allow(scope: str, identity: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt for (scope, identity); False once more than `limit` were made in the current window."""
    key = _cache_key(scope, identity, window_seconds)
    # add() creates the counter with its expiry only when absent, so the window is fixed from the first attempt.
    if cache.add(key, 1, timeout=window_seconds):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window_seconds)
        return True
    return count <= limit
