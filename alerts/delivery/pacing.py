"""Pacing sends to one endpoint: a token bucket (pure, time passed in) and a blocking pacer."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` sends a second on average, up to `burst` at once (GCRA form: one timestamp)."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._due = -math.inf  # theoretical time of the next send at the steady rate

    def reserve(self, now: float) -> float:
        """Take the next slot; the seconds to wait before sending (0 when one is free now)."""
        at = max(now, self._due - self._tolerance)
        self._due = max(self._due, at) + self._interval
        return at - now

    def pause(self, now: float, seconds: float) -> None:
        """Nothing before `now + seconds`, and no burst right after (the server said so)."""
        self._due = max(self._due, now + max(seconds, 0.0) + self._tolerance)

    def free_at(self) -> float:
        """The earliest time the next send may go."""
        return self._due - self._tolerance


class Pacer:
    """A token bucket on a real (or injected) clock that sleeps until each send may go."""

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # rate None: no steady limit, but a server's Retry-After is still honoured.
        self._bucket = TokenBucket(rate, burst) if rate else TokenBucket(1e9, 1)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next send may go; the seconds waited."""
        with self._lock:
            delay = self._bucket.reserve(self._clock())
        if delay > 0:
            self._sleep(delay)
        return delay

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` from now."""
        with self._lock:
            self._bucket.pause(self._clock(), seconds)

    def blocked_for(self) -> float:
        """Seconds until a send may go, without taking a slot."""
        with self._lock:
            return max(0.0, self._bucket.free_at() - self._clock())
