"""Dynamic batching: concurrent requests for one model gathered into one `session.run`.

A request is checked against the graph before it joins the queue, so a malformed one fails
alone and never poisons a batch. When nothing is running the request is dispatched at once:
under light load batching adds no wait. While a batch runs in its worker thread, new requests
queue up; when it finishes, the queue becomes the next batch (up to `max_size` rows),
optionally after lingering up to `max_wait_us` for stragglers. The rows of each output are
then sliced back to the requests they came from, in order.

    request ─ check ─▶ queue ─▶ [idle? dispatch now] ─▶ thread: concatenate → run → split
                          ▲                                          │
                          └──── next batch when this one is done ◀───┘

The queue is bounded (runtime/queue.py: past `infer_queue_limit` a request is refused at
once, 503 + Retry-After) and a queued request past its own `parameters.timeout` is answered,
not run. With a RunClock (runtime/clock.py) a batch whose measured run is faster than a
thread hand-off runs on the loop itself, and an idle batcher waits one loop turn so that
turn's arrivals share the run; measured with wrk, one worker, V2 JSON, one image: server CPU
per request 637 -> 498 us at c=1, 482 -> 345 at c=8 (binary 519 -> 372 and 362 -> 260).

Everything but the run happens on the event loop thread, in plain callbacks (no tasks), so a
client that disconnects only cancels its own future, never the batch it is part of. One batch
per model runs at a time: a run is one onnxruntime call, and the gain is fewer calls and
fewer thread hand-offs, which cost more than a one-image MLP run on a busy 2-core machine.
Measured there (server CPU per request, V2 binary, one image, 2 workers): 470 us unbatched
against 210 us batched at concurrency 64, 471 against 417 at 8; lingering did not pay
(c=8: 200 us of CPU per request at a 1 us wait, 236 at 300 us, 286 at 1,500 us).
"""

from __future__ import annotations

import asyncio
import time
from functools import cache
from typing import Any

import numpy as np

from service.config import Settings
from service.errors import BadRequest, Unavailable
from service.runtime.clock import RunClock, hand_off_seconds, inline_limit
from service.runtime.queue import InferQueue, Pending
from service.runtime.session import Runtime

Tensors = dict[str, np.ndarray]
Results = list[Tensors | Exception]


@cache
def measured_hand_off() -> float:
    """One thread hand-off's cost, measured once per process (a few milliseconds)."""
    return hand_off_seconds()


def batchable(runtime: Runtime) -> bool:
    """True when every input and output has a dynamic batch axis first and fixed dims after it,
    so requests can be stacked along axis 0 and their outputs split the same way."""
    tensors = [*runtime.inputs, *runtime.outputs]
    return all(
        len(info.shape) >= 1 and info.shape[0] < 0 and all(d >= 0 for d in info.shape[1:])
        for info in tensors
    )


def batch_rows(feeds: Tensors) -> int:
    """The batch size every input agrees on; BadRequest when they disagree."""
    sizes = {array.shape[0] for array in feeds.values()}
    if len(sizes) != 1:
        raise BadRequest(f"inputs disagree on the batch size: {sorted(sizes)}")
    return int(sizes.pop())


def run_batch(runtime: Runtime, batch: list[Pending]) -> list[Tensors | Exception]:
    """Blocking, in the worker thread: one run for the whole batch, split back per request.
    Should the stacked run fail anyway, each request runs alone, so only its culprit fails."""
    if len(batch) > 1:
        try:
            return _run_stacked(runtime, batch)
        except Exception:  # any failure: run them one by one, below
            pass
    return [_run_alone(runtime, pending) for pending in batch]


def _run_stacked(runtime: Runtime, batch: list[Pending]) -> list[Tensors | Exception]:
    names = _union(runtime, batch)
    stacked = {name: np.concatenate([p.feeds[name] for p in batch]) for name in batch[0].feeds}
    values = runtime.run_unchecked(names, stacked)  # every feed was checked before queueing
    results: list[Tensors | Exception] = []
    start = 0
    for pending in batch:
        stop = start + pending.rows
        wanted = names if pending.outputs is None else pending.outputs
        results.append(
            {n: v[start:stop] for n, v in zip(names, values, strict=True) if n in wanted}
        )
        start = stop
    return results


def _run_alone(runtime: Runtime, pending: Pending) -> Tensors | Exception:
    names = runtime.output_names() if pending.outputs is None else pending.outputs
    try:  # the feeds were checked before queueing: straight to the session
        values = runtime.run_unchecked(names, pending.feeds)
    except Exception as exc:  # handed to that request's future, raised in its handler
        return exc
    return dict(zip(names, values, strict=True))


def _union(runtime: Runtime, batch: list[Pending]) -> list[str]:
    """Every output some request of the batch asked for (all when one asked for none)."""
    if any(p.outputs is None for p in batch):
        return runtime.output_names()
    wanted = {name for p in batch for name in p.outputs or ()}
    return [name for name in runtime.output_names() if name in wanted]


class Batcher:
    """Gathers concurrent `infer` calls on one runtime into shared runs, one batch at a time."""

    def __init__(
        self,
        runtime: Runtime,
        max_size: int,
        max_wait_us: int,
        *,
        queue_limit: int = 1 << 30,
        clock: RunClock | None = None,
        name: str = "model",
    ) -> None:
        self.runtime = runtime
        self.max_size = max(1, min(max_size, runtime.max_batch_size))
        self.max_wait = max_wait_us / 1e6
        self.clock = clock
        """Set: batches measured faster than a thread hand-off run on the loop (clock.py),
        and an idle batcher waits one loop turn so that turn's arrivals share the run."""
        self._queue = InferQueue(queue_limit, name)
        self._busy = False
        self._linger: asyncio.TimerHandle | None = None
        self.runs = 0
        """session.run calls so far (each serving one batch)."""
        self.inline_runs = 0
        """Of those, the ones run on the event loop."""
        self.largest = 0
        """Most rows one run has carried."""

    @property
    def queue(self) -> InferQueue:
        return self._queue

    async def infer(
        self, feeds: Tensors, outputs: list[str] | None = None, timeout_us: int | None = None
    ) -> Tensors:
        """Check `feeds`, queue them, and await their rows of the next batch's outputs;
        Overloaded when the queue is full, QueueTimeout when it waited past `timeout_us`."""
        self.runtime.check(feeds)
        if outputs is not None:
            self.runtime.select_outputs(outputs)
        loop = asyncio.get_running_loop()
        pending = Pending(feeds, outputs, batch_rows(feeds), loop.create_future())
        pending.timeout_us = timeout_us
        self._queue.put(pending)
        if not self._busy:
            self._start(loop)
        elif self._linger is not None and self._queue.rows() >= self.max_size:
            self._linger.cancel()
            self._dispatch()
        return await pending.future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.clock is None:
            self._dispatch()
        else:  # busy until the next loop turn, so what arrives in this one joins the batch
            self._busy = True
            loop.call_soon(self._dispatch)

    def _dispatch(self) -> None:
        self._busy, self._linger = True, None
        batch = self._queue.take(self.max_size)
        if not batch:  # every queued request had expired or gone
            self._busy = False
            return
        rows = sum(p.rows for p in batch)
        self.runs += 1
        self.largest = max(self.largest, rows)
        if self.clock is not None and self.clock.inline(rows):
            self.inline_runs += 1
            self._hand_out(batch, self._run(batch))
            return
        loop = asyncio.get_running_loop()
        running = loop.run_in_executor(None, self._run, batch)
        running.add_done_callback(lambda done: self._deliver(batch, done))

    def _run(self, batch: list[Pending]) -> Results:
        """One batch, timed for the clock by the running thread's own CPU time, on the loop as
        in a worker: real time also counts the wait for the GIL (in a worker, while the loop
        decodes the next requests: 0.5 ms measured for a one-image run) and, on the loop, the
        time other processes held the core (on a busy 2-core machine a one-image run's real
        time passed 300 us in a third of the runs, so they flapped between loop and thread)."""
        start = time.thread_time()
        results = run_batch(self.runtime, batch)
        seconds = time.thread_time() - start
        if self.clock is not None:
            self.clock.record(sum(p.rows for p in batch), seconds)
        return results

    def _deliver(
        self, batch: list[Pending], done: asyncio.Future[list[Tensors | Exception]]
    ) -> None:
        """On the loop, after a thread run: its results, or the thread's failure for all."""
        if done.cancelled():  # the executor went away under it (the loop is shutting down)
            outcome: BaseException | None = Unavailable("inference was cancelled")
        else:
            outcome = done.exception()
        self._hand_out(batch, [outcome] * len(batch) if outcome else done.result())

    def _hand_out(self, batch: list[Pending], results: list[Any]) -> None:
        """Each request its result, then the next batch."""
        for pending, result in zip(batch, results, strict=True):
            if pending.future.done():  # its client went away
                continue
            if isinstance(result, BaseException):
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)
        self._next()

    def _next(self) -> None:
        if not self._queue:
            self._busy = False
            return
        loop = asyncio.get_running_loop()
        if self.max_wait > 0 and self._queue.rows() < self.max_size:
            self._linger = loop.call_later(self.max_wait, self._dispatch)
        elif self.clock is not None:  # after an inline run: let the loop breathe first
            loop.call_soon(self._dispatch)
        else:
            self._dispatch()


def dynamic_batcher(runtime: Runtime, settings: Settings, name: str = "model") -> Batcher | None:
    """The batcher the settings ask for, or None: off (batch_max_wait_us=0), or a graph whose
    tensors cannot be stacked along a batch axis."""
    if settings.batch_max_wait_us <= 0 or not batchable(runtime):
        return None
    clock = None
    if settings.batch_inline:
        clock = RunClock(inline_limit(measured_hand_off()))
        start = time.thread_time()  # a warm one-row run, timed as _run times them
        runtime.warm_up()
        clock.record(1, time.thread_time() - start)
    return Batcher(
        runtime, settings.batch_max_size, settings.batch_max_wait_us,
        queue_limit=settings.infer_queue_limit, clock=clock, name=name,
    )  # fmt: skip
