"""Console links: partition- and region-aware URLs from the XCom the operators store."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.execution_time import xcom as xcom_module

from airflow_provider_shadowtest.links.inference_experiment import (
    XCOM_KEY,
    InferenceExperimentEndpointLink,
    InferenceExperimentLink,
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

    assert set(links) == {"SageMaker Shadow Test", "SageMaker Endpoint"}
    url = links["SageMaker Endpoint"].get_link(operator, ti_key=object())  # type: ignore[arg-type]
    assert url == "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/endpoints/p"
    stored.clear()
    assert links["SageMaker Shadow Test"].get_link(operator, ti_key=object()) == ""  # type: ignore[arg-type]
