"""The hook: connection settings reach both clients, errors keep their AWS code, metrics fold up."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from airflow_provider_shadowtest.exceptions import (
    ExperimentNotFound,
)
from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
from airflow_provider_shadowtest.hooks.metrics_query import MetricWindow, check_percentiles


def _conn_env(monkeypatch: pytest.MonkeyPatch, extra: dict[str, object]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHADOW_TEST", json.dumps({"conn_type": "aws", "extra": extra}))


def test_retry_policy_defaults_to_standard_mode_with_the_budget() -> None:
    hook = InferenceExperimentHook(aws_conn_id=None, region_name="eu-west-1", max_attempts=3)
    config: Any = hook._get_config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_caller_retry_policy_wins() -> None:
    hook = InferenceExperimentHook(
        aws_conn_id=None, region_name="eu-west-1", config={"retries": {"mode": "adaptive", "max_attempts": 2}}
    )
    config: Any = hook._get_config()
    assert config.retries == {"mode": "adaptive", "max_attempts": 2}


def test_invalid_attempt_budget_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^max_attempts: must be at least 1, got 0$"):
        InferenceExperimentHook(aws_conn_id=None, max_attempts=0)


def test_cloudwatch_client_shares_region_endpoint_and_config(monkeypatch: pytest.MonkeyPatch) -> None:
    _conn_env(monkeypatch, {"endpoint_url": "http://127.0.0.1:1", "region_name": "ap-south-1"})
    hook = InferenceExperimentHook(aws_conn_id="shadow_test", max_attempts=4)
    cloudwatch = hook.get_cloudwatch_client()
    assert cloudwatch.meta.region_name == "ap-south-1"
    assert cloudwatch.meta.endpoint_url == "http://127.0.0.1:1"
    assert cloudwatch.meta.config.retries["total_max_attempts"] == 4
    assert hook.client.meta.endpoint_url == "http://127.0.0.1:1"


def test_client_error_keeps_code_message_and_operation() -> None:
    hook = InferenceExperimentHook(aws_conn_id=None, region_name="us-east-1")
    with pytest.raises(ExperimentNotFound) as wrapped, hook._api("DescribeInferenceExperiment"):
        raise ClientError(
            {"Error": {"Code": "ResourceNotFound", "Message": "Experiment x not found"}},
            "DescribeInferenceExperiment",
        )
    assert wrapped.value.code == "ResourceNotFound"
    assert "Experiment x not found" in str(wrapped.value)
    assert "DescribeInferenceExperiment" in str(wrapped.value)


@mock_aws
def test_variant_metrics_are_summed_and_averaged_per_variant() -> None:
    start = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    cloudwatch: Any = boto3.client("cloudwatch", region_name="us-east-1")
    for minute in range(5):
        for variant, count, latency in (("prod", 100.0, 40_000.0), ("shadow", 50.0, 30_000.0)):
            dims = [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": variant}]
            when = start + dt.timedelta(minutes=minute, seconds=5)
            cloudwatch.put_metric_data(
                Namespace="AWS/SageMaker",
                MetricData=[
                    {"MetricName": "Invocations", "Dimensions": dims, "Value": count, "Timestamp": when},
                    {"MetricName": "ModelLatency", "Dimensions": dims, "Value": latency, "Timestamp": when},
                ],
            )
    hook = InferenceExperimentHook(aws_conn_id=None, region_name="us-east-1")
    summary = hook.get_variant_metrics("ep", ["prod", "shadow"], start, start + dt.timedelta(minutes=6), percentiles=())
    assert summary["prod"]["Invocations"] == 500.0
    assert summary["shadow"]["Invocations"] == 250.0
    assert summary["prod"]["ModelLatency.Average"] == pytest.approx(40_000.0)
    assert summary["shadow"]["ModelLatency.Average"] == pytest.approx(30_000.0)
    assert summary["shadow"]["Invocation5XXErrors"] == 0.0


def test_window_period_covers_the_window_in_whole_minutes() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert MetricWindow(start, start + dt.timedelta(seconds=30), now=start).period_seconds == 60
    assert MetricWindow(start, start + dt.timedelta(seconds=61), now=start).period_seconds == 120
    # CloudWatch aligns periods to the minute: 12:00:30-12:01:10 needs one 120 s period, not 60 s.
    late = start + dt.timedelta(seconds=30)
    assert MetricWindow(late, late + dt.timedelta(seconds=40), now=late).period_seconds == 120


def test_long_windows_follow_cloudwatchs_coarser_periods() -> None:
    # A 20-day shadow test judged at its end: the start is over 15 days old, so CloudWatch wants
    # periods in multiples of 300 s from a start aligned to 5 minutes, or it returns no data.
    start = dt.datetime(2026, 1, 1, 10, 17, 23, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=20, minutes=3)
    window = MetricWindow(start, end, now=end)
    assert window.step_seconds == 300
    assert window.aligned_start == dt.datetime(2026, 1, 1, 10, 15, tzinfo=dt.timezone.utc)
    assert window.period_seconds % 300 == 0
    assert window.aligned_start + dt.timedelta(seconds=window.period_seconds) >= end
    assert MetricWindow(start, end, now=start + dt.timedelta(days=70)).step_seconds == 3600


def test_percentile_names_are_checked() -> None:
    assert check_percentiles(["p50", "p99.9"]) == ("p50", "p99.9")
    with pytest.raises(ValueError, match=r"percentiles: \['median'\]"):
        check_percentiles(["median"])
