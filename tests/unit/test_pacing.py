"""Pacing per webhook: the token bucket's arithmetic and the pacer on an injected clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.delivery.pacing import Pacer, TokenBucket


def test_one_a_second_without_burst() -> None:
    bucket = TokenBucket(rate=1.0)
    assert [bucket.reserve(10.0) for _ in range(3)] == [0.0, 1.0, 2.0]
    assert bucket.reserve(20.0) == 0.0  # idle time refills


def test_a_burst_goes_at_once_then_the_rate_holds() -> None:
    bucket = TokenBucket(rate=1.0, burst=3)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]


def test_pause_blocks_and_forgoes_the_burst() -> None:
    bucket = TokenBucket(rate=1.0, burst=3)
    bucket.pause(0.0, 30.0)
    assert bucket.free_at() == 30.0
    assert [bucket.reserve(0.0) for _ in range(2)] == [30.0, 31.0]


def test_bad_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 10),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=60),
)
def test_no_window_sees_more_than_burst_plus_rate(
    rate: float, burst: int, gaps: list[float]
) -> None:
    bucket = TokenBucket(rate, burst)
    now, sends = 0.0, []
    for gap in gaps:
        now += gap
        sends.append(now + bucket.reserve(now))
    assert sends == sorted(sends)
    for i, first in enumerate(sends):
        within = [t for t in sends[i:] if t < first + 1.0]
        assert len(within) <= burst + rate + 1e-6


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_sleeps_on_its_clock() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, 1, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        pacer.wait()
    assert clock.slept == [0.5, 0.5]
    pacer.pause(10)
    assert pacer.blocked_for() == 10.0
    pacer.wait()
    assert clock.slept[-1] == 10.0


def test_pacer_without_rate_only_honours_pauses() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        pacer.wait()
    assert sum(clock.slept) < 1e-6
    pacer.pause(3)
    pacer.wait()
    assert clock.slept[-1] == pytest.approx(3.0)
