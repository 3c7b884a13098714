"""Pre-flight rules over Describe results: each rule fails on its case and passes on a plain endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription
from airflow_provider_shadowtest.experiment.preflight import (
    active_experiment_problems,
    endpoint_problems,
    full_form_problems,
    preflight_problems,
)

VARIANT = {"VariantName": "AllTraffic", "ModelName": "m1", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}
MODEL = {"ModelName": "m1", "PrimaryContainer": {"Image": "img"}}


def _endpoint(
    variant: dict[str, Any] | None = None,
    *,
    status: str = "InService",
    config: dict[str, Any] | None = None,
    model: dict[str, Any] | None = MODEL,
    endpoint: dict[str, Any] | None = None,
) -> EndpointDescription:
    variant = variant or VARIANT
    return EndpointDescription(
        name="churn",
        endpoint={"EndpointName": "churn", "EndpointStatus": status, **(endpoint or {})},
        config={"ProductionVariants": [variant], **(config or {})},
        models={str(variant.get("ModelName")): model},
    )


def _rules(endpoint: EndpointDescription) -> list[str]:
    return [rule for rule, _ in endpoint_problems(endpoint)]


def test_a_plain_in_service_endpoint_passes() -> None:
    assert endpoint_problems(_endpoint()) == []


@pytest.mark.parametrize(
    ("endpoint", "rule"),
    [
        (EndpointDescription(name="churn", endpoint=None), "endpoint-exists"),
        (_endpoint(status="Updating"), "endpoint-in-service"),
        (_endpoint(status="Failed", endpoint={"FailureReason": "boom"}), "endpoint-in-service"),
        (
            _endpoint({**VARIANT, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}),
            "serverless-inference",
        ),
        (
            _endpoint(config={"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://b/o"}}}),
            "asynchronous-inference",
        ),
        (_endpoint({**VARIANT, "InstanceType": "ml.inf1.xlarge"}), "inf1-instances"),
        (_endpoint({**VARIANT, "AcceleratorType": "ml.eia2.medium"}), "elastic-inference"),
        (_endpoint({"VariantName": "AllTraffic", "InstanceType": "ml.m5.xlarge"}), "inference-components"),
        (_endpoint(model={"ModelName": "m1", "Containers": [{"Image": "a"}, {"Image": "b"}]}), "multiple-containers"),
        (_endpoint(model={"ModelName": "m1", "PrimaryContainer": {"Image": "a", "Mode": "MultiModel"}}), "multi-model"),
        (_endpoint(model=None), "model-exists"),
        (_endpoint(config={"ShadowProductionVariants": [{"VariantName": "old-shadow"}]}), "one-shadow-variant"),
    ],
)
def test_each_rule_names_the_endpoint(endpoint: EndpointDescription, rule: str) -> None:
    problems = endpoint_problems(endpoint)
    assert [r for r, _ in problems] == [rule]
    assert "'churn'" in problems[0][1]


def test_two_production_variants_are_refused() -> None:
    endpoint = EndpointDescription(
        name="churn",
        endpoint={"EndpointStatus": "InService"},
        config={"ProductionVariants": [VARIANT, {**VARIANT, "VariantName": "B"}]},
        models={"m1": MODEL},
    )
    assert _rules(endpoint) == ["one-production-variant"]


def _experiment(name: str, status: str, endpoint: str = "churn") -> dict[str, Any]:
    return {"Name": name, "Status": status, "EndpointMetadata": {"EndpointName": endpoint}}


def test_another_active_experiment_on_the_endpoint_is_refused_but_not_our_own() -> None:
    experiments = [
        _experiment("ours", "Running"),
        _experiment("elsewhere", "Running", endpoint="other"),
        _experiment("old", "Completed"),
        _experiment("scheduled", "Created"),
    ]
    problems = active_experiment_problems("churn", "ours", experiments)
    assert [(rule, "'scheduled'" in message) for rule, message in problems] == [("one-experiment-per-endpoint", True)]
    assert active_experiment_problems("churn", "ours", experiments[:3]) == []


def _full_request(variant: str = "AllTraffic", model: str = "m1") -> dict[str, Any]:
    return {
        "ModelVariants": [{"VariantName": variant, "ModelName": model}, {"VariantName": "cand", "ModelName": "m2"}],
        "ShadowModeConfig": {
            "SourceModelVariantName": variant,
            "ShadowModelVariants": [{"ShadowModelVariantName": "cand"}],
        },
    }


def test_full_form_production_must_be_what_the_endpoint_serves() -> None:
    assert full_form_problems(_endpoint(), _full_request()) == []
    [(rule, message)] = full_form_problems(_endpoint(), _full_request(model="m0"))
    assert rule == "production-model-served"
    assert "'m1'" in message
    assert "'m0'" in message
    [(rule, message)] = full_form_problems(_endpoint(), _full_request(variant="Old"))
    assert rule == "source-is-production"
    assert "short form" in message


def test_preflight_checks_the_shadow_model_too() -> None:
    endpoint = EndpointDescription(
        name="churn",
        endpoint={"EndpointStatus": "InService"},
        config={"ProductionVariants": [VARIANT]},
        models={"m1": MODEL, "m2": None},
    )
    problems = preflight_problems(endpoint, _full_request(), experiment_name="x", active_experiments=[], full_form=True)
    assert [rule for rule, _ in problems] == ["model-exists"]
    assert "shadow model 'm2'" in problems[0][1]
