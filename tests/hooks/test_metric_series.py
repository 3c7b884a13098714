"""Per-minute series from CloudWatch: limits, pagination, errors, and the emulator's traffic end to end."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError

from airflow_provider_shadowtest.exceptions import InferenceExperimentApiError
from airflow_provider_shadowtest.hooks.metric_series import fetch_evidence, fetch_variant_series
from airflow_provider_shadowtest.hooks.metrics_query import (
    MAX_DATAPOINTS_PER_CALL,
    build_series_queries,
    plan_calls,
    series_period_seconds,
)
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.verdict import Decision
from airflow_provider_shadowtest.verdict.judge import judge
from airflow_provider_shadowtest.verdict.settings import settings_from_thresholds

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = T0 + dt.timedelta(minutes=1)
END = T0 + dt.timedelta(minutes=41)


def test_period_follows_the_age_of_the_data() -> None:
    now = T0
    assert series_period_seconds(now - dt.timedelta(days=14), now) == 60
    assert series_period_seconds(now - dt.timedelta(days=16), now) == 300
    assert series_period_seconds(now - dt.timedelta(days=64), now) == 3600


def test_calls_stay_within_the_documented_limits() -> None:
    queries, _ = build_series_queries("ep", ["prod", "shadow"], 60, ("p50", "p90", "p99"))
    start = T0 - dt.timedelta(days=7)
    calls = plan_calls(start, T0, 60, len(queries))
    assert len(calls) > 1  # a week of minutes for every query does not fit one call
    for batch, call_start, call_end in calls:
        queries_in_call = batch.stop - batch.start
        periods = (call_end - call_start).total_seconds() / 60
        assert queries_in_call * periods <= MAX_DATAPOINTS_PER_CALL
    # The calls cover the window without gaps.
    assert calls[0][1] == start
    assert calls[-1][2] == T0
    assert all(a[2] == b[1] for a, b in itertools.pairwise(calls))
    many = plan_calls(T0 - dt.timedelta(minutes=5), T0, 60, 1200)
    assert [c[0] for c in many] == [slice(0, 500), slice(500, 1000), slice(1000, 1200)]


class PagingCloudWatch:
    """Answers GetMetricData in two pages per call, the second after a NextToken."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        stamp = kwargs["StartTime"]
        if "NextToken" not in kwargs:
            return {"MetricDataResults": [{"Id": "q0", "Timestamps": [stamp], "Values": [5.0]}], "NextToken": "more"}
        later = stamp + dt.timedelta(minutes=1)
        return {"MetricDataResults": [{"Id": "q0", "Timestamps": [later], "Values": [7.0]}]}


def test_next_token_pages_are_followed_and_merged() -> None:
    client = PagingCloudWatch()
    series, period = fetch_variant_series(client, "ep", ["prod"], T0, T0 + dt.timedelta(minutes=5), now=T0)
    assert period == 60
    assert [c.get("NextToken") for c in client.calls] == [None, "more"]
    invocations = series["prod"].series("Invocations")
    assert invocations == {int(T0.timestamp()): 5.0, int(T0.timestamp()) + 60: 7.0}


def test_aws_errors_keep_code_and_message() -> None:
    class Failing:
        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            error = {"Error": {"Code": "InvalidParameterCombination", "Message": "bad period"}}
            raise ClientError(error, "GetMetricData")  # type: ignore[arg-type]

    with pytest.raises(InferenceExperimentApiError) as info:
        fetch_variant_series(Failing(), "ep", ["prod"], T0, T0 + dt.timedelta(minutes=5), now=T0)
    assert "InvalidParameterCombination" in str(info.value)
    assert "bad period" in str(info.value)


@pytest.mark.parametrize(("tags", "expected"), [({"shadowtest:latency-ms": "60"}, Decision.REJECT), ({}, None)])
def test_emulator_series_feed_the_judge(tags: dict[str, str], expected: Decision | None) -> None:
    with time_machine.travel(T0, tick=False) as clock, mock_shadow_tests(transition_seconds=0):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        create_endpoint(sm, "ep", "prod-model")
        create_model(sm, "cand", tags=tags)
        request = shadow_test_request("exp", "ep", "prod-model", "cand", Schedule={"StartTime": START, "EndTime": END})
        sm.create_inference_experiment(**request)
        described = sm.describe_inference_experiment(Name="exp")
        production = described["ShadowModeConfig"]["SourceModelVariantName"]
        shadow = described["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
        clock.move_to(END + dt.timedelta(minutes=10))
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        evidence = fetch_evidence(
            cloudwatch, "ep", production, shadow, start=START, end=END, warmup_seconds=300, lag_seconds=120
        )
    # The warm-up's 5 minutes are left out, the window ends at the scheduled end.
    assert evidence.window_start == START + dt.timedelta(minutes=5)
    assert evidence.window_end == END
    minutes = sorted(evidence.shadow.series("Invocations"))
    assert len(minutes) == 35
    assert minutes[0] == int((START + dt.timedelta(minutes=5)).timestamp())
    assert evidence.production.total("Invocations") > evidence.shadow.total("Invocations") > 0
    assert len(evidence.paired("ModelLatency.p99")) == 35
    verdict = judge(evidence, settings_from_thresholds())
    document = verdict.to_json()
    assert document["window"]["warmup_seconds"] == 300
    assert document["window"]["lag_seconds"] == 120
    if expected is not None:
        assert verdict.decision is expected
    else:  # an equal candidate is never rejected
        assert verdict.decision is not Decision.REJECT
