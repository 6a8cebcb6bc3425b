"""When to try a delivery again."""

from __future__ import annotations

import random
from collections.abc import Sequence

DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
"""Seconds between attempts after the immediate first one: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
14 h, 20 h, 24 h; ten attempts over about three and a half days."""
JITTER = 0.1
MAX_RETRY_AFTER = 86400.0


def parse_schedule(text: str | None) -> tuple[float, ...]:
    """``PONY_WEBHOOK_RETRY_SCHEDULE``: comma-separated seconds between attempts."""
    if not text or not text.strip():
        return DEFAULT_SCHEDULE
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if any(d < 0 for d in delays):
        raise ValueError("PONY_WEBHOOK_RETRY_SCHEDULE takes seconds >= 0")
    return delays


def next_delay(
    attempts_done: int,
    schedule: Sequence[float],
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds until the next attempt after ``attempts_done`` attempts, or ``None`` when the
    schedule is spent. A receiver's ``Retry-After`` is honoured (up to a day) when longer."""
    if attempts_done < 1 or attempts_done > len(schedule):
        return None
    base = schedule[attempts_done - 1]
    jittered = base * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        jittered = max(jittered, min(retry_after, MAX_RETRY_AFTER))
    return max(0.0, jittered)
