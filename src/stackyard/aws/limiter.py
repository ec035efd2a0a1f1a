"""A token bucket shared by every CloudFormation read, and a counter of calls by action."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["CallStats", "RateLimiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RateLimiter:
    """Allow ``rate`` calls per second on average and bursts of up to ``burst``.

    Thread-safe: callers take tokens in turn; a caller that finds the bucket
    empty reserves the next token and sleeps until it is due, so the order of
    callers is kept and the long-run rate never exceeds ``rate``.
    """

    def __init__(
        self,
        rate: float = 12.0,
        burst: float = 24.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = burst
        self._stamp = clock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; return the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait

    def try_acquire(self, keep: float = 0.0) -> bool:
        """Take a token only if one is free now and ``keep`` remain after it; never sleeps.

        For reads that are nice to have (progress events): they use spare budget and
        never delay the reads that matter (status polls, failure reasons).
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens - 1.0 < keep:
                return False
            self._tokens -= 1.0
            return True


@dataclass
class CallStats:
    """How many calls of each action were made, split into reads and writes."""

    clock: Clock = time.monotonic
    calls: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    writes: int = 0
    waited: float = 0.0
    first_read: float | None = None
    last_read: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, action: str, *, read: bool, waited: float = 0.0) -> None:
        """Count one call of ``action``."""
        now = self.clock()
        with self._lock:
            self.calls[action] += 1
            self.waited += waited
            if read:
                self.reads += 1
                if self.first_read is None:
                    self.first_read = now
                self.last_read = now
            else:
                self.writes += 1

    @property
    def total(self) -> int:
        """Every call counted."""
        return self.reads + self.writes

    def snapshot(self) -> dict[str, int]:
        """Calls by action, sorted by name."""
        with self._lock:
            return dict(sorted(self.calls.items()))

    def reset(self) -> None:
        """Start counting again from zero."""
        with self._lock:
            self.calls.clear()
            self.reads = self.writes = 0
            self.waited = 0.0
            self.first_read = self.last_read = None
