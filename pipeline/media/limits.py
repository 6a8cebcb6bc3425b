"""Guards applied while processing media, and the progress callback's shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ProgressFn = Callable[[float], None]
"""Called with a fraction in [0, 1]; may raise ``Canceled`` to stop the work."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Read from settings at the edge. ``deadline`` is seconds per tool run."""

    max_pixels: int = 100_000_000
    max_duration: float = 4 * 3600.0
    deadline: float = 3600.0
