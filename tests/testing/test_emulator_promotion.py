"""Promotion, Retain and Remove as the AWS guide documents them, and the stop and update rules.

"Promote a shadow variant" (SageMaker developer guide): afterwards the endpoint uses the shadow
variant as its production variant and the old production variant is removed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_shadowtest.testing import shadow_test_request

H = dt.timedelta(hours=1)

if TYPE_CHECKING:
    from collections.abc import Callable


def _create(sm: Any, name: str = "exp", **extra: Any) -> None:
    sm.create_inference_experiment(**shadow_test_request(name, "ep", "prod-model", "shadow-model", **extra))


def _variant_statuses(sm: Any, name: str = "exp") -> dict[str, str]:
    return {v["VariantName"]: v["Status"] for v in sm.describe_inference_experiment(Name=name)["ModelVariants"]}


def _production(sm: Any) -> list[tuple[str, str, str, int]]:
    config = sm.describe_endpoint(EndpointName="ep")["EndpointConfigName"]
    variants = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    return [(v["VariantName"], v["ModelName"], v["InstanceType"], v["InitialInstanceCount"]) for v in variants]


def _running(sm: Any, endpoint: Any, clock: Any, **extra: Any) -> None:
    endpoint(instance_type="ml.c5.xlarge", instance_count=2)
    _create(sm, instance_type="ml.g4dn.xlarge", **extra)
    clock.shift(2)


def test_promotion_gives_the_endpoint_the_shadow_variant_and_the_statuses_agree(
    sm: Any, endpoint: Any, clock: Any
) -> None:
    _running(sm, endpoint, clock)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Promote"})
    clock.shift(1)
    # one production variant: the shadow's name and model, production's instances (recommended)
    assert _production(sm) == [("shadow", "shadow-model", "ml.c5.xlarge", 2)]
    summary = sm.describe_endpoint(EndpointName="ep")
    assert [v["VariantName"] for v in summary["ProductionVariants"]] == ["shadow"]
    assert "ShadowProductionVariants" not in summary
    # the experiment says the same: production removed (left out: Remove), shadow in service
    assert _variant_statuses(sm) == {"AllTraffic": "Deleted", "shadow": "InService"}


def test_a_second_experiment_uses_the_promoted_variant_as_its_source(sm: Any, endpoint: Any, clock: Any) -> None:
    _running(sm, endpoint, clock)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Promote", "AllTraffic": "Remove"})
    clock.shift(1)
    sm.create_model(
        ModelName="next-model", ExecutionRoleArn="arn:aws:iam::123456789012:role/r", PrimaryContainer={"Image": "i"}
    )
    stale = shadow_test_request("again", "ep", "shadow-model", "next-model", production_variant="AllTraffic")
    with pytest.raises(ClientError) as err:
        sm.create_inference_experiment(**stale)
    assert "not a production variant" in err.value.response["Error"]["Message"]
    fresh = shadow_test_request(
        "again", "ep", "shadow-model", "next-model", production_variant="shadow", shadow_variant="next"
    )
    sm.create_inference_experiment(**fresh)
    clock.shift(2)
    sm.stop_inference_experiment(Name="again", ModelVariantActions={"next": "Promote"})
    clock.shift(1)
    assert [v[:2] for v in _production(sm)] == [("next", "next-model")]


def test_desired_model_variants_set_the_promoted_instances(sm: Any, endpoint: Any, clock: Any) -> None:
    _running(sm, endpoint, clock)
    infra = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m6i.xlarge", "InstanceCount": 4},
    }
    sm.stop_inference_experiment(
        Name="exp",
        ModelVariantActions={"shadow": "Promote", "AllTraffic": "Remove"},
        DesiredModelVariants=[{"ModelName": "shadow-model", "VariantName": "shadow", "InfrastructureConfig": infra}],
    )
    assert _production(sm) == [("shadow", "shadow-model", "ml.m6i.xlarge", 4)]


def test_remove_leaves_production_as_it_was(sm: Any, endpoint: Any, clock: Any) -> None:
    _running(sm, endpoint, clock)
    before = _production(sm)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"AllTraffic": "Retain", "shadow": "Remove"})
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Updating"
    clock.shift(1)
    assert _production(sm) == before
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    assert _variant_statuses(sm) == {"AllTraffic": "InService", "shadow": "Deleted"}


def test_retain_keeps_both_and_the_endpoint_stays_in_service(sm: Any, endpoint: Any, clock: Any) -> None:
    _running(sm, endpoint, clock)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"AllTraffic": "Retain", "shadow": "Retain"})
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    clock.shift(1)
    described = sm.describe_endpoint(EndpointName="ep")
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["shadow"]
    assert [v[0] for v in _production(sm)] == ["AllTraffic"]


@pytest.mark.parametrize(
    "case",
    [
        ({"AllTraffic": "Promote"}, None, "only the shadow variant can be promoted"),
        ({"AllTraffic": "Remove", "shadow": "Remove"}, None, "removed only when the shadow variant is promoted"),
        ({"AllTraffic": "Retain", "shadow": "Promote"}, None, "replaces the production variant"),
        ({"other": "Remove"}, None, "not a variant of the experiment"),
        ({"shadow": "Promote"}, "AllTraffic", "not deployed after the stop"),
        ({"shadow": "Remove"}, "shadow", "not deployed after the stop"),
    ],
)
def test_contradictory_stop_requests_are_validation_errors(
    sm: Any, endpoint: Any, clock: Any, case: tuple[dict[str, str], str | None, str]
) -> None:
    actions, desired, needle = case
    _running(sm, endpoint, clock)
    before = _production(sm)
    extra: dict[str, Any] = {}
    if desired:
        infra = {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        }
        extra["DesiredModelVariants"] = [{"ModelName": "m", "VariantName": desired, "InfrastructureConfig": infra}]
    with pytest.raises(ClientError) as err:
        sm.stop_inference_experiment(Name="exp", ModelVariantActions=actions, **extra)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert needle in err.value.response["Error"]["Message"]
    assert sm.describe_inference_experiment(Name="exp")["Status"] == "Running"
    assert _production(sm) == before


def test_running_refuses_a_start_time_even_unchanged(sm: Any, endpoint: Any, clock: Any) -> None:
    """UpdateInferenceExperiment: "If the status ... is Running, then you can update only the end date"."""
    _running(sm, endpoint, clock)
    current = sm.describe_inference_experiment(Name="exp")["Schedule"]
    with pytest.raises(sm.exceptions.ConflictException) as err:
        sm.update_inference_experiment(Name="exp", Schedule={"StartTime": current["StartTime"]})
    assert "Schedule.StartTime" in err.value.response["Error"]["Message"]
    with pytest.raises(sm.exceptions.ConflictException):
        sm.update_inference_experiment(Name="exp", DataStorageConfig={"Destination": "s3://bucket/capture"})


def test_running_accepts_a_sampling_change_that_repeats_the_variant_names(sm: Any, endpoint: Any, clock: Any) -> None:
    _running(sm, endpoint, clock)
    config = sm.describe_inference_experiment(Name="exp")["ShadowModeConfig"]
    config["ShadowModelVariants"][0]["SamplingPercentage"] = 100
    sm.update_inference_experiment(Name="exp", ShadowModeConfig=config)
    renamed = {**config, "ShadowModelVariants": [{"ShadowModelVariantName": "shadow2", "SamplingPercentage": 100}]}
    with pytest.raises(sm.exceptions.ConflictException):
        sm.update_inference_experiment(Name="exp", ShadowModeConfig=renamed)
    clock.shift(1)
    described = sm.describe_inference_experiment(Name="exp")["ShadowModeConfig"]
    assert described["ShadowModelVariants"][0]["SamplingPercentage"] == 100


def test_transitional_statuses_refuse_every_change(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    calls: list[Callable[[], Any]] = [
        lambda: sm.start_inference_experiment(Name="exp"),
        lambda: sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove"}),
        lambda: sm.delete_inference_experiment(Name="exp"),
        lambda: sm.update_inference_experiment(Name="exp", Description="x"),
    ]
    for call in calls:
        with pytest.raises(sm.exceptions.ConflictException) as err:
            call()
        assert "Creating" in err.value.response["Error"]["Message"]
