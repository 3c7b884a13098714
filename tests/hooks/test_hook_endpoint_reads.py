"""The hook's pre-flight reads against the emulator: the endpoint as a shadow test sees it, active experiments."""

from __future__ import annotations

import time
from typing import Any

import boto3

from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request


def test_endpoint_description_and_active_experiments() -> None:
    with mock_shadow_tests(transition_seconds=0.1):
        sagemaker: Any = boto3.client("sagemaker", region_name="us-east-1")
        create_endpoint(sagemaker, "ep", "m1", variant_name="blue", instance_type="ml.c5.large", instance_count=3)
        create_model(sagemaker, "m2")
        hook = InferenceExperimentHook(aws_conn_id=None, region_name="us-east-1")

        described = hook.describe_endpoint_for_shadow_test("ep", ["m2", "absent"])
        [production] = described.production_variants()
        assert (production.name, production.model_name, production.instance_type, production.instance_count) == (
            "blue",
            "m1",
            "ml.c5.large",
            3,
        )
        assert described.status == "InService"
        assert described.models["m2"] is not None
        assert described.models["absent"] is None
        assert hook.describe_endpoint_for_shadow_test("nowhere").exists is False
        assert hook.active_inference_experiments() == []

        sagemaker.create_inference_experiment(
            **shadow_test_request("x1", "ep", "m1", "m2", production_variant="blue", shadow_variant="green")
        )
        time.sleep(0.3)
        [active] = hook.active_inference_experiments()
        assert active["Name"] == "x1"
        assert hook.describe_endpoint_for_shadow_test("ep").shadow_variant_names() == ["green"]
