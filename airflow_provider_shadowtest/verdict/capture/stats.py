"""Pure statistics of the capture comparison: Wilson and quantile intervals, PSI, the KS statistic.

numpy and scipy are imported when a function needs them, never at module import.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Proportion given to an empty PSI bin, so that the logarithm stays finite.
PSI_FLOOR = 1e-4
#: Multinomial resamples for the PSI interval (cheap: bin counts only).
PSI_RESAMPLES = 400


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for ``confidence`` (0.95 -> 1.96)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion, as fractions; ``(0, 1)`` without trials."""
    if trials <= 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def quantile_interval(sorted_values: Any, quantile: float, confidence: float) -> tuple[float, float, float]:
    """Return ``(estimate, low, high)`` of a quantile, distribution-free (binomial order statistics).

    :param sorted_values: ascending numbers (a numpy array or a sequence); not empty.
    :param quantile: between 0 and 1.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no values")
    z = z_value(confidence)
    position = quantile * (n - 1)
    spread = z * math.sqrt(n * quantile * (1 - quantile))
    low_rank = max(0, math.floor(position - spread))
    high_rank = min(n - 1, math.ceil(position + spread))
    below, above = math.floor(position), math.ceil(position)
    estimate = float(sorted_values[below]) + (position - below) * (
        float(sorted_values[above]) - float(sorted_values[below])
    )
    return estimate, float(sorted_values[low_rank]), float(sorted_values[high_rank])


def psi(expected_counts: Sequence[float], actual_counts: Sequence[float]) -> float:
    """Population stability index of two histograms over the same bins."""
    expected_total, actual_total = sum(expected_counts), sum(actual_counts)
    if expected_total <= 0 or actual_total <= 0:
        return float("nan")
    value = 0.0
    for expected, actual in zip(expected_counts, actual_counts, strict=True):
        e = max(expected / expected_total, PSI_FLOOR)
        a = max(actual / actual_total, PSI_FLOOR)
        value += (a - e) * math.log(a / e)
    return value


def psi_with_interval(production: Any, shadow: Any, bins: int, confidence: float, seed: int = 0) -> dict[str, Any]:
    """PSI of the shadow's scores against production's, bins at production's quantiles.

    The interval resamples both histograms (multinomial, :data:`PSI_RESAMPLES` times, seeded).

    :param production: production scores (numpy array, not empty).
    :param shadow: shadow scores (numpy array, not empty).
    :return: ``{"psi", "low", "high", "edges", "production_counts", "shadow_counts"}``.
    """
    import numpy as np

    edges = np.unique(np.quantile(production, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, production, side="right"), minlength=len(edges) + 1)
    actual = np.bincount(np.searchsorted(edges, shadow, side="right"), minlength=len(edges) + 1)
    estimate = psi(expected.tolist(), actual.tolist())
    rng = np.random.default_rng(seed)
    draws_expected = rng.multinomial(int(expected.sum()), expected / expected.sum(), size=PSI_RESAMPLES)
    draws_actual = rng.multinomial(int(actual.sum()), actual / actual.sum(), size=PSI_RESAMPLES)
    e = np.maximum(draws_expected / draws_expected.sum(axis=1, keepdims=True), PSI_FLOOR)
    a = np.maximum(draws_actual / draws_actual.sum(axis=1, keepdims=True), PSI_FLOOR)
    resampled = np.sum((a - e) * np.log(a / e), axis=1)
    alpha = 1 - confidence
    low, high = np.quantile(resampled, [alpha / 2, 1 - alpha / 2])
    return {
        "psi": estimate,
        "low": min(float(low), estimate),
        "high": max(float(high), estimate),
        "edges": [float(x) for x in edges],
        "production_counts": [int(x) for x in expected],
        "shadow_counts": [int(x) for x in actual],
    }


def ks_with_interval(production: Any, shadow: Any, confidence: float) -> dict[str, float]:
    """Two-sample Kolmogorov-Smirnov statistic with a distribution-free interval.

    The interval follows the Dvoretzky-Kiefer-Wolfowitz bound: each empirical CDF lies within
    ``sqrt(ln(4 / alpha) / (2 n))`` of its true CDF (alpha split between the two samples),
    so the true largest distance lies within the sum of both bounds of the observed one.

    :return: ``{"statistic", "low", "high", "pvalue"}``.
    """
    from scipy import stats

    result = stats.ks_2samp(production, shadow, method="asymp")
    alpha = 1 - confidence
    bound = math.sqrt(math.log(4 / alpha) / (2 * len(production))) + math.sqrt(math.log(4 / alpha) / (2 * len(shadow)))
    statistic = float(result.statistic)
    return {
        "statistic": statistic,
        "low": max(0.0, statistic - bound),
        "high": min(1.0, statistic + bound),
        "pvalue": float(result.pvalue),
    }
