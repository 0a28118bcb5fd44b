"""When a batch runs on the event loop: measured run time against a measured hand-off."""

from __future__ import annotations

import pytest

from service.runtime.clock import STALL_SECONDS, RunClock, bucket, hand_off_seconds, inline_limit


@pytest.mark.parametrize(("rows", "expected"), [(1, 0), (2, 1), (3, 1), (4, 2), (7, 2), (8, 3)])
def test_batches_of_like_size_share_a_bucket(rows: int, expected: int) -> None:
    assert bucket(rows) == expected


def test_a_size_never_measured_goes_to_the_thread() -> None:
    clock = RunClock(hand_off=100e-6)
    assert clock.expected(1) is None
    assert not clock.inline(1)


def test_runs_faster_than_the_hand_off_go_inline_and_slower_ones_do_not() -> None:
    clock = RunClock(hand_off=100e-6)
    clock.record(1, 40e-6)
    clock.record(64, 700e-6)
    assert clock.inline(1)
    assert not clock.inline(64)
    assert not clock.inline(32)  # never measured, and 64's bucket is no smaller one


def test_a_size_never_measured_runs_inline_only_when_the_size_below_is_fast() -> None:
    clock = RunClock(hand_off=100e-6)
    clock.record(1, 40e-6)
    assert clock.inline(2)  # 2 x 40 us < 100 us
    assert not clock.inline(4)  # two buckets up: nothing vouches for it
    clock.record(1, 60e-6)  # the average is now 42 us
    clock.record(2, 60e-6)
    assert not clock.inline(4)  # 2 x 60 us > 100 us


def test_a_slow_hand_off_raises_the_inline_limit_and_a_fast_one_does_not() -> None:
    assert inline_limit(10e-6) == STALL_SECONDS
    assert inline_limit(2 * STALL_SECONDS) == 2 * STALL_SECONDS


def test_the_verdict_follows_the_moving_average() -> None:
    clock = RunClock(hand_off=100e-6)
    clock.record(1, 40e-6)
    for _ in range(50):  # the machine got busy: runs now take 300 us
        clock.record(1, 300e-6)
    assert clock.expected(1) == pytest.approx(300e-6, rel=0.01)
    assert not clock.inline(1)


def test_a_hand_off_is_measured_in_real_time() -> None:
    seconds = hand_off_seconds(repeats=20)
    assert 0 < seconds < 0.1
