"""Fetch both variants' per-minute CloudWatch series (GetMetricData) and turn them into verdict evidence."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_shadowtest.exceptions import InferenceExperimentApiError
from airflow_provider_shadowtest.hooks.metrics_query import (
    DEFAULT_PERCENTILES,
    build_series_queries,
    fold_series,
    plan_calls,
    series_period_seconds,
)
from airflow_provider_shadowtest.verdict.evidence import (
    DEFAULT_LAG_SECONDS,
    DEFAULT_WARMUP_SECONDS,
    INSTANCE_METRICS,
    VariantSeries,
    judged_window,
    restrict,
)

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.evidence import Evidence


def metric_data_results(cloudwatch: Any, **request: Any) -> list[dict[str, Any]]:
    """Every ``MetricDataResults`` entry of one GetMetricData request, following ``NextToken``.

    An id may come back on several pages, each with a part of its datapoints: callers fold them.
    """
    results: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = cloudwatch.get_metric_data(**request, **({"NextToken": token} if token else {}))
        results.extend(page.get("MetricDataResults", []))
        token = page.get("NextToken")
        if not token:
            return results


def fetch_variant_series(
    cloudwatch: Any,
    endpoint_name: str,
    variant_names: list[str],
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    percentiles: tuple[str, ...] = DEFAULT_PERCENTILES,
    instance_metrics: tuple[str, ...] = INSTANCE_METRICS,
) -> tuple[dict[str, VariantSeries], int]:
    """Read every variant's metrics period by period over ``start``..``end``.

    The period is the finest CloudWatch keeps for the start's age (60 s up to 15 days, 300 s up
    to 63 days, then 3600 s); calls stay within 500 queries and 100,800 datapoints each and
    follow ``NextToken``.

    :param cloudwatch: a boto3 CloudWatch client (e.g. ``InferenceExperimentHook.get_cloudwatch_client()``).
    :return: ``({variant: VariantSeries}, period_seconds)``.
    :raises InferenceExperimentApiError: with the AWS code and message when GetMetricData fails.
    """
    period = series_period_seconds(start, now or dt.datetime.now(dt.timezone.utc))
    queries, index = build_series_queries(
        endpoint_name, variant_names, period, percentiles, instance_metrics=instance_metrics
    )
    results: list[dict[str, Any]] = []
    try:
        for batch, call_start, call_end in plan_calls(start, end, period, len(queries)):
            results.extend(
                metric_data_results(
                    cloudwatch,
                    MetricDataQueries=queries[batch],
                    StartTime=call_start,
                    EndTime=call_end,
                    ScanBy="TimestampAscending",
                )
            )
    except ClientError as err:
        raise InferenceExperimentApiError.from_response(err.response, "GetMetricData") from err
    folded = fold_series(results, index, variant_names)
    return {v: VariantSeries(v, folded[v]) for v in variant_names}, period


def fetch_evidence(
    cloudwatch: Any,
    endpoint_name: str,
    production_variant_name: str,
    shadow_variant_name: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime | None = None,
    shadow_in_service_at: dt.datetime | None = None,
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS,
    lag_seconds: float = DEFAULT_LAG_SECONDS,
    percentiles: tuple[str, ...] = DEFAULT_PERCENTILES,
) -> Evidence:
    """Fetch both variants' series and keep the judged window (warm-up and lag excluded).

    :param start: the experiment's start (scheduled or actual).
    :param end: its end; an end after ``now`` is cut by the lag allowance anyway.
    :param shadow_in_service_at: when the shadow variant started serving, if known; the
        warm-up counts from the later of this and ``start``.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    window = judged_window(
        start,
        end,
        now,
        shadow_in_service_at=shadow_in_service_at,
        warmup_seconds=warmup_seconds,
        lag_seconds=lag_seconds,
    )
    series: dict[str, VariantSeries] = {}
    period = series_period_seconds(window[0], now)
    if window[1] > window[0]:
        series, period = fetch_variant_series(
            cloudwatch,
            endpoint_name,
            [production_variant_name, shadow_variant_name],
            window[0],
            window[1],
            now=now,
            percentiles=percentiles,
        )
    return restrict(
        series.get(production_variant_name, VariantSeries(production_variant_name)),
        series.get(shadow_variant_name, VariantSeries(shadow_variant_name)),
        period,
        window,
        warmup_seconds=warmup_seconds,
        lag_seconds=lag_seconds,
    )
