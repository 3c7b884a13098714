"""Lifecycle of inference experiments on the emulator: schedule, start, stop, update, promotion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.testing import shadow_test_request
from tests.testing.helpers_emulator import T0, assert_matches_output

H = dt.timedelta(hours=1)


def _status(sm: Any, name: str = "exp") -> str:
    return str(sm.describe_inference_experiment(Name=name)["Status"])


def _variant_statuses(sm: Any, name: str = "exp") -> dict[str, str]:
    return {v["VariantName"]: v["Status"] for v in sm.describe_inference_experiment(Name=name)["ModelVariants"]}


def _create(sm: Any, name: str = "exp", **extra: Any) -> None:
    sm.create_inference_experiment(**shadow_test_request(name, "ep", "prod-model", "shadow-model", **extra))


def test_scheduled_experiment_runs_then_completes_and_endpoint_is_unchanged(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    before = sm.describe_endpoint(EndpointName="ep")
    _create(sm, Schedule={"StartTime": T0 + H, "EndTime": T0 + 3 * H}, Description="d")
    described = sm.describe_inference_experiment(Name="exp")
    assert_matches_output("DescribeInferenceExperiment", described)
    assert described["Status"] == "Creating"
    assert set(_variant_statuses(sm).values()) == {"Creating"}
    assert described["Schedule"] == {"StartTime": T0 + H, "EndTime": T0 + 3 * H}
    assert described["EndpointMetadata"] == {
        "EndpointName": "ep",
        "EndpointConfigName": "ep-config",
        "EndpointStatus": "InService",
    }
    assert "Tags" not in described
    clock.shift(1.5)
    assert _status(sm) == "Created"
    assert set(_variant_statuses(sm).values()) == {"InService"}
    assert "ShadowProductionVariants" not in sm.describe_endpoint(EndpointName="ep")
    clock.move_to(T0 + H + dt.timedelta(seconds=0.5))
    assert _status(sm) == "Starting"
    clock.shift(1)
    assert _status(sm) == "Running"
    shadow = sm.describe_endpoint(EndpointName="ep")["ShadowProductionVariants"]
    assert [v["VariantName"] for v in shadow] == ["shadow"]
    clock.move_to(T0 + 3 * H)
    done = sm.describe_inference_experiment(Name="exp")
    assert done["Status"] == "Completed"
    assert done["CompletionTime"] == T0 + 3 * H
    assert _variant_statuses(sm) == {"AllTraffic": "InService", "shadow": "Deleted"}
    after = sm.describe_endpoint(EndpointName="ep")
    for key in ("EndpointConfigName", "ProductionVariants"):
        assert after[key] == before[key]
    assert "ShadowProductionVariants" not in after


def test_no_schedule_starts_now_and_ends_after_seven_days(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    schedule = sm.describe_inference_experiment(Name="exp")["Schedule"]
    assert schedule == {"StartTime": T0, "EndTime": T0 + dt.timedelta(days=7)}
    assert _status(sm) == "Creating"
    clock.shift(1)
    assert _status(sm) == "Starting"
    clock.shift(1)
    assert _status(sm) == "Running"
    clock.move_to(T0 + dt.timedelta(days=7))
    assert _status(sm) == "Completed"


def test_start_moves_created_to_starting_now_and_caps_the_end(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    start, end = T0 + dt.timedelta(days=10), T0 + dt.timedelta(days=39)
    _create(sm, Schedule={"StartTime": start, "EndTime": end})
    clock.shift(2)
    assert _status(sm) == "Created"
    arn = sm.start_inference_experiment(Name="exp")
    assert_matches_output("StartInferenceExperiment", arn)
    now = T0 + dt.timedelta(seconds=2)
    assert _status(sm) == "Starting"
    assert sm.describe_inference_experiment(Name="exp")["Schedule"] == {
        "StartTime": now,
        "EndTime": now + dt.timedelta(days=30),
    }
    clock.shift(1)
    assert _status(sm) == "Running"
    with pytest.raises(sm.exceptions.ConflictException):
        sm.start_inference_experiment(Name="exp")


@pytest.mark.parametrize("desired", [None, "Completed", "Cancelled"])
def test_stop_while_created(sm: Any, endpoint: Any, clock: Any, desired: str | None) -> None:
    endpoint()
    _create(sm, Schedule={"StartTime": T0 + H, "EndTime": T0 + 2 * H})
    clock.shift(1)
    extra = {"DesiredState": desired} if desired else {}
    stopped = sm.stop_inference_experiment(
        Name="exp", ModelVariantActions={"shadow": "Remove", "AllTraffic": "Retain"}, Reason="not needed", **extra
    )
    assert_matches_output("StopInferenceExperiment", stopped)
    assert _status(sm) == "Stopping"
    assert _variant_statuses(sm) == {"AllTraffic": "InService", "shadow": "Deleting"}
    clock.shift(1)
    described = sm.describe_inference_experiment(Name="exp")
    # DescribeInferenceExperiment: an experiment concluded early through Stop "shows as cancelled"
    assert described["Status"] == (desired or "Cancelled")
    assert described["StatusReason"] == "not needed"
    assert _variant_statuses(sm) == {"AllTraffic": "InService", "shadow": "Deleted"}
    clock.move_to(T0 + 3 * H)
    assert _status(sm) == (desired or "Cancelled")


def test_stop_while_running_promotes_the_shadow_model(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint(instance_type="ml.m5.xlarge", instance_count=2)
    _create(sm)
    clock.shift(2)
    assert _status(sm) == "Running"
    desired = [
        {
            "ModelName": "shadow-model",
            "VariantName": "shadow",
            "InfrastructureConfig": {
                "InfrastructureType": "RealTimeInference",
                "RealTimeInferenceConfig": {"InstanceType": "ml.m6i.2xlarge", "InstanceCount": 3},
            },
        }
    ]
    sm.stop_inference_experiment(
        Name="exp",
        ModelVariantActions={"shadow": "Promote", "AllTraffic": "Remove"},
        DesiredModelVariants=desired,
        DesiredState="Completed",
        Reason="shadow wins",
    )
    # the guide: promotion updates the endpoint; DescribeEndpoint says Updating meanwhile
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Updating"
    assert _variant_statuses(sm) == {"AllTraffic": "Deleting", "shadow": "Updating"}
    clock.shift(1)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    described = sm.describe_inference_experiment(Name="exp")
    assert described["Status"] == "Completed"
    assert described["EndpointMetadata"]["EndpointStatus"] == "InService"
    assert _variant_statuses(sm) == {"AllTraffic": "Deleted", "shadow": "InService"}
    config_name = sm.describe_endpoint(EndpointName="ep")["EndpointConfigName"]
    assert config_name != "ep-config"
    assert described["EndpointMetadata"]["EndpointConfigName"] == config_name
    # "the shadow variant as your production variant, and your production variant has been removed"
    (variant,) = sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    assert variant["VariantName"] == "shadow"
    assert variant["ModelName"] == "shadow-model"
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m6i.2xlarge", 3)
    (old,) = sm.describe_endpoint_config(EndpointConfigName="ep-config")["ProductionVariants"]
    assert old["ModelName"] == "prod-model"
    (endpoint_variant,) = sm.describe_endpoint(EndpointName="ep")["ProductionVariants"]
    assert (endpoint_variant["VariantName"], endpoint_variant["CurrentInstanceCount"]) == ("shadow", 3)


def test_promotion_without_desired_variants_keeps_production_instances(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint(instance_type="ml.c5.xlarge", instance_count=2)
    _create(sm, instance_type="ml.g4dn.xlarge")
    clock.shift(2)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Promote", "AllTraffic": "Remove"})
    config_name = sm.describe_endpoint(EndpointName="ep")["EndpointConfigName"]
    (variant,) = sm.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    assert (variant["VariantName"], variant["ModelName"]) == ("shadow", "shadow-model")
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.c5.xlarge", 2)


def test_retain_keeps_the_shadow_variant_on_the_endpoint(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    clock.shift(2)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Retain", "AllTraffic": "Retain"})
    clock.shift(1)
    assert _variant_statuses(sm) == {"AllTraffic": "InService", "shadow": "InService"}
    described = sm.describe_endpoint(EndpointName="ep")
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    assert config["ProductionVariants"][0]["ModelName"] == "prod-model"
    assert [v["ModelName"] for v in config["ShadowProductionVariants"]] == ["shadow-model"]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["shadow"]


def test_an_endpoint_with_a_retained_shadow_variant_takes_no_new_experiment(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    clock.shift(2)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Retain", "AllTraffic": "Retain"})
    clock.shift(1)
    assert _status(sm) == "Cancelled"
    with pytest.raises(sm.exceptions.ClientError) as err:
        _create(sm, "exp2")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    message = err.value.response["Error"]["Message"]
    assert "endpoint ep" in message
    assert "shadow variant" in message
    assert [e["Name"] for e in sm.list_inference_experiments()["InferenceExperiments"]] == ["exp"]


def test_metrics_outlive_the_deleted_experiment(emulator: Any, sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    clock.shift(10 * 60)
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove", "AllTraffic": "Retain"})
    clock.shift(2)
    cw = emulator.client("cloudwatch")

    def invocations(variant: str) -> float:
        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName="Invocations",
            Dimensions=[{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": variant}],
            StartTime=T0 - H,
            EndTime=T0 + H,
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        return float(sum(p["Sum"] for p in points))

    before = {v: invocations(v) for v in ("AllTraffic", "shadow")}
    assert min(before.values()) > 0
    sm.delete_inference_experiment(Name="exp")
    assert sm.list_inference_experiments()["InferenceExperiments"] == []
    # Delete removes the experiment's metadata; CloudWatch keeps the metrics
    assert {v: invocations(v) for v in ("AllTraffic", "shadow")} == before


def test_update_while_created_changes_anything(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm, Schedule={"StartTime": T0 + H, "EndTime": T0 + 2 * H})
    clock.shift(1)
    result = sm.update_inference_experiment(
        Name="exp",
        Schedule={"StartTime": T0 + 2 * H, "EndTime": T0 + 5 * H},
        Description="later",
        ShadowModeConfig={
            "SourceModelVariantName": "AllTraffic",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 10}],
        },
    )
    assert_matches_output("UpdateInferenceExperiment", result)
    assert _status(sm) == "Updating"
    assert set(_variant_statuses(sm).values()) == {"Updating"}
    clock.shift(1)
    described = sm.describe_inference_experiment(Name="exp")
    assert described["Status"] == "Created"
    assert described["Schedule"] == {"StartTime": T0 + 2 * H, "EndTime": T0 + 5 * H}
    assert described["Description"] == "later"
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 10
    assert described["LastModifiedTime"] == T0 + dt.timedelta(seconds=1)


def test_update_while_running_allows_end_description_and_sampling_only(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm, Schedule={"StartTime": T0, "EndTime": T0 + 2 * H})
    clock.shift(2)
    assert _status(sm) == "Running"
    sm.update_inference_experiment(
        Name="exp",
        Schedule={"EndTime": T0 + 4 * H},
        Description="longer",
        ShadowModeConfig={
            "SourceModelVariantName": "AllTraffic",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 100}],
        },
    )
    assert _status(sm) == "Updating"
    with pytest.raises(sm.exceptions.ConflictException):
        sm.update_inference_experiment(Name="exp", Description="while updating")
    clock.shift(1)
    assert _status(sm) == "Running"
    with pytest.raises(sm.exceptions.ConflictException) as err:
        sm.update_inference_experiment(Name="exp", Schedule={"StartTime": T0 + H, "EndTime": T0 + 4 * H})
    assert "Schedule.StartTime" in err.value.response["Error"]["Message"]
    clock.move_to(T0 + 3 * H)
    assert _status(sm) == "Running"
    clock.move_to(T0 + 4 * H)
    assert _status(sm) == "Completed"
    with pytest.raises(sm.exceptions.ConflictException):
        sm.update_inference_experiment(Name="exp", Description="too late")


def test_delete_removes_only_the_experiment(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    _create(sm)
    clock.shift(2)
    with pytest.raises(sm.exceptions.ConflictException):
        sm.delete_inference_experiment(Name="exp")
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove"})
    clock.shift(1)
    deleted = sm.delete_inference_experiment(Name="exp")
    assert_matches_output("DeleteInferenceExperiment", deleted)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_inference_experiment(Name="exp")
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    _create(sm)  # the endpoint is free again


def test_real_time_transitions_without_time_travel(sm: Any, endpoint: Any, emulator: Any) -> None:
    import time

    emulator.handle.configure(transition_seconds=0.05)
    endpoint()
    _create(sm)
    time.sleep(0.15)
    assert _status(sm) == "Running"
