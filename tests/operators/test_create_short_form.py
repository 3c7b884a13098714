"""The short-form create and the pre-flight checks against the emulator, and Stop's promote_with."""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest, PreflightCheckFailed
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StopInferenceExperimentOperator,
)
from airflow_provider_shadowtest.testing import create_endpoint, create_model
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, ENDPOINT, PRODUCTION_MODEL, ROLE_ARN, variants

_COMMON: dict[str, Any] = {"aws_conn_id": None, "poke_interval": 0.1, "deferrable": False}


def _short(name: str = "short-a", **kwargs: Any) -> CreateInferenceExperimentOperator:
    arguments: dict[str, Any] = {
        "task_id": "create",
        "name": name,
        "endpoint_name": ENDPOINT,
        "role_arn": ROLE_ARN,
        "shadow_model_name": CANDIDATE_MODEL,
        "sampling_percentage": "30",
        "duration": "PT2H",
        **_COMMON,
    }
    arguments.update(kwargs)
    return CreateInferenceExperimentOperator(**arguments)


def _stop(name: str, **kwargs: Any) -> StopInferenceExperimentOperator:
    return StopInferenceExperimentOperator(
        task_id="stop", experiment_name=name, promote=True, wait_for_completion=True, **_COMMON, **kwargs
    )


def _production(sagemaker: Any, endpoint: str = ENDPOINT) -> dict[str, Any]:
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    [variant] = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    return {k: variant[k] for k in ("VariantName", "ModelName", "InstanceType", "InitialInstanceCount")}


def _creates(emulator: Any) -> int:
    return int(emulator.stats().get("CreateInferenceExperiment", 0))


@pytest.fixture
def big_endpoint(sagemaker: Any) -> str:
    """Production on two ml.c5.2xlarge instances under a variant name nobody hard-codes."""
    create_endpoint(
        sagemaker, ENDPOINT, PRODUCTION_MODEL, variant_name="blue", instance_type="ml.c5.2xlarge", instance_count=2
    )
    create_model(sagemaker, CANDIDATE_MODEL)
    return ENDPOINT


def test_short_form_reads_the_production_variant_from_the_endpoint(
    big_endpoint: str, sagemaker: Any, context: Any
) -> None:
    result = _short().execute(context)
    described = sagemaker.describe_inference_experiment(Name="short-a")
    production = next(v for v in described["ModelVariants"] if v["VariantName"] == "blue")
    shadow = next(v for v in described["ModelVariants"] if v["VariantName"] != "blue")
    assert production["ModelName"] == PRODUCTION_MODEL
    assert production["InfrastructureConfig"]["RealTimeInferenceConfig"] == {
        "InstanceType": "ml.c5.2xlarge",
        "InstanceCount": 2,
    }
    assert shadow["ModelName"] == CANDIDATE_MODEL
    assert shadow["InfrastructureConfig"]["RealTimeInferenceConfig"] == {
        "InstanceType": "ml.c5.2xlarge",
        "InstanceCount": 2,
    }
    assert described["ShadowModeConfig"]["SourceModelVariantName"] == "blue"
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 30
    assert result["production_variant"] == "blue"
    assert result["shadow_variant"] == shadow["VariantName"]


def test_short_form_retry_reuses_its_experiment_even_after_the_promotion(
    big_endpoint: str, sagemaker: Any, emulator: Any, context: Any
) -> None:
    first = _short(start_time=None, duration="PT2H").execute(context)
    again = _short().execute(context)
    assert again["reused"] is True
    assert again["shadow_variant"] == first["shadow_variant"]
    _stop("short-a").execute(context)
    # The endpoint's production variant now carries the shadow's name; a retry still finds its own.
    assert _production(sagemaker)["VariantName"] == first["shadow_variant"]
    late = _short().execute(context)
    assert late["reused"] is True
    assert late["shadow_variant"] == first["shadow_variant"]
    assert _creates(emulator) == 1


def test_second_short_form_run_shadows_the_previous_winner(big_endpoint: str, sagemaker: Any, context: Any) -> None:
    first = _short("run-1").execute(context)
    _stop("run-1").execute(context)
    create_model(sagemaker, "fraud-v3")
    second = _short("run-2", shadow_model_name="fraud-v3").execute(context)
    assert second["production_variant"] == first["shadow_variant"]
    described = sagemaker.describe_inference_experiment(Name="run-2")
    source = next(v for v in described["ModelVariants"] if v["VariantName"] == second["production_variant"])
    assert source["ModelName"] == CANDIDATE_MODEL
    assert second["shadow_variant"] not in (first["shadow_variant"], "blue")


def test_bad_short_form_arguments_fail_before_any_aws_call(emulator: Any, context: Any) -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        _short(sampling_percentage="101", shadow_instance_type="ml.nope").execute(context)
    assert {path for path, _ in raised.value.errors} == {"sampling_percentage", "shadow_instance_type"}
    with pytest.raises(InvalidExperimentRequest, match="cannot be mixed"):
        _short(**variants()).execute(context)
    assert sum(emulator.stats().values()) == 0


def test_preflight_refuses_a_missing_endpoint(emulator: Any, context: Any) -> None:
    with pytest.raises(PreflightCheckFailed) as raised:
        _short().execute(context)
    assert raised.value.endpoint_name == ENDPOINT
    assert [rule for rule, _ in raised.value.problems] == ["endpoint-exists"]
    assert _creates(emulator) == 0


def test_preflight_refuses_another_running_experiment_but_reuses_its_own(
    big_endpoint: str, emulator: Any, context: Any
) -> None:
    _short("first").execute(context)
    with pytest.raises(PreflightCheckFailed, match=r"one-experiment-per-endpoint.*'first'"):
        _short("second").execute(context)
    assert _short("first").execute(context)["reused"] is True
    assert _creates(emulator) == 1


def test_preflight_refuses_excluded_endpoint_kinds(sagemaker: Any, emulator: Any, context: Any) -> None:
    create_model(sagemaker, PRODUCTION_MODEL)
    create_model(sagemaker, CANDIDATE_MODEL)
    sagemaker.create_endpoint_config(
        EndpointConfigName="serverless-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": PRODUCTION_MODEL,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="serverless-config")
    with pytest.raises(PreflightCheckFailed) as raised:
        _short().execute(context)
    assert "serverless-inference" in [rule for rule, _ in raised.value.problems]
    assert ENDPOINT in str(raised.value)
    assert _creates(emulator) == 0


def test_preflight_refuses_a_multi_model_production_model(sagemaker: Any, emulator: Any, context: Any) -> None:
    sagemaker.create_model(
        ModelName=PRODUCTION_MODEL,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1", "Mode": "MultiModel"},
    )
    create_endpoint(sagemaker, ENDPOINT, PRODUCTION_MODEL, create_model_if_missing=False)
    create_model(sagemaker, CANDIDATE_MODEL)
    with pytest.raises(PreflightCheckFailed, match="multi-model"):
        _short().execute(context)
    assert _creates(emulator) == 0


def test_full_form_with_a_stale_production_variant_is_refused(endpoint: str, emulator: Any, context: Any) -> None:
    stale = variants()
    stale["model_variants"][0]["ModelName"] = CANDIDATE_MODEL  # the endpoint serves PRODUCTION_MODEL
    op = CreateInferenceExperimentOperator(
        task_id="create", name="full", endpoint_name=ENDPOINT, role_arn=ROLE_ARN, duration="PT1H", **_COMMON, **stale
    )
    with pytest.raises(PreflightCheckFailed, match="production-model-served"):
        op.execute(context)
    assert _creates(emulator) == 0


@pytest.mark.parametrize(
    ("promote_with", "expected"),
    [
        (None, ("ml.c5.2xlarge", 2)),
        ("production_settings", ("ml.c5.2xlarge", 2)),
        ("shadow_settings", ("ml.m5.large", 1)),
        ("explicit", ("ml.c5.4xlarge", 3)),
    ],
)
def test_promote_with_sets_the_promoted_variants_instances(
    big_endpoint: str, sagemaker: Any, context: Any, promote_with: str | None, expected: tuple[str, int]
) -> None:
    created = _short(shadow_instance_type="ml.m5.large", shadow_instance_count=1).execute(context)
    shadow = created["shadow_variant"]
    if promote_with == "explicit":
        promote_with = (
            '[{"ModelName": "' + CANDIDATE_MODEL + '", "VariantName": "' + shadow + '", "InfrastructureConfig": '
            '{"InfrastructureType": "RealTimeInference", '
            '"RealTimeInferenceConfig": {"InstanceType": "ml.c5.4xlarge", "InstanceCount": "3"}}}]'
        )
    kwargs = {} if promote_with is None else {"promote_with": promote_with}
    time.sleep(0.4)  # Running
    _stop("short-a", **kwargs).execute(context)
    assert _production(sagemaker) == {
        "VariantName": shadow,
        "ModelName": CANDIDATE_MODEL,
        "InstanceType": expected[0],
        "InitialInstanceCount": expected[1],
    }


def test_promote_with_is_validated(big_endpoint: str, sagemaker: Any, context: Any) -> None:
    _short().execute(context)
    with pytest.raises(InvalidExperimentRequest, match="promote_with"):
        _stop("short-a", promote_with="cheapest").execute(context)
    wrong = [{"ModelName": CANDIDATE_MODEL, "VariantName": "nope", "InfrastructureConfig": {}}]
    with pytest.raises(InvalidExperimentRequest, match="promote_with"):
        _stop("short-a", promote_with=wrong).execute(context)
    assert sagemaker.describe_inference_experiment(Name="short-a")["Status"] not in ("Completed", "Cancelled")
