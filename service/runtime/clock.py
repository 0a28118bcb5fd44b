"""When to run a batch on the event loop itself instead of handing it to a worker thread.

A hand-off costs two thread wake-ups (the loop to a worker and back) and the GIL's round
trip: more CPU than a one-image MLP run (35-100 microseconds). So a batch whose measured run
time is below `inline_limit` (STALL_SECONDS, or the measured hand-off when slower) runs
inline, and anything slower (a big batch, a big model) still goes to the thread, where it
cannot stall the loop. Run times are learned per batch-size bucket (1, 2-3, 4-7, ... rows)
from the runs themselves, by the running thread's own CPU time, on the loop as in a worker
(real time counts the wait for the GIL and other processes' turns on the core too). The
one-row bucket is seeded by a timed warm run at load; a bucket never seen runs inline when
the one below it ran in under half the limit, else in the thread, which times it.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SMOOTHING = 0.1
"""Weight of the newest run in a bucket's moving average (about the last ten runs)."""
STALL_SECONDS = 300e-6
"""Runs measured faster than this (or than a hand-off, should that be slower) run inline.
A hand-off's true cost is more than the no-op's round trip `hand_off_seconds` times: the
worker waits for the GIL the loop holds, and the loop sleeps in epoll and is woken. Measured
in-process (whole app, mnist-mlp, one image per request, server CPU per request, inline
against thread): c=1 JSON 317-338 us against 479-568, c=8 JSON 214-263 against 291-303,
c=8 binary 172-180 against 203-222 (8-row runs of 106 us, above the 63 us no-op hand-off),
c=64 binary 148 against 156 (64-row runs of 630 us). The thread only pays where the loop
has other requests to decode while a long run goes on; 300 us lies between the two."""


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


def inline_limit(hand_off: float) -> float:
    """Seconds below which a measured run goes inline: STALL_SECONDS, or a slower hand-off."""
    return max(hand_off, STALL_SECONDS)


def bucket(rows: int) -> int:
    """0 for 1 row, 1 for 2-3, 2 for 4-7, ...: batches of like size share a figure."""
    return max(rows, 1).bit_length() - 1


class RunClock:
    """Moving averages of a model's run seconds per batch-size bucket, and the verdict."""

    def __init__(self, hand_off: float) -> None:
        self.hand_off = hand_off
        """Runs faster than this many seconds go inline (the app passes `inline_limit`)."""
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
        """Run on the loop: a batch this size has been measured and runs faster than
        `hand_off`; one never measured when the next smaller size runs in under half that
        (a run's time grows slower than its rows: 61 us for 1 row of mnist-mlp, 106 for 8)."""
        seconds = self.expected(rows)
        if seconds is None:  # never run: a bucket below, at twice its time, may vouch for it
            below = self._seconds.get(bucket(rows) - 1)
            return below is not None and 2 * below < self.hand_off
        return seconds < self.hand_off
