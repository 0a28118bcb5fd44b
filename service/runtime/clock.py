"""When to run a batch on the event loop itself instead of handing it to a worker thread.

A hand-off costs two thread wake-ups (the loop to a worker and back): 60-120 microseconds
on a busy 2-core machine, more than a one-image MLP run (35-100). So a batch whose measured
run time is below the measured hand-off runs inline, and anything slower (a big batch, a
big model) still goes to the thread, where it cannot stall the loop. Run times are learned
per batch-size bucket (1, 2-3, 4-7, ... rows) from the runs themselves; a bucket never seen
yet runs in the thread, which times it.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SMOOTHING = 0.1
"""Weight of the newest run in a bucket's moving average (about the last ten runs)."""


def hand_off_seconds(repeats: int = 50) -> float:
    """Median seconds for an event loop to hand a no-op to a worker thread and get its answer
    back: the path a batch takes (submit, the thread's wake-up, the loop's wake-up), timed
    on a private loop and pool so it can run anywhere, also outside any loop."""

    async def hops() -> list[float]:
        loop = asyncio.get_running_loop()
        times = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            await loop.run_in_executor(pool, int)  # the thread's start-up is not a hand-off
            for _ in range(repeats):
                start = time.perf_counter()
                await loop.run_in_executor(pool, int)
                times.append(time.perf_counter() - start)
        return times

    loop = asyncio.new_event_loop()
    try:
        return statistics.median(loop.run_until_complete(hops()))
    finally:
        loop.close()


def bucket(rows: int) -> int:
    """0 for 1 row, 1 for 2-3, 2 for 4-7, ...: batches of like size share a figure."""
    return max(rows, 1).bit_length() - 1


class RunClock:
    """Moving averages of a model's run seconds per batch-size bucket, and the verdict."""

    def __init__(self, hand_off: float) -> None:
        self.hand_off = hand_off
        """Seconds one thread hand-off costs on this machine (`hand_off_seconds`)."""
        self._seconds: dict[int, float] = {}
        self._lock = threading.Lock()  # runs are timed in worker threads and on the loop

    def record(self, rows: int, seconds: float) -> None:
        key = bucket(rows)
        with self._lock:
            seen = self._seconds.get(key)
            self._seconds[key] = seconds if seen is None else seen + SMOOTHING * (seconds - seen)

    def expected(self, rows: int) -> float | None:
        """The moving average for batches of about `rows` rows; None before the first one."""
        return self._seconds.get(bucket(rows))

    def inline(self, rows: int) -> bool:
        """Run on the loop: a batch this size has been measured, and runs faster than a
        hand-off would cost."""
        seconds = self.expected(rows)
        return seconds is not None and seconds < self.hand_off
