"""The periodic task that hands due deliveries to the workers (retries wait in the database,
not in a broker delay queue: RabbitMQ's consumer timeout would break delays of hours)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("pony.ticker")


class Ticker:
    """Calls ``tick`` every ``interval`` seconds on a daemon thread until ``stop``."""

    def __init__(self, tick: Callable[[], object], *, interval: float = 1.0) -> None:
        self.tick = tick
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pony-ticker", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:
                log.exception("the delivery ticker failed; trying again")
