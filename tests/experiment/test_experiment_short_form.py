"""The short form of build_create_request: the production variant comes from the endpoint as read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.experiment import build_create_request
from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription
from airflow_provider_shadowtest.experiment.request import short_form_problems
from airflow_provider_shadowtest.experiment.short_form import derive_shadow_variant_name

ROLE = "arn:aws:iam::123456789012:role/ShadowTest"
VARIANT_PATTERN = re.compile(r"[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?")


def _endpoint(*variants: dict[str, Any], current_count: int | None = None) -> EndpointDescription:
    runtime = [{"VariantName": v["VariantName"], "CurrentInstanceCount": current_count} for v in variants]
    return EndpointDescription(
        name="churn",
        endpoint={"EndpointName": "churn", "EndpointStatus": "InService", "ProductionVariants": runtime},
        config={"ProductionVariants": list(variants)},
    )


PROD = {"VariantName": "blue-7", "ModelName": "churn-v7", "InstanceType": "ml.c5.xlarge", "InitialInstanceCount": 2}


def _short(**kwargs: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "name": "retrain-churn-20260101",
        "endpoint_name": "churn",
        "role_arn": ROLE,
        "shadow_model_name": "churn-v8",
        "endpoint_description": _endpoint(PROD),
    }
    arguments.update(kwargs)
    return build_create_request(**arguments)


def test_short_form_copies_the_production_variant_and_mirrors_it_on_the_same_instances() -> None:
    request = _short(sampling_percentage="40")
    production, shadow = request["ModelVariants"]
    assert production == {
        "ModelName": "churn-v7",
        "VariantName": "blue-7",
        "InfrastructureConfig": {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 2},
        },
    }
    assert shadow["ModelName"] == "churn-v8"
    assert shadow["InfrastructureConfig"] == production["InfrastructureConfig"]
    assert request["ShadowModeConfig"] == {
        "SourceModelVariantName": "blue-7",
        "ShadowModelVariants": [{"ShadowModelVariantName": shadow["VariantName"], "SamplingPercentage": 40}],
    }


def test_short_form_takes_the_instance_count_serving_now_and_explicit_shadow_settings() -> None:
    request = _short(
        endpoint_description=_endpoint(PROD, current_count=5),
        shadow_variant_name="candidate-8",
        shadow_instance_type="ml.g5.xlarge",
        shadow_instance_count="1",
    )
    production, shadow = request["ModelVariants"]
    assert production["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"] == 5
    assert shadow["VariantName"] == "candidate-8"
    assert shadow["InfrastructureConfig"]["RealTimeInferenceConfig"] == {
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 1,
    }
    assert request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 100


def test_derived_shadow_name_is_valid_stable_and_differs_from_the_endpoints_variants() -> None:
    long_name = "x" * 100 + "-" * 5 + "y" * 15
    for experiment in ("retrain-churn-20260101", long_name, "a"):
        name = derive_shadow_variant_name(experiment, set())
        assert VARIANT_PATTERN.fullmatch(name), name
        assert len(name) <= 63
        assert derive_shadow_variant_name(experiment, set()) == name
        other = derive_shadow_variant_name(experiment, {name})
        assert other != name
        assert VARIANT_PATTERN.fullmatch(other)
        assert len(other) <= 63
    assert derive_shadow_variant_name("run-1", set()) != derive_shadow_variant_name("run-2", set())
    # the endpoint's production variant is taken: the derived name avoids it
    taken_name = derive_shadow_variant_name("retrain-churn-20260101", set())
    request = _short(endpoint_description=_endpoint({**PROD, "VariantName": taken_name}))
    shadow = request["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
    assert shadow != taken_name
    # a retry builds the same request
    assert _short() == _short()


def test_short_form_problems_name_the_short_form_arguments() -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        _short(
            sampling_percentage=101,
            shadow_instance_type="ml.huge",
            shadow_instance_count=-1,
            shadow_model_name="bad_name",
        )
    fields = {path for path, _ in raised.value.errors}
    assert fields == {"sampling_percentage", "shadow_instance_type", "shadow_instance_count", "shadow_model_name"}


def test_shadow_name_equal_to_production_is_refused_naming_shadow_variant_name() -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        _short(shadow_variant_name="blue-7")
    assert {path for path, _ in raised.value.errors} == {"shadow_variant_name"}


def test_mixing_the_forms_is_an_error_naming_the_fields() -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        _short(model_variants=[{"ModelName": "m", "VariantName": "v"}], sampling_percentage=20)
    fields = {path for path, _ in raised.value.errors}
    assert {"shadow_model_name", "model_variants"} <= fields
    assert "cannot be mixed" in str(raised.value)


def test_short_form_without_model_or_endpoint_is_refused() -> None:
    with pytest.raises(InvalidExperimentRequest, match="shadow_model_name: required by the short form"):
        _short(shadow_model_name=None, sampling_percentage=10)
    with pytest.raises(InvalidExperimentRequest, match="endpoint_description"):
        _short(endpoint_description=None)


def test_endpoint_with_two_production_variants_cannot_be_shadowed() -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        _short(endpoint_description=_endpoint(PROD, {**PROD, "VariantName": "green"}))
    assert raised.value.errors[0][0] == "endpoint_name"
    assert "2 production variants" in raised.value.errors[0][1]


def test_short_form_arguments_are_checked_before_the_endpoint_is_read() -> None:
    arguments = {"name": "exp", "endpoint_name": "churn", "role_arn": ROLE, "shadow_model_name": "churn-v8"}
    assert short_form_problems(**arguments) == []
    problems = short_form_problems(**arguments, sampling_percentage="lots", shadow_instance_count=0.5)
    assert {path for path, _ in problems} == {"sampling_percentage", "shadow_instance_count"}


def test_retry_rebuilds_the_request_from_the_experiment_it_created() -> None:
    first = _short()
    described = {
        "EndpointMetadata": {"EndpointName": "churn"},
        "ModelVariants": first["ModelVariants"],
        "ShadowModeConfig": first["ShadowModeConfig"],
    }
    assert _short(endpoint_description=EndpointDescription.from_experiment(described)) == first
