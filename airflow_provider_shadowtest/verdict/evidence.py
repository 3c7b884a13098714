"""Pure: both variants' per-minute CloudWatch series, and the part of them a verdict may judge.

A series is sparse: CloudWatch returns no datapoint for a minute without data, so each metric
maps a period's start (seconds since the Unix epoch, UTC) to its value. Metric keys are
``"Invocations"``, ``"Invocation5XXErrors"``, ... for counts (``Sum``) and
``"ModelLatency.Average"``, ``"ModelLatency.p99"``, ``"CPUUtilization.Average"``, ... for the rest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from airflow_provider_shadowtest.jsonsafe import to_utc_iso

INVOCATIONS: Final = "Invocations"
#: Error kind -> the CloudWatch count metric of that kind.
ERROR_COUNT_METRICS: Final = MappingProxyType(
    {"4xx": "Invocation4XXErrors", "5xx": "Invocation5XXErrors", "model": "InvocationModelErrors"}
)
#: Instance metrics (namespace ``/aws/sagemaker/Endpoints``), reported when CloudWatch has them.
INSTANCE_METRICS: Final = (
    "CPUUtilization",
    "MemoryUtilization",
    "DiskUtilization",
    "GPUUtilization",
    "GPUMemoryUtilization",
)
#: Default time after the shadow variant starts serving whose metrics are not judged (cold caches, JIT).
DEFAULT_WARMUP_SECONDS: Final = 300.0
#: Default time before now whose metrics are not judged: CloudWatch publishes a few minutes late.
DEFAULT_LAG_SECONDS: Final = 180.0

Series = Mapping[int, float]


def epoch_seconds(moment: dt.datetime) -> int:
    """Seconds since the Unix epoch of ``moment`` (a naive value is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return int(aware.timestamp())


def from_epoch_seconds(seconds: float) -> dt.datetime:
    """The aware UTC datetime of ``seconds`` since the Unix epoch."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class VariantSeries:
    """One variant's metrics, period by period.

    :param variant_name: the endpoint variant.
    :param metrics: metric key -> ``{period start (epoch seconds): value}``.
    """

    variant_name: str
    metrics: Mapping[str, Series] = dataclasses.field(default_factory=dict)

    def series(self, key: str) -> Series:
        """The values of ``key`` (empty when CloudWatch had none)."""
        return self.metrics.get(key) or {}

    def total(self, key: str) -> float:
        """The sum of ``key`` over every period (counts)."""
        return float(sum(self.series(key).values()))

    def has(self, key: str) -> bool:
        """True when ``key`` has at least one datapoint."""
        return bool(self.series(key))

    def restricted(self, first_second: int, end_second: int, period_seconds: int) -> VariantSeries:
        """Keep the periods that lie wholly inside ``[first_second, end_second)``."""
        kept = {
            key: {t: v for t, v in values.items() if t >= first_second and t + period_seconds <= end_second}
            for key, values in self.metrics.items()
        }
        return VariantSeries(self.variant_name, kept)

    def mean(self, key: str) -> float | None:
        """The unweighted mean of ``key`` over its periods; None without datapoints."""
        values = list(self.series(key).values())
        return sum(values) / len(values) if values else None

    def to_json(self) -> dict[str, Any]:
        """Totals of the counts and means of the rest, as plain JSON (not the full series)."""
        out: dict[str, Any] = {"variant_name": self.variant_name, "periods": len(self.series(INVOCATIONS))}
        for key in sorted(self.metrics):
            out[key] = self.total(key) if "." not in key else self.mean(key)
        return out


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Both variants' series over the judged window, and how that window was chosen.

    :param production: the production variant's series.
    :param shadow: the shadow variant's series.
    :param period_seconds: CloudWatch period of every datapoint (60 s for recent windows).
    :param window_start: first second judged (after the warm-up).
    :param window_end: end of the judged window (before the lag allowance).
    :param warmup_seconds: time excluded after the shadow variant started serving.
    :param lag_seconds: time excluded before the moment of the query.
    """

    production: VariantSeries
    shadow: VariantSeries
    period_seconds: int
    window_start: dt.datetime
    window_end: dt.datetime
    warmup_seconds: float = 0.0
    lag_seconds: float = 0.0

    def paired(self, key: str) -> list[tuple[float, float]]:
        """``(production, shadow)`` values of ``key`` in the periods where both have one, in time order."""
        prod, shadow = self.production.series(key), self.shadow.series(key)
        return [(prod[t], shadow[t]) for t in sorted(prod.keys() & shadow.keys())]

    @property
    def judged_seconds(self) -> float:
        """Length of the judged window."""
        return max(0.0, (self.window_end - self.window_start).total_seconds())

    @property
    def minutes_with_traffic(self) -> int:
        """Periods in which the shadow variant served requests."""
        return sum(1 for v in self.shadow.series(INVOCATIONS).values() if v > 0)

    def window_json(self) -> dict[str, Any]:
        """The judged window, warm-up and lag, as plain JSON."""
        return {
            "start": to_utc_iso(self.window_start),
            "end": to_utc_iso(self.window_end),
            "period_seconds": self.period_seconds,
            "warmup_seconds": self.warmup_seconds,
            "lag_seconds": self.lag_seconds,
            "judged_seconds": self.judged_seconds,
        }


def judged_window(
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    *,
    shadow_in_service_at: dt.datetime | None = None,
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
) -> tuple[dt.datetime, dt.datetime]:
    """Return the part of ``start``..``end`` whose metrics are judged.

    The warm-up counts from when the shadow variant started serving (``shadow_in_service_at``,
    e.g. the experiment's ``LastModifiedTime`` on reaching Running) or else from ``start``; the
    lag allowance cuts the window at ``now - lag_seconds``. The result may be empty (start >= end):
    too early to judge anything.

    :raises ValueError: naming the setting when ``warmup_seconds`` or ``lag_seconds`` is negative.
    """
    for name, value in (("warmup_seconds", warmup_seconds), ("lag_seconds", lag_seconds)):
        if not value >= 0:
            raise ValueError(f"{name}: expected a number of seconds >= 0, got {value!r}")
    serving = max(start, shadow_in_service_at) if shadow_in_service_at else start
    first = serving + dt.timedelta(seconds=warmup_seconds)
    last = min(end, now - dt.timedelta(seconds=lag_seconds))
    return first, last


def restrict(
    production: VariantSeries,
    shadow: VariantSeries,
    period_seconds: int,
    window: tuple[dt.datetime, dt.datetime],
    *,
    warmup_seconds: float = 0.0,
    lag_seconds: float = 0.0,
) -> Evidence:
    """Build :class:`Evidence` from whole series, keeping the periods wholly inside ``window``."""
    first, end = epoch_seconds(window[0]), epoch_seconds(window[1])
    return Evidence(
        production=production.restricted(first, end, period_seconds),
        shadow=shadow.restricted(first, end, period_seconds),
        period_seconds=period_seconds,
        window_start=window[0],
        window_end=max(window[0], window[1]),
        warmup_seconds=float(warmup_seconds),
        lag_seconds=float(lag_seconds),
    )
