"""Percentile statistics and exact dimension matching for moto's CloudWatch.

:func:`install` replaces the two query paths of moto's CloudWatch backend (and the
``GetMetricStatistics`` action, which drops ``ExtendedStatistics`` before the backend sees
them) with :mod:`.cw_stats`, so that:

- ``GetMetricStatistics`` answers ``ExtendedStatistics`` such as ``p50``/``p99`` and
  ``GetMetricData`` answers ``Stat="p99"``, computed per period from the raw values, for
  metrics put with ``PutMetricData`` and for metrics served by registered sources alike;
- periods are aligned as CloudWatch aligns them (start rounded down to the minute);
- the documented limits hold (:mod:`.cw_limits`): valid periods, 1,440 datapoints per
  ``GetMetricStatistics`` call, ``Statistics`` or ``ExtendedStatistics`` but not both, and
  datapoints only as long as CloudWatch keeps them at the period asked;
- ``GetMetricData`` pages by ``MaxDatapoints`` and evaluates metric math (:mod:`.cw_metric_data`);
- in the namespaces of :data:`EXACT_DIMENSION_NAMESPACES` dimensions match exactly, as in real
  CloudWatch (moto matches a subset: ``EndpointName`` alone would return every variant);
- extra, computed-at-read-time data can be merged in with :func:`register_source` (the
  shadow-test traffic of :mod:`.metrics` comes in that way, only for the range queried), and
  its metrics shown by ``ListMetrics``.

Patching classes serves both ``mock_aws`` and moto's server; :func:`install` is idempotent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from itertools import chain
from typing import Any

from airflow_provider_shadowtest.testing import cw_limits
from airflow_provider_shadowtest.testing.cw_stats import (
    Bucket,
    Sample,
    align_start,
    bucketize,
    dimensions_match,
    naive_utc,
    validate_statistic,
)

#: ``source(account_id, region, namespace, metric_name, start, end)`` -> samples; may return
#: samples outside the range or of other metrics (they are filtered), but should not compute them.
SampleSource = Callable[[str, str, str, str, datetime, datetime], Iterable[Sample]]

#: ``lister(account_id, region)`` -> ``(namespace, metric_name, dimensions)`` of metrics to list.
MetricLister = Callable[[str, str], Iterable[tuple[str, str, frozenset[tuple[str, str]]]]]

#: Namespaces whose dimensions must match exactly, as real CloudWatch matches them.
EXACT_DIMENSION_NAMESPACES = frozenset({"AWS/SageMaker", "/aws/sagemaker/Endpoints"})

_MAX_EXTENDED_STATISTICS = 10
_MARKER = "_shadowtest_patched"
_sources: dict[str, SampleSource] = {}
_listers: dict[str, MetricLister] = {}
_lock = threading.Lock()


def register_source(name: str, source: SampleSource, lister: MetricLister | None = None) -> None:
    """Merge ``source``'s samples into every CloudWatch query; replaces a source of the same name.

    :param lister: the metrics ``ListMetrics`` should show for the source.
    """
    _sources[name] = source
    if lister is None:
        _listers.pop(name, None)
    else:
        _listers[name] = lister


def install() -> None:
    """Patch moto's CloudWatch with percentiles, aligned periods and exact matching; idempotent."""
    from moto.cloudwatch import models, responses

    with _lock:
        if getattr(models.CloudWatchBackend.get_metric_statistics, _MARKER, False):
            return
        original_get_metric_data = models.CloudWatchBackend.get_metric_data
        original_get_filtered_metrics = models.CloudWatchBackend.get_filtered_metrics

        def get_metric_data(
            self: Any,
            queries: list[dict[str, Any]],
            start_time: datetime,
            end_time: datetime,
            scan_by: str = "TimestampAscending",
        ) -> list[dict[str, Any]]:
            return _get_metric_data(
                self,
                original_get_metric_data,
                queries=queries,
                start_time=start_time,
                end_time=end_time,
                scan_by=scan_by,
            )

        def get_filtered_metrics(
            self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]
        ) -> list[Any]:
            found = original_get_filtered_metrics(self, metric_name, namespace, dimensions)
            return _with_listed_metrics(self, found, metric_name, namespace, dimensions)

        from airflow_provider_shadowtest.testing.cw_metric_data import get_metric_data_action

        for function in (_get_metric_statistics, get_metric_data, _get_metric_statistics_action):
            setattr(function, _MARKER, True)
        setattr(responses.CloudWatchResponse, "get_metric_data", get_metric_data_action)  # noqa: B010
        setattr(models.CloudWatchBackend, "get_filtered_metrics", get_filtered_metrics)  # noqa: B010
        setattr(models.CloudWatchBackend, "get_metric_data", get_metric_data)  # noqa: B010
        setattr(responses.CloudWatchResponse, "get_metric_statistics", _get_metric_statistics_action)  # noqa: B010
        # Last: the marker checked above.
        setattr(models.CloudWatchBackend, "get_metric_statistics", _get_metric_statistics)  # noqa: B010


def query_buckets(
    backend: Any,
    namespace: str,
    metric_name: str,
    dimensions: Iterable[tuple[str, str | None]],
    *,
    start: datetime,
    end: datetime,
    period_seconds: int,
    unit: str | None = None,
    exact: bool | None = None,
) -> list[Bucket]:
    """Return the non-empty periods of one metric from moto's store and the registered sources.

    :param exact: match dimensions exactly; by default only in :data:`EXACT_DIMENSION_NAMESPACES`.
    """
    start, end = naive_utc(start), naive_utc(end)
    wanted = list(dimensions)
    if exact is None:
        exact = namespace in EXACT_DIMENSION_NAMESPACES
    origin = align_start(start, period_seconds)
    account_id, region = backend.account_id, backend.region_name
    samples = chain(
        _stored_samples(backend, namespace, metric_name),
        *(source(account_id, region, namespace, metric_name, origin, end) for source in list(_sources.values())),
    )
    selected = (
        sample
        for sample in samples
        if sample.namespace == namespace
        and sample.metric_name == metric_name
        and (unit is None or sample.unit == unit)
        and dimensions_match(sample.dimensions, wanted, exact=exact)
    )
    return bucketize(selected, start, end, period_seconds)


def _stored_samples(backend: Any, namespace: str, metric_name: str) -> Iterator[Sample]:
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    for datum in backend.get_all_metrics():
        if datum.namespace != namespace or datum.name != metric_name:
            continue
        dimensions = frozenset((d.name, d.value) for d in datum.dimensions)
        timestamp = naive_utc(datum.timestamp)
        if isinstance(datum, MetricDatum):
            value = float(datum.value)
            yield Sample.single(namespace, metric_name, dimensions, timestamp=timestamp, value=value, unit=datum.unit)
        elif isinstance(datum, MetricAggregatedDatum):
            yield Sample(
                namespace,
                metric_name,
                dimensions,
                timestamp,
                datum.unit,
                float(datum.sample_count),
                float(datum.sum),
                float(datum.min),
                float(datum.max),
            )


def _with_listed_metrics(
    backend: Any, found: list[Any], metric_name: str | None, namespace: str | None, dimensions: Any
) -> list[Any]:
    from moto.cloudwatch.models import MetricDatum

    seen = {(m.namespace, m.name, frozenset((d.name, d.value) for d in m.dimensions)) for m in found}
    wanted = _dimension_pairs(dimensions)
    for lister in list(_listers.values()):
        for key in lister(backend.account_id, backend.region_name):
            listed_namespace, listed_name, listed_dimensions = key
            if (
                key in seen
                or (namespace and listed_namespace != namespace)
                or (metric_name and listed_name != metric_name)
                or not dimensions_match(listed_dimensions, wanted, exact=False)
            ):
                continue
            seen.add(key)
            pairs = [{"Name": name, "Value": value} for name, value in sorted(listed_dimensions)]
            found.append(MetricDatum(listed_namespace, listed_name, 0.0, pairs, None))
    return found


def _dimension_pairs(dimensions: Iterable[dict[str, Any]] | None) -> list[tuple[str, str | None]]:
    return [(d["Name"], d.get("Value")) for d in dimensions or ()]


def _invalid_value(message: str) -> Exception:
    from moto.cloudwatch.exceptions import InvalidParameterValue

    return InvalidParameterValue(message)


def _invalid_combination(message: str) -> Exception:
    from moto.cloudwatch.exceptions import InvalidParameterCombination

    return InvalidParameterCombination(message)


def _get_metric_statistics(  # noqa: PLR0917 - moto's signature
    self: Any,
    namespace: str,
    metric_name: str,
    start_time: datetime,
    end_time: datetime,
    period: int,
    stats: list[str],
    dimensions: list[dict[str, str]],
    unit: str | None = None,
    extended_statistics: list[str] | None = None,
) -> list[dict[str, Any]]:
    """``CloudWatchBackend.get_metric_statistics`` with ``ExtendedStatistics``: datapoints as dicts."""
    start_time = naive_utc(start_time).replace(microsecond=0)
    end_time = naive_utc(end_time).replace(microsecond=0)
    if start_time >= end_time:
        raise _invalid_value("The parameter StartTime must be less than the parameter EndTime.")
    period_problem = cw_limits.period_problem(int(period))
    if period_problem:
        raise _invalid_value(period_problem)
    too_many = cw_limits.datapoints_problem(start_time, end_time, int(period))
    if too_many:
        raise _invalid_combination(too_many)
    extended = list(extended_statistics or ())
    if len(extended) > _MAX_EXTENDED_STATISTICS:
        message = f"The collection ExtendedStatistics must not have more than {_MAX_EXTENDED_STATISTICS} members."
        raise _invalid_value(message)
    for name in extended:
        try:
            validate_statistic(name)
        except ValueError:
            message = f"The value {name} for parameter ExtendedStatistics is not supported."
            raise _invalid_value(message) from None
    buckets = query_buckets(
        self,
        namespace,
        metric_name,
        _dimension_pairs(dimensions),
        start=start_time,
        end=end_time,
        period_seconds=int(period),
        unit=unit,
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    datapoints = []
    for bucket in buckets:
        if not cw_limits.retained(bucket.timestamp, int(period), now):
            continue
        point: dict[str, Any] = {"Timestamp": bucket.timestamp}
        for name in stats:
            value = bucket.statistic(name)
            if value is not None:
                point[name] = value
        if extended:
            values = {name: bucket.statistic(name) for name in extended}
            point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
        if bucket.unit:
            point["Unit"] = bucket.unit
        datapoints.append(point)
    return datapoints


def _get_metric_statistics_action(self: Any) -> Any:
    """``CloudWatchResponse.get_metric_statistics`` passing ``ExtendedStatistics`` on."""
    from moto.cloudwatch.exceptions import InvalidParameterCombination
    from moto.core.responses import ActionResult

    metric_name = self._get_param("MetricName")
    statistics = self._get_param("Statistics", [])
    extended = self._get_param("ExtendedStatistics", [])
    if not statistics and not extended:
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
    if statistics and extended:
        # GetMetricStatistics: "you must specify either Statistics or ExtendedStatistics, but not both"
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics, but not both.")
    datapoints = self.cloudwatch_backend.get_metric_statistics(
        self._get_param("Namespace"),
        metric_name,
        self._get_param("StartTime"),
        self._get_param("EndTime"),
        self._get_int_param("Period"),
        statistics,
        dimensions=self._get_param("Dimensions", []),
        unit=self._get_param("Unit"),
        extended_statistics=extended,
    )
    return ActionResult({"Label": metric_name, "Datapoints": datapoints})


def _get_metric_data(
    backend: Any,
    original: Callable[..., list[dict[str, Any]]],
    *,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str,
) -> list[dict[str, Any]]:
    from airflow_provider_shadowtest.testing.cw_metric_data import metric_data

    return metric_data(backend, queries, start_time, end_time, scan_by, insights=original)
