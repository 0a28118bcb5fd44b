"""The dynamic batcher on the committed mnist-mlp graph: gathering, splitting, isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from service.errors import BadRequest, Overloaded, QueueTimeout
from service.runtime.batching import Batcher, batch_rows, batchable
from service.runtime.clock import RunClock
from service.runtime.session import Runtime

Tensors = dict[str, np.ndarray]


@pytest.fixture(scope="module")
def runtime(models_dir: Path) -> Runtime:
    return Runtime.load(models_dir / "mnist-mlp" / "1" / "model.onnx", providers="cpu")


def images(n: int, seed: int) -> np.ndarray:
    """float32 [n, 784] of distinct, MNIST-normalized-looking values."""
    return np.random.default_rng(seed).normal(size=(n, 784)).astype(np.float32)


def gather(*calls: Awaitable[Tensors]) -> list[Tensors | BaseException]:
    """Start every call in the same loop turn, so all but the first queue behind it."""

    async def together() -> list[Any]:
        return await asyncio.gather(*calls, return_exceptions=True)

    return asyncio.run(together())


def expect(runtime: Runtime, x: np.ndarray, outputs: list[str] | None = None) -> Tensors:
    return runtime.run({"input": x}, outputs)


def assert_same(got: Tensors | BaseException, want: Tensors) -> None:
    assert not isinstance(got, BaseException), got
    assert sorted(got) == sorted(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6, err_msg=name)


def test_mnist_mlp_is_batchable(runtime: Runtime) -> None:
    assert batchable(runtime)


def test_one_request_under_light_load_runs_alone(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    x = images(3, seed=0)
    (got,) = gather(batcher.infer({"input": x}))
    assert_same(got, expect(runtime, x))
    assert (batcher.runs, batcher.largest) == (1, 3)


def test_concurrent_requests_share_a_run_and_get_their_own_rows(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=1024, max_wait_us=500)
    xs = [images(1 + i % 3, seed=i) for i in range(20)]
    results = gather(*(batcher.infer({"input": x}) for x in xs))
    for x, got in zip(xs, results, strict=True):
        assert_same(got, expect(runtime, x))
    # the first request goes at once, the other 19 queue behind it and share the second run
    assert batcher.runs == 2


def test_batches_never_exceed_max_size(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=4, max_wait_us=500)
    xs = [images(1, seed=i) for i in range(10)]
    results = gather(*(batcher.infer({"input": x}) for x in xs))
    for x, got in zip(xs, results, strict=True):
        assert_same(got, expect(runtime, x))
    assert batcher.largest == 4
    assert batcher.runs == 1 + 3  # 1 alone, then 9 queued in runs of 4, 4, 1


def test_a_request_larger_than_max_size_runs_alone(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=4, max_wait_us=500)
    big, small = images(9, seed=1), images(1, seed=2)
    got_big, got_small = gather(batcher.infer({"input": big}), batcher.infer({"input": small}))
    assert_same(got_big, expect(runtime, big))
    assert_same(got_small, expect(runtime, small))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"input": np.zeros((1, 783), np.float32)}, "shape"),
        ({"input": np.zeros((1, 784), np.float64)}, "datatype"),
        ({"input": np.zeros((1025, 784), np.float32)}, "more than the limit of 1024"),
        ({"input": np.zeros((0, 784), np.float32)}, "empty batch"),
        ({"pixels": np.zeros((1, 784), np.float32)}, "unexpected input"),
        ({}, "missing input"),
    ],
)
def test_a_malformed_request_fails_alone(runtime: Runtime, bad: Tensors, message: str) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    xs = [images(2, seed=i) for i in range(4)]
    calls = [batcher.infer({"input": x}) for x in xs[:2]]
    calls += [batcher.infer(bad), *(batcher.infer({"input": x}) for x in xs[2:])]
    results = gather(*calls)
    failed = results.pop(2)
    assert isinstance(failed, BadRequest)
    assert message in failed.message
    for x, got in zip(xs, results, strict=True):
        assert_same(got, expect(runtime, x))


def test_nan_rows_stay_in_their_own_request(runtime: Runtime) -> None:
    """NaN is refused when a body is decoded (service.protocol.tensors); should one reach the
    batcher anyway, the stacked run keeps it to its own rows."""
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    xs = [images(2, seed=i) for i in range(3)]
    nan = np.full((1, 784), np.nan, np.float32)
    calls = [batcher.infer({"input": x}) for x in xs]
    results = gather(calls[0], batcher.infer({"input": nan}), *calls[1:])
    assert np.isnan(results.pop(1)["probabilities"]).all()
    for x, got in zip(xs, results, strict=True):
        assert_same(got, expect(runtime, x))


def test_an_unknown_output_fails_alone(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    x = images(1, seed=3)
    good, bad = gather(batcher.infer({"input": x}), batcher.infer({"input": x}, ["nope"]))
    assert_same(good, expect(runtime, x))
    assert isinstance(bad, BadRequest)
    assert "unknown output 'nope'" in bad.message


def test_each_request_gets_only_the_outputs_it_asked_for(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    xs = [images(1, seed=i) for i in range(4)]
    asked: list[list[str] | None] = [None, ["probabilities"], ["logits"], None]
    results = gather(*(batcher.infer({"input": x}, o) for x, o in zip(xs, asked, strict=True)))
    for x, outputs, got in zip(xs, asked, results, strict=True):
        assert_same(got, expect(runtime, x, outputs))


def test_a_cancelled_request_leaves_its_batch_mates_served(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    xs = [images(1, seed=i) for i in range(5)]

    async def scenario() -> list[Tensors]:
        first = asyncio.ensure_future(batcher.infer({"input": xs[0]}))
        await asyncio.sleep(0)  # dispatched; the next ones queue behind it
        queued = [asyncio.ensure_future(batcher.infer({"input": x})) for x in xs[1:]]
        await asyncio.sleep(0)
        queued[1].cancel()
        done = await asyncio.gather(first, queued[0], *queued[2:])
        return list(done)

    results = asyncio.run(scenario())
    for x, got in zip([xs[0], xs[1], *xs[3:]], results, strict=True):
        assert_same(got, expect(runtime, x))


def test_the_batcher_keeps_serving_after_a_failure(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=500)
    x = images(1, seed=4)
    (failed,) = gather(batcher.infer({"input": x[:, :10]}))
    assert isinstance(failed, BadRequest)
    (got,) = gather(batcher.infer({"input": x}))
    assert_same(got, expect(runtime, x))


def test_inputs_that_disagree_on_the_batch_size_are_refused() -> None:
    feeds = {"a": np.zeros((2, 1), np.float32), "b": np.zeros((3, 1), np.float32)}
    with pytest.raises(BadRequest, match="disagree"):
        batch_rows(feeds)


def test_past_the_queue_limit_a_request_is_refused_at_once(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=1, max_wait_us=500, queue_limit=2)
    xs = [images(1, seed=i) for i in range(4)]
    results = gather(*(batcher.infer({"input": x}) for x in xs))
    # the first runs at once, two wait (the limit), the fourth is shed without running
    refused = results.pop()
    assert isinstance(refused, Overloaded) and refused.status_code == 503
    assert refused.headers == {"retry-after": "1"}
    assert "2 requests queued" in refused.message
    for x, got in zip(xs, results, strict=False):
        assert_same(got, expect(runtime, x))
    assert (batcher.runs, batcher.queue.shed) == (3, 1)


def test_a_request_queued_past_its_timeout_is_answered_not_run(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=1, max_wait_us=500)
    big, small = images(1024, seed=5), images(1, seed=6)
    first, late, patient = gather(
        batcher.infer({"input": big}),  # runs for a millisecond or more
        batcher.infer({"input": small}, timeout_us=1),  # waits behind it: too long
        batcher.infer({"input": small}),  # no timeout: waits as long as it takes
    )
    assert_same(first, expect(runtime, big))
    assert isinstance(late, QueueTimeout) and late.status_code == 503
    assert "parameters.timeout of 1 us" in late.message
    assert_same(patient, expect(runtime, small))
    assert (batcher.runs, batcher.queue.expired) == (2, 1)


def test_with_a_clock_a_measured_fast_batch_runs_on_the_loop(runtime: Runtime) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=1, clock=RunClock(hand_off=1.0))
    xs = [images(1, seed=i) for i in range(5)]
    first = gather(*(batcher.infer({"input": x}) for x in xs))  # one loop turn: one run
    assert (batcher.runs, batcher.inline_runs, batcher.largest) == (1, 0, 5)  # not yet timed
    again = gather(*(batcher.infer({"input": x}) for x in xs))
    assert (batcher.runs, batcher.inline_runs) == (2, 1)  # timed now: below the hand-off
    for x, got, got_again in zip(xs, first, again, strict=True):
        assert_same(got, expect(runtime, x))
        assert_same(got_again, expect(runtime, x))


def test_with_a_clock_a_batch_slower_than_the_hand_off_stays_in_the_thread(
    runtime: Runtime,
) -> None:
    batcher = Batcher(runtime, max_size=64, max_wait_us=1, clock=RunClock(hand_off=1e-9))
    x = images(2, seed=7)
    for _ in range(3):
        (got,) = gather(batcher.infer({"input": x}))
        assert_same(got, expect(runtime, x))
    assert (batcher.runs, batcher.inline_runs) == (3, 0)
