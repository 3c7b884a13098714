"""Pure: the confidence intervals the judge decides from (scipy and numpy imported on first use).

- :func:`ratio_interval`: Hodges-Lehmann estimate and Wilcoxon signed-rank interval of the
  per-period log-ratio shadow/production, returned as a relative change in percent. Pairing by
  period removes what hits both variants in the same minute (load, spikes, diurnal swings).
- :func:`difference_interval`: Newcombe's hybrid score interval (Wilson intervals combined) of
  the difference of two proportions, in percentage points.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import math
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Beyond this many paired periods the exact signed-rank distribution gives way to the normal one.
_EXACT_UP_TO: Final = 60
#: Beyond this many periods consecutive ones are averaged in blocks (Walsh averages grow as n²).
_MAX_PERIODS: Final = 1500


@dataclasses.dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval; ``low``/``high`` None when unbounded."""

    estimate: float
    low: float
    high: float
    confidence_percent: float
    method: str
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2.0

    def to_json(self) -> dict[str, Any]:
        """Return the interval as plain JSON."""
        return dataclasses.asdict(self)


def _check_confidence(confidence_percent: float) -> float:
    if not 50.0 <= confidence_percent < 100.0:
        raise ValueError(f"confidence_percent: expected a number in [50, 100), got {confidence_percent!r}")
    return confidence_percent / 100.0


@functools.lru_cache(maxsize=_EXACT_UP_TO)
def _signed_rank_cdf(n: int) -> tuple[float, ...]:
    """P(T <= s) for s = 0 .. n(n+1)/2, T the signed-rank statistic of n pairs under no shift."""
    total = n * (n + 1) // 2
    counts = [1] + [0] * total  # number of subsets of 1..n with each rank sum
    for r in range(1, n + 1):
        for s in range(total, r - 1, -1):
            counts[s] += counts[s - r]
    return tuple(itertools.accumulate(c / 2.0**n for c in counts))


def _signed_rank_critical(n: int, alpha_each_side: float) -> int:
    """Largest k with P(T <= k - 1) <= alpha_each_side for the signed-rank statistic T of n pairs.

    The interval is then the k-th smallest to the k-th largest Walsh average.
    """
    if n <= _EXACT_UP_TO:
        # Slack for float rounding, so a tail of exactly alpha counts as within it.
        return bisect.bisect_right(_signed_rank_cdf(n), alpha_each_side * (1 + 1e-9))
    from scipy.stats import norm

    mean = n * (n + 1) / 4.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
    return max(0, math.floor(mean - float(norm.ppf(1.0 - alpha_each_side)) * sd + 0.5))


@functools.lru_cache(maxsize=32)
def _sorted_walsh_averages(data: tuple[float, ...]) -> Any:
    """All pairwise means (i <= j), sorted; cached because a check asks at two confidence levels."""
    import numpy as np

    values = np.asarray(data, dtype=float)
    rows, cols = np.triu_indices(values.size)
    return np.sort((values[rows] + values[cols]) / 2.0)


def hodges_lehmann(values: Sequence[float], confidence_percent: float) -> Interval | None:
    """Hodges-Lehmann estimate of the centre of ``values`` with its Wilcoxon signed-rank interval.

    Assumes the values are independent and symmetric about their centre; None when there are
    too few values for any interval at this confidence.
    """
    import numpy as np

    level = _check_confidence(confidence_percent)
    data = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if data.size > _MAX_PERIODS:  # block means keep the n² Walsh averages bounded
        size = math.ceil(data.size / _MAX_PERIODS)
        usable = data.size - data.size % size
        data = data[:usable].reshape(-1, size).mean(axis=1)
    n = int(data.size)
    if n == 0:
        return None
    k = _signed_rank_critical(n, (1.0 - level) / 2.0)
    walsh = _sorted_walsh_averages(tuple(data.tolist()))
    estimate = float(np.median(walsh))
    if k < 1:
        return Interval(estimate, -math.inf, math.inf, confidence_percent, "Hodges-Lehmann/Wilcoxon", n)
    return Interval(
        estimate, float(walsh[k - 1]), float(walsh[walsh.size - k]), confidence_percent, "Hodges-Lehmann/Wilcoxon", n
    )


def ratio_interval(pairs: Sequence[tuple[float, float]], confidence_percent: float) -> Interval | None:
    """Relative change of shadow over production, in percent, from per-period ``(production, shadow)`` pairs.

    Periods where either value is not positive are left out (a log-ratio needs both).
    """
    logs = [math.log(s / p) for p, s in pairs if p > 0 and s > 0]
    centre = hodges_lehmann(logs, confidence_percent)
    if centre is None:
        return None

    def percent(x: float) -> float:
        return 100.0 * math.expm1(x) if math.isfinite(x) else x

    return dataclasses.replace(
        centre,
        estimate=percent(centre.estimate),
        low=percent(centre.low) if math.isfinite(centre.low) else -100.0,
        high=percent(centre.high),
        method="Hodges-Lehmann/Wilcoxon signed-rank on per-minute log-ratios",
    )


@functools.lru_cache(maxsize=256)
def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.isf((1.0 - level) / 2.0))


def wilson(successes: float, trials: float, confidence_percent: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (the closed form scipy's ``binomtest(...).proportion_ci`` uses)."""
    level = _check_confidence(confidence_percent)
    n = float(round(trials))
    if n < 1:
        raise ValueError(f"trials: expected at least 1, got {trials!r}")
    p = min(float(round(successes)), n) / n
    z = _z(level)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def difference_interval(
    production_errors: float,
    production_trials: float,
    shadow_errors: float,
    shadow_trials: float,
    confidence_percent: float,
) -> Interval | None:
    """Shadow's error rate minus production's, in percentage points, with Newcombe's hybrid score interval.

    None when either variant has no trials.
    """
    if production_trials < 1 or shadow_trials < 1:
        return None
    p1, p2 = production_errors / production_trials, shadow_errors / shadow_trials
    l1, u1 = wilson(production_errors, production_trials, confidence_percent)
    l2, u2 = wilson(shadow_errors, shadow_trials, confidence_percent)
    diff = p2 - p1
    low = diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    n = round(shadow_trials)
    return Interval(100.0 * diff, 100.0 * low, 100.0 * high, confidence_percent, "Newcombe hybrid score", n)
