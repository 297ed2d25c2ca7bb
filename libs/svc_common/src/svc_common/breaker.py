"""A per-process circuit breaker for Redis: after a failure, skip Redis briefly instead of waiting on it."""

import logging
import time

logger = logging.getLogger("svc_common.breaker")


class Breaker:
    """Open for `cooldown` seconds after trip(); callers check available() before each Redis call."""

    def __init__(self, cooldown: float = 1.0):
        self.cooldown = cooldown
        self._open_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def reset(self) -> None:
        self._open_until = 0.0

    def trip(self, exc: Exception) -> None:
        if self.available():
            logger.warning("Redis unavailable, bypassing it for %.1fs: %s", self.cooldown, exc)
        self._open_until = time.monotonic() + self.cooldown


redis_breaker = Breaker()
