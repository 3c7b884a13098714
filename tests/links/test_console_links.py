"""Console links: partition- and region-aware URLs from the XCom the operators store."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote

import pytest
from airflow.sdk.execution_time import xcom as xcom_module

from airflow_provider_shadowtest.links.inference_experiment import (
    XCOM_KEY,
    InferenceExperimentEndpointLink,
    InferenceExperimentLink,
    InferenceExperimentMetricsLink,
    described_link_info,
    jsurl,
    link_info,
)
from airflow_provider_shadowtest.operators.inference_experiment import StartInferenceExperimentOperator


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws", "eu-west-1", "https://eu-west-1.console.aws.amazon.com"),
        ("aws-cn", "cn-north-1", "https://console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "https://console.amazonaws-us-gov.com"),
    ],
)
def test_links_point_to_the_partitions_console(partition: str, region: str, host: str) -> None:
    info = link_info(partition=partition, region_name=region, experiment_name="exp-1", endpoint_name="ep-1")

    assert InferenceExperimentLink().url(info) == f"{host}/sagemaker/home?region={region}#/shadow-tests/exp-1"
    assert InferenceExperimentEndpointLink().url(info) == f"{host}/sagemaker/home?region={region}#/endpoints/ep-1"


def test_links_are_empty_without_what_they_need() -> None:
    info = link_info(partition="aws", region_name="us-east-1", experiment_name="exp-1", endpoint_name=None)
    assert InferenceExperimentEndpointLink().url(info) == ""
    assert InferenceExperimentLink().url({}) == ""


def test_get_link_reads_the_operators_xcom(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = {XCOM_KEY: link_info(partition="aws", region_name="us-east-1", experiment_name="e", endpoint_name="p")}

    def get_value(*, ti_key: Any, key: str) -> Any:
        return stored.get(key)

    monkeypatch.setattr(xcom_module.XCom, "get_value", get_value)
    operator = StartInferenceExperimentOperator(task_id="start", experiment_name="e")
    links = {link.name: link for link in operator.operator_extra_links}

    assert set(links) == {"SageMaker Shadow Test", "SageMaker Endpoint", "CloudWatch metrics"}
    url = links["SageMaker Endpoint"].get_link(operator, ti_key=object())  # type: ignore[arg-type]
    assert url == "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/endpoints/p"
    stored.clear()
    assert links["SageMaker Shadow Test"].get_link(operator, ti_key=object()) == ""  # type: ignore[arg-type]


DESCRIBED = {
    "Name": "shadow-churn-1",
    "EndpointMetadata": {"EndpointName": "churn-endpoint"},
    "ShadowModeConfig": {
        "SourceModelVariantName": "AllTraffic",
        "ShadowModelVariants": [{"ShadowModelVariantName": "candidate", "SamplingPercentage": 50}],
    },
    "Schedule": {
        "StartTime": dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc),
        "EndTime": dt.datetime(2026, 12, 1, 10, 15, tzinfo=dt.timezone.utc),
    },
}


def test_jsurl_encodes_like_the_cloudwatch_console() -> None:
    # The console's own encoding of a one-metric graph (namespace slash as *2f, colon as *3a).
    graph = {"metrics": [["AWS/SageMaker", "Invocations", "EndpointName", "ep"]], "stacked": False, "period": 60}
    assert jsurl(graph) == "~(metrics~(~(~'AWS*2fSageMaker~'Invocations~'EndpointName~'ep))~stacked~false~period~60)"
    assert jsurl("2026-12-01T09:00:00.000Z") == "~'2026-12-01T09*3a00*3a00.000Z"
    assert jsurl([]) == "~(~)"


def test_metrics_link_graphs_both_variants_over_the_experiments_window() -> None:
    info = described_link_info("aws", "eu-west-1", DESCRIBED)
    after = dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)
    url = InferenceExperimentMetricsLink().url(info, now=after)

    prefix = "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2?graph=~(metrics~("
    assert url.startswith(prefix)
    for variant in ("AllTraffic", "candidate"):
        for metric in ("ModelLatency", "Invocations"):
            line = f"~(~'AWS*2fSageMaker~'{metric}~'EndpointName~'churn-endpoint~'VariantName~'{variant}~(stat~'"
            assert line in url, (metric, variant)
    assert "~start~'2026-12-01T09*3a00*3a00.000Z~end~'2026-12-01T10*3a15*3a00.000Z~period~60" in url
    assert "~region~'eu-west-1" in url


def test_metrics_link_cuts_a_running_experiment_at_now_and_widens_the_period_for_long_windows() -> None:
    info = described_link_info("aws-cn", "cn-north-1", DESCRIBED)
    during = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    url = InferenceExperimentMetricsLink().url(info, now=during)
    assert url.startswith("https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#metricsV2?graph=")
    assert "~end~'2026-12-01T09*3a30*3a00.000Z" in url

    week = {**DESCRIBED, "Schedule": {"StartTime": "2026-12-01T00:00:00Z", "EndTime": "2026-12-08T00:00:00Z"}}
    long_url = InferenceExperimentMetricsLink().url(described_link_info("aws", "us-east-1", week), now=after_all())
    assert "~period~900" in long_url  # 7 days at 15 min: 672 points, under the console's 1,440

    before = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    assert "~start~'-PT3H~end~'P0D" in InferenceExperimentMetricsLink().url(info, now=before)


def after_all() -> dt.datetime:
    return dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)


def test_metrics_link_is_empty_without_the_variants() -> None:
    info = link_info(partition="aws", region_name="us-east-1", experiment_name="e", endpoint_name="ep")
    assert InferenceExperimentMetricsLink().url(info) == ""
    info = described_link_info("aws", "us-east-1", {**DESCRIBED, "ShadowModeConfig": {}})
    assert InferenceExperimentMetricsLink().url(info) == ""


def test_described_link_info_is_plain_json() -> None:
    info = described_link_info("aws", "us-east-1", DESCRIBED)
    assert info["variant_names"] == {"production": "AllTraffic", "shadow": "candidate"}
    assert info["window"] == {"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:15:00Z"}
    assert unquote(InferenceExperimentLink().url(info)).endswith("#/shadow-tests/shadow-churn-1")
