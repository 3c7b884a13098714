"""The intervals: published critical values and examples, coverage, scipy agreement."""

from __future__ import annotations

import math
import random

import pytest
from scipy.stats import binomtest

from airflow_provider_shadowtest.verdict.intervals import (
    _signed_rank_critical,
    difference_interval,
    hodges_lehmann,
    ratio_interval,
    wilson,
)


@pytest.mark.parametrize(("n", "table_value"), [(10, 8), (20, 52), (30, 137), (50, 434)])
def test_signed_rank_critical_values_match_the_published_table(n: int, table_value: int) -> None:
    # Two-sided 5 % critical values of Wilcoxon's T; the interval uses the next Walsh average.
    assert _signed_rank_critical(n, 0.025) == table_value + 1


def test_normal_approximation_continues_the_exact_values() -> None:
    exact, approx = _signed_rank_critical(60, 0.025), _signed_rank_critical(61, 0.025)
    assert 0 < approx - exact < 40


def test_hodges_lehmann_covers_the_true_shift_at_the_stated_confidence() -> None:
    rng = random.Random(7)
    covered = 0
    for _ in range(400):
        data = [0.3 + rng.gauss(0, 1) for _ in range(25)]
        interval = hodges_lehmann(data, 95)
        assert interval is not None
        covered += interval.low <= 0.3 <= interval.high
    assert 0.92 <= covered / 400 <= 0.98


def test_too_few_values_give_an_unbounded_interval() -> None:
    interval = hodges_lehmann([1.0, 2.0, 3.0], 95)
    assert interval is not None
    assert interval.low == -math.inf
    assert interval.high == math.inf
    assert hodges_lehmann([], 95) is None


def test_ratio_interval_is_a_relative_change_in_percent() -> None:
    pairs = [(40.0 * (1 + i / 100), 50.0 * (1 + i / 100)) for i in range(20)]
    interval = ratio_interval(pairs, 95)
    assert interval is not None
    assert interval.estimate == pytest.approx(25.0)
    assert interval.low == pytest.approx(25.0)
    assert interval.high == pytest.approx(25.0)


@pytest.mark.parametrize(("k", "n", "confidence"), [(0, 10, 95), (3, 50, 95), (40, 1000, 99.9), (10, 10, 90)])
def test_wilson_agrees_with_scipy(k: int, n: int, confidence: float) -> None:
    expected = binomtest(k, n).proportion_ci(confidence / 100, method="wilson")
    low, high = wilson(k, n, confidence)
    assert low == pytest.approx(expected.low)
    assert high == pytest.approx(expected.high)


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), method 10: 56/70 vs 48/80 gives 0.2000 (0.0524, 0.3339).
    interval = difference_interval(48, 80, 56, 70, 95)
    assert interval is not None
    assert interval.estimate == pytest.approx(20.0)
    assert interval.low == pytest.approx(5.24, abs=0.01)
    assert interval.high == pytest.approx(33.39, abs=0.01)
    assert difference_interval(0, 0, 1, 10, 95) is None


def test_confidence_out_of_range_is_named() -> None:
    with pytest.raises(ValueError, match="confidence_percent"):
        hodges_lehmann([1.0] * 10, 100)
