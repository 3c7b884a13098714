"""Bad requests are answered as SageMaker answers them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_shadowtest.testing import shadow_test_request
from tests.testing.helpers_emulator import T0


def _request(name: str = "exp", **kwargs: Any) -> dict[str, Any]:
    return shadow_test_request(name, "ep", "prod-model", "shadow-model", **kwargs)


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_constraint_violations_are_one_validation_exception(sm: Any, endpoint: Any) -> None:
    endpoint()
    with pytest.raises(ClientError) as err:
        sm.create_inference_experiment(**_request("x" * 121, sampling_percent=101))
    assert _code(err) == "ValidationException"
    message = err.value.response["Error"]["Message"]
    assert "Name" in message
    assert "SamplingPercentage" in message
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"EndpointName": "nope"}, "endpoint"),
        ({"shadow_model": "missing-model"}, "model"),
        ({"production_variant": "Other"}, "production variant"),
        ({"shadow_missing": True}, "ModelVariants"),
        ({"Schedule": {"StartTime": T0, "EndTime": T0 + dt.timedelta(days=31)}}, "30 days"),
        ({"Schedule": {"StartTime": T0, "EndTime": T0 - dt.timedelta(hours=1)}}, "EndTime"),
        ({"instance_type": "ml.bogus.xlarge"}, "InstanceType"),
    ],
)
def test_semantic_errors_are_validation_exceptions(
    sm: Any, endpoint: Any, clock: Any, change: dict[str, Any], needle: str
) -> None:
    endpoint()
    kwargs = {k: v for k, v in change.items() if k in ("production_variant", "instance_type")}
    request = shadow_test_request("exp", "ep", "prod-model", change.get("shadow_model", "shadow-model"), **kwargs)
    if "EndpointName" in change:
        request["EndpointName"] = change["EndpointName"]
    if "Schedule" in change:
        request["Schedule"] = change["Schedule"]
    if change.get("shadow_missing"):
        request["ModelVariants"] = request["ModelVariants"][:1]
    with pytest.raises(ClientError) as err:
        sm.create_inference_experiment(**request)
    assert _code(err) == "ValidationException"
    assert needle.lower() in err.value.response["Error"]["Message"].lower()


def test_resource_in_use(sm: Any, endpoint: Any) -> None:
    endpoint()
    sm.create_inference_experiment(**_request("exp"))
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_inference_experiment(**_request("exp"))
    with pytest.raises(sm.exceptions.ResourceInUse) as err:
        sm.create_inference_experiment(**_request("second"))
    assert "active" in err.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("describe_inference_experiment", {}),
        ("start_inference_experiment", {}),
        ("delete_inference_experiment", {}),
        ("update_inference_experiment", {"Description": "x"}),
        ("stop_inference_experiment", {"ModelVariantActions": {"shadow": "Remove"}}),
    ],
)
def test_resource_not_found(sm: Any, operation: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFound):
        getattr(sm, operation)(Name="ghost", **kwargs)


def test_conflicts_follow_the_status(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    sm.create_inference_experiment(**_request())
    calls: list[tuple[str, dict[str, Any]]] = [
        ("start_inference_experiment", {}),
        ("stop_inference_experiment", {"ModelVariantActions": {"shadow": "Remove"}}),
        ("delete_inference_experiment", {}),
        ("update_inference_experiment", {"Description": "x"}),
    ]
    for operation, kwargs in calls:
        with pytest.raises(sm.exceptions.ConflictException):
            getattr(sm, operation)(Name="exp", **kwargs)  # Creating
    clock.shift(2)
    with pytest.raises(sm.exceptions.ConflictException):
        sm.start_inference_experiment(Name="exp")  # Running
    sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove"}, DesiredState="Cancelled")
    clock.shift(1)
    with pytest.raises(sm.exceptions.ConflictException):
        sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove"})


def test_stop_validation(sm: Any, endpoint: Any, clock: Any) -> None:
    endpoint()
    sm.create_inference_experiment(**_request())
    clock.shift(2)
    for actions in ({"unknown": "Remove"}, {"AllTraffic": "Promote"}, {"AllTraffic": "Remove", "shadow": "Retain"}):
        with pytest.raises(ClientError) as err:
            sm.stop_inference_experiment(Name="exp", ModelVariantActions=actions)
        assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.stop_inference_experiment(Name="exp", ModelVariantActions={"shadow": "Remove"}, Reason="r" * 1025)
    assert _code(err) == "ValidationException"
    assert sm.describe_inference_experiment(Name="exp")["Status"] == "Running"


def test_name_and_list_constraints(sm: Any) -> None:
    with pytest.raises(ClientError) as err:
        sm.describe_inference_experiment(Name="bad_name")
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.list_inference_experiments(MaxResults=101)
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.list_inference_experiments(NextToken="garbage!")
    assert _code(err) == "ValidationException"
