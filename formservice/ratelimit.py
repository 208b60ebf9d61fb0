"""Login attempts per client address, counted in Redis so every web worker shares the count."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .queue import redis_connection

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_ATTEMPTS = 30


def too_many_attempts(address: str) -> bool:
    """Count one attempt; True once the address has used up its window.

    If Redis cannot be reached the attempt is allowed: the per-account lockout still holds.
    """
    key = f"formservice:login:{address}"
    try:
        with redis_connection().pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS, nx=True)
            attempts, _ = pipe.execute()
    except (RedisError, OSError):
        log.warning("login rate limit unavailable (Redis)")
        return False
    return attempts > MAX_ATTEMPTS
