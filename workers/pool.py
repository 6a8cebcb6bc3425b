"""Run Dramatiq workers: threads in this process, or several processes."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterable

from dramatiq import Broker, Worker

log = logging.getLogger("pony.worker")


def start_worker(broker: Broker, *, queues: Iterable[str], threads: int) -> Worker:
    """Start consuming ``queues`` with ``threads`` threads; prefetch no more than the threads."""
    worker = Worker(broker, queues=set(queues), worker_threads=threads)
    worker.queue_prefetch = threads
    worker.start()
    return worker


def serve_forever(worker: Worker) -> None:
    """Block until SIGINT or SIGTERM, then stop the worker gracefully."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    log.info("stopping worker")
    worker.stop()


def run_processes(target: Callable[..., None], args: tuple[object, ...], count: int) -> None:
    """Run ``target(*args)`` in ``count`` processes; a signal here stops them all."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=args) for _ in range(count)]
    for process in processes:
        process.start()

    def forward(_signum: int, _frame: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for process in processes:
        process.join()
