"""Pure: the CloudWatch queries that describe one variant, and reading their answers back.

The mapping from (endpoint, variant) to CloudWatch dimensions lives here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Final

NAMESPACE: Final = "AWS/SageMaker"
#: Count metrics summed over the window.
COUNT_METRICS: Final = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors")
#: Latency metrics (microseconds): mean plus the requested percentiles.
LATENCY_METRICS: Final = ("ModelLatency", "OverheadLatency")
DEFAULT_PERCENTILES: Final = ("p50", "p90", "p99")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")


def variant_dimensions(endpoint_name: str, variant_name: str) -> list[dict[str, str]]:
    """Dimensions of a variant's metrics; shadow variants report under their own VariantName."""
    return [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": variant_name},
    ]


@dataclass(frozen=True)
class MetricWindow:
    """A whole-window query: one datapoint per statistic covering ``start`` to ``end``."""

    start: dt.datetime
    end: dt.datetime
    #: When the query is made (default: now); CloudWatch's period rules depend on the start's age.
    now: dt.datetime | None = None

    @property
    def step_seconds(self) -> int:
        """CloudWatch's granularity for this start: 60 s up to 15 days back, 300 s up to 63, then 3600 s."""
        now = self.now or dt.datetime.now(dt.timezone.utc)
        age = _aware(now) - _aware(self.start)
        if age <= dt.timedelta(days=15):
            return 60
        if age <= dt.timedelta(days=63):
            return 300
        return 3600

    @property
    def aligned_start(self) -> dt.datetime:
        """The start rounded down to the step, as CloudWatch aligns periods."""
        start = _aware(self.start)
        epoch = int(start.timestamp())
        return dt.datetime.fromtimestamp(epoch - epoch % self.step_seconds, tz=dt.timezone.utc)

    @property
    def period_seconds(self) -> int:
        """A single period spanning the aligned window, a multiple of the step as CloudWatch requires."""
        step = self.step_seconds
        seconds = max(float(step), (_aware(self.end) - self.aligned_start).total_seconds())
        return int(math.ceil(seconds / step) * step)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def check_percentiles(percentiles: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return the percentile statistics unchanged, or raise naming the bad one."""
    bad = [p for p in percentiles if not _PERCENTILE.match(p)]
    if bad:
        raise ValueError(f"percentiles: {bad} are not CloudWatch percentile statistics such as 'p99'")
    return tuple(percentiles)


def build_queries(
    endpoint_name: str, variant_names: list[str], window: MetricWindow, percentiles: tuple[str, ...]
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Build GetMetricData queries for every variant; return them and id -> (variant, statistic key)."""
    queries: list[dict[str, Any]] = []
    index: dict[str, tuple[str, str]] = {}

    def add(variant: str, metric: str, stat: str, key: str) -> None:
        qid = f"q{len(queries)}"
        index[qid] = (variant, key)
        queries.append(
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": variant_dimensions(endpoint_name, variant),
                    },
                    "Period": window.period_seconds,
                    "Stat": stat,
                },
                "ReturnData": True,
            }
        )

    for variant in variant_names:
        for metric in COUNT_METRICS:
            add(variant, metric, "Sum", metric)
        for metric in LATENCY_METRICS:
            add(variant, metric, "Average", f"{metric}.Average")
            for pct in percentiles:
                add(variant, metric, pct, f"{metric}.{pct}")
    return queries, index


def summarize_results(
    results: list[dict[str, Any]], index: dict[str, tuple[str, str]], variant_names: list[str]
) -> dict[str, dict[str, float | None]]:
    """Fold GetMetricData results into ``{variant: {statistic key: value or None}}``.

    One period spans the aligned window (see :class:`MetricWindow`), so each statistic has one
    datapoint; counts are added all the same, should CloudWatch split the window.
    """
    summary: dict[str, dict[str, float | None]] = {v: {} for v in variant_names}
    for key in COUNT_METRICS:
        for v in variant_names:
            summary[v][key] = 0.0
    for result in results:
        variant, key = index[result["Id"]]
        values = [float(x) for x in result.get("Values") or []]
        if key in COUNT_METRICS:
            summary[variant][key] = float(sum(values))
        else:
            summary[variant][key] = values[0] if values else None
    return summary
