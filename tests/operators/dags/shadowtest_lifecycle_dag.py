"""Create a shadow test from params, start it early, extend it, stop it promoting the candidate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Param

from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StartInferenceExperimentOperator,
    StopInferenceExperimentOperator,
    UpdateInferenceExperimentOperator,
)

FAST: dict[str, Any] = {"poke_interval": 0.2, "settle_timeout_seconds": 60}

with DAG(
    dag_id="shadowtest_lifecycle",
    schedule=None,
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
    render_template_as_native_obj=True,
    params={
        "name": Param("dag-exp", type="string"),
        "endpoint_name": Param("fraud-endpoint", type="string"),
        "role_arn": Param("arn:aws:iam::123456789012:role/SageMakerShadowTest", type="string"),
        "production_model": Param("fraud-v1", type="string"),
        "candidate_model": Param("fraud-v2", type="string"),
        "sampling_percent": Param(20, type="integer", minimum=0, maximum=100),
    },
):
    infrastructure = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    }
    create = CreateInferenceExperimentOperator(
        task_id="create",
        name="{{ params.name }}",
        endpoint_name="{{ params.endpoint_name }}",
        role_arn="{{ params.role_arn }}",
        model_variants=[
            {
                "ModelName": "{{ params.production_model }}",
                "VariantName": "production",
                "InfrastructureConfig": infrastructure,
            },
            {
                "ModelName": "{{ params.candidate_model }}",
                "VariantName": "shadow",
                "InfrastructureConfig": infrastructure,
            },
        ],
        shadow_mode_config={
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [
                {"ShadowModelVariantName": "shadow", "SamplingPercentage": "{{ params.sampling_percent }}"}
            ],
        },
        start_time="{{ (macros.datetime.utcnow() + macros.timedelta(hours=1)).isoformat() }}",
        duration="P1D",
    )
    start = StartInferenceExperimentOperator(task_id="start", experiment_name="{{ params.name }}", **FAST)
    extend = UpdateInferenceExperimentOperator(
        task_id="extend",
        experiment_name="{{ params.name }}",
        end_time="{{ (macros.datetime.utcnow() + macros.timedelta(days=2)).isoformat() }}",
        sampling_percent=100,
        **FAST,
    )
    stop = StopInferenceExperimentOperator(
        task_id="stop",
        experiment_name="{{ params.name }}",
        promote=True,
        reason="candidate approved",
        wait_for_completion=True,
        **FAST,
    )
    create >> start >> extend >> stop
