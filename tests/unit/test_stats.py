"""Summary statistics on known values, and the instability and small-sample flags."""

from __future__ import annotations

import math

import pytest

from bench.stats import Summary, is_unstable, small_sample, summarize


def test_known_values() -> None:
    summary = summarize([1, 2, 3, 10])
    assert summary is not None
    assert summary.count == 4
    assert summary.median == 2.5
    assert (summary.minimum, summary.maximum) == (1.0, 10.0)
    assert summary.mean == 4.0
    # Sample standard deviation: squared deviations 9 + 4 + 1 + 36 = 50, over n - 1 = 3.
    assert summary.stdev == pytest.approx(math.sqrt(50 / 3))
    assert summary.cv == pytest.approx(math.sqrt(50 / 3) / 4)
    assert is_unstable(summary)
    assert not small_sample(summary)


def test_odd_count_median_and_stable_spread() -> None:
    summary = summarize([14.12, 13.87, 14.40])
    assert summary is not None
    assert summary.median == 14.12
    assert summary.cv is not None and summary.cv < 0.02
    assert not is_unstable(summary)


def test_no_values_gives_none() -> None:
    assert summarize([]) is None
    assert summarize(iter(())) is None


def test_single_value_has_no_spread() -> None:
    summary = summarize([0.2])
    assert summary is not None
    assert (summary.count, summary.median, summary.stdev, summary.cv) == (1, 0.2, None, None)
    assert small_sample(summary)
    assert not is_unstable(summary)


def test_mean_zero_has_no_cv() -> None:
    summary = summarize([0.0, 0.0])
    assert summary is not None
    assert summary.stdev == 0.0
    assert summary.cv is None


@pytest.mark.parametrize(("cv", "unstable"), [(0.0999, False), (0.10, True), (0.5, True)])
def test_unstable_threshold_is_ten_percent(cv: float, unstable: bool) -> None:
    summary = Summary(count=3, median=1.0, minimum=0.9, maximum=1.1, mean=1.0, stdev=cv, cv=cv)
    assert is_unstable(summary) is unstable


@pytest.mark.parametrize(("count", "small"), [(1, True), (2, True), (3, False), (10, False)])
def test_small_sample_below_three(count: int, small: bool) -> None:
    summary = summarize([1.0] * count)
    assert summary is not None
    assert small_sample(summary) is small


def test_rejects_non_finite_values() -> None:
    with pytest.raises(ValueError, match="finite"):
        summarize([1.0, math.nan])


def test_summary_rejects_impossible_values() -> None:
    with pytest.raises(ValueError):
        Summary(count=0, median=1.0, minimum=1.0, maximum=1.0, mean=1.0, stdev=None, cv=None)
    with pytest.raises(ValueError):
        Summary(count=2, median=5.0, minimum=1.0, maximum=2.0, mean=1.5, stdev=0.7, cv=0.5)
