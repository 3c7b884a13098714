"""Per-minute CloudWatch series for a verdict that carries none (verdicts judged before series were stored).

Uses the hook's CloudWatch client (same connection, region and botocore settings) with
``GetMetricData`` at the finest period CloudWatch keeps for the window's age; the hook has no
per-minute method, so the call is made here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.verdict.report_series import to_epoch_seconds

if TYPE_CHECKING:
    from collections.abc import Mapping

_SAGEMAKER: Final = "AWS/SageMaker"
_INSTANCE: Final = "/aws/sagemaker/Endpoints"
#: (namespace, metric, statistic, series key)
_QUERIES: Final = (
    (_SAGEMAKER, "ModelLatency", "Average", "ModelLatency.average"),
    (_SAGEMAKER, "ModelLatency", "p50", "ModelLatency.p50"),
    (_SAGEMAKER, "ModelLatency", "p90", "ModelLatency.p90"),
    (_SAGEMAKER, "ModelLatency", "p99", "ModelLatency.p99"),
    (_SAGEMAKER, "OverheadLatency", "Average", "OverheadLatency.average"),
    (_SAGEMAKER, "Invocations", "Sum", "Invocations"),
    (_SAGEMAKER, "Invocation4XXErrors", "Sum", "Invocation4XXErrors"),
    (_SAGEMAKER, "Invocation5XXErrors", "Sum", "Invocation5XXErrors"),
    (_SAGEMAKER, "InvocationModelErrors", "Sum", "InvocationModelErrors"),
    (_INSTANCE, "CPUUtilization", "Average", "CPUUtilization"),
    (_INSTANCE, "MemoryUtilization", "Average", "MemoryUtilization"),
)


def _number_or_zero(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0.0


def period_seconds(start: dt.datetime, now: dt.datetime) -> int:
    """CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, then hourly."""
    age = now - start
    if age <= dt.timedelta(days=15):
        return 60
    return 300 if age <= dt.timedelta(days=63) else 3600


def build_series_queries(
    endpoint_name: str, variants: Mapping[str, str], period: int
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """GetMetricData queries for both variants; return them and ``id -> (role, series key)``."""
    queries: list[dict[str, Any]] = []
    index: dict[str, tuple[str, str]] = {}
    for role, variant in variants.items():
        for namespace, metric, stat, key in _QUERIES:
            qid = f"m{len(queries)}"
            index[qid] = (role, key)
            dimensions = [{"Name": "EndpointName", "Value": endpoint_name}, {"Name": "VariantName", "Value": variant}]
            queries.append(
                {
                    "Id": qid,
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                        "Period": period,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            )
    return queries, index


def fetch_series(conn_id: str, verdict: Mapping[str, Any], client_config: dict[str, Any]) -> dict[str, Any]:
    """Return ``{role: {key: [[epoch_seconds, value], ...]}}`` over the verdict's window.

    :raises ValueError: when the verdict lacks the endpoint, the variant names or the window.
    """
    window = verdict.get("window") or {}
    variants = verdict.get("variants") or {}
    endpoint = verdict.get("endpoint_name")
    start, end = to_epoch_seconds(window.get("start")), to_epoch_seconds(window.get("end"))
    # The verdict's window is the judged part: show the warm-up before it and the lag after it too.
    if start is not None:
        start -= _number_or_zero(window.get("warmup_seconds"))
    if end is not None:
        end += _number_or_zero(window.get("lag_seconds"))
    roles = {r: str(variants[r]) for r in ("production", "shadow") if variants.get(r)}
    if not endpoint or len(roles) < 2 or start is None or end is None:
        raise ValueError("the verdict names no endpoint, variants or window to read metrics for")
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    now = dt.datetime.now(dt.timezone.utc)
    start_at = dt.datetime.fromtimestamp(start - start % 60, dt.timezone.utc)
    end_at = min(dt.datetime.fromtimestamp(end, dt.timezone.utc), now)
    queries, index = build_series_queries(str(endpoint), roles, period_seconds(start_at, now))
    client = InferenceExperimentHook(aws_conn_id=conn_id, config=dict(client_config)).get_cloudwatch_client()
    series: dict[str, dict[str, list[list[float]]]] = {role: {} for role in roles}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start_at, "EndTime": end_at}
        if token:
            kwargs["NextToken"] = token
        page = client.get_metric_data(**kwargs)
        for result in page.get("MetricDataResults", []):
            role, key = index[result["Id"]]
            points = series[role].setdefault(key, [])
            for when, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=False):
                points.append([when.timestamp() if isinstance(when, dt.datetime) else float(when), float(value)])
        token = page.get("NextToken")
        if not token:
            return series
