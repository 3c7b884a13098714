"""CloudWatch statistics over raw samples, including percentiles (pure: no moto, no I/O).

moto's CloudWatch computes Sum/Average/Minimum/Maximum/SampleCount only. This module is the
query engine the emulator puts in its place: samples are bucketed into periods aligned the
way CloudWatch aligns them, and every statistic, including ``pNN`` percentiles, is computed
per bucket from the values kept in the samples.

All datetimes are naive UTC (moto's convention); :func:`naive_utc` converts at the edges.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The statistics CloudWatch calls "Statistics" (the rest are "ExtendedStatistics").
STANDARD_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

_PERCENTILE = re.compile(r"^p(\d{1,3}(?:\.\d{1,10})?)$")
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Sample:
    """One stored datapoint: a single value or a statistic set, optionally with its raw values.

    :param values: ``(value, weight)`` pairs the percentiles are computed from; ``None`` when
        only the statistic set is known (``PutMetricData`` with ``StatisticValues``).
    :param percentiles: ``False`` when CloudWatch has no percentiles for this datapoint at all
        (the emulator's switch ``percentiles_available``): its period answers none.
    """

    namespace: str
    metric_name: str
    dimensions: frozenset[tuple[str, str]]
    timestamp: datetime
    unit: str | None
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    values: tuple[tuple[float, float], ...] | None = None
    percentiles: bool = True

    @classmethod
    def single(
        cls,
        namespace: str,
        metric_name: str,
        dimensions: frozenset[tuple[str, str]],
        *,
        timestamp: datetime,
        value: float,
        unit: str | None = None,
    ) -> Sample:
        """Build the sample of one ``PutMetricData`` value."""
        return cls(namespace, metric_name, dimensions, timestamp, unit, 1.0, value, value, value, ((value, 1.0),))


@dataclass
class Bucket:
    """The samples of one period, merged."""

    timestamp: datetime
    unit: str | None = None
    sample_count: float = 0.0
    sum: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[tuple[float, float]] = field(default_factory=list)
    _sorted: bool = False
    no_percentiles: bool = False

    def add(self, sample: Sample) -> None:
        """Merge one sample into the bucket."""
        self.unit = sample.unit
        self.sample_count += sample.sample_count
        self.sum += sample.sum
        self.minimum = min(self.minimum, sample.minimum)
        self.maximum = max(self.maximum, sample.maximum)
        if not sample.percentiles:
            self.no_percentiles = True
        elif sample.values is not None:
            self.values.extend(sample.values)
        elif sample.minimum == sample.maximum:
            # A statistic set whose values are all equal still has known percentiles.
            self.values.append((sample.minimum, sample.sample_count))
        self._sorted = False

    def statistic(self, name: str) -> float | None:
        """Return statistic ``name`` (a standard statistic or ``pNN``), ``None`` if unknown."""
        if name == "SampleCount":
            return self.sample_count
        if name == "Sum":
            return self.sum
        if name == "Average":
            return self.sum / self.sample_count if self.sample_count else None
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        return self.percentile(parse_percentile(name))

    def percentile(self, percent: float) -> float | None:
        """Return the weighted nearest-rank percentile of the raw values, ``None`` without values."""
        if not self.values or self.no_percentiles:
            return None
        if not self._sorted:
            self.values.sort()
            self._sorted = True
        total = sum(weight for _, weight in self.values)
        if total <= 0:
            return None
        target = total * percent / 100.0
        running = 0.0
        for value, weight in self.values:
            running += weight
            if running >= target and weight > 0:
                return value
        return self.values[-1][0]


def parse_percentile(name: str) -> float:
    """Return the percentage of a ``pNN`` statistic name; raise ``ValueError`` for anything else."""
    match = _PERCENTILE.match(name)
    if not match or not 0.0 <= float(match.group(1)) <= 100.0:
        raise ValueError(f"unsupported statistic {name!r}: use {', '.join(STANDARD_STATISTICS)} or pNN")
    return float(match.group(1))


def validate_statistic(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a standard statistic or a percentile."""
    if name not in STANDARD_STATISTICS:
        parse_percentile(name)


def naive_utc(value: datetime) -> datetime:
    """Return ``value`` as naive UTC (aware values are converted, naive ones taken as UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def align_start(start: datetime, period_seconds: int) -> datetime:
    """Round ``start`` down as CloudWatch does: to the minute, or for sub-minute periods to the period."""
    grain = 60 if period_seconds % 60 == 0 else period_seconds
    seconds = math.floor((start - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - seconds % grain)


def bucketize(samples: Iterable[Sample], start: datetime, end: datetime, period_seconds: int) -> list[Bucket]:
    """Group ``samples`` into periods from ``align_start(start)`` up to ``end``; ascending, non-empty only."""
    if period_seconds <= 0:
        raise ValueError("the period must be positive")
    origin = align_start(start, period_seconds)
    buckets: dict[int, Bucket] = {}
    for sample in samples:
        if not origin <= sample.timestamp < end:
            continue
        index = int((sample.timestamp - origin).total_seconds()) // period_seconds
        bucket = buckets.get(index)
        if bucket is None:
            bucket = buckets[index] = Bucket(origin + timedelta(seconds=index * period_seconds))
        bucket.add(sample)
    return [buckets[index] for index in sorted(buckets)]


def dimensions_match(
    sample_dimensions: frozenset[tuple[str, str]],
    query: Iterable[tuple[str, str | None]],
    *,
    exact: bool,
) -> bool:
    """Match a query's dimensions: exactly (real CloudWatch) or as a subset (moto's lenient rule).

    A ``None`` value in a subset query matches any value of that dimension name.
    """
    wanted = list(query)
    names = {name for name, _ in sample_dimensions}
    if exact and names != {name for name, _ in wanted}:
        return False
    return all((name in names) if value is None else ((name, value) in sample_dimensions) for name, value in wanted)
