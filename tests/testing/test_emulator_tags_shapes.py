"""Tag operations on inference-experiment ARNs, and Describe outputs without empty members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_shadowtest.testing import shadow_test_request
from tests.testing.helpers_emulator import assert_matches_output

if TYPE_CHECKING:
    from collections.abc import Callable


def _create(sm: Any, **extra: Any) -> str:
    request = shadow_test_request("exp", "ep", "prod-model", "shadow-model", **extra)
    return str(sm.create_inference_experiment(**request)["InferenceExperimentArn"])


def _tags(sm: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def test_create_tags_are_listed_and_add_overwrites_delete_removes(sm: Any, endpoint: Any) -> None:
    endpoint()
    arn = _create(sm, Tags=[{"Key": "team", "Value": "ml"}, {"Key": "run", "Value": "1"}])
    assert _tags(sm, arn) == {"team": "ml", "run": "1"}
    added = sm.add_tags(ResourceArn=arn, Tags=[{"Key": "run", "Value": "2"}, {"Key": "owner", "Value": "ana"}])
    assert_matches_output("AddTags", added)
    assert _tags(sm, arn) == {"team": "ml", "run": "2", "owner": "ana"}
    sm.delete_tags(ResourceArn=arn, TagKeys=["team", "absent"])
    assert _tags(sm, arn) == {"run": "2", "owner": "ana"}
    # Describe does not return tags (the output shape has no Tags member)
    assert "Tags" not in sm.describe_inference_experiment(Name="exp")


def test_list_tags_paginator_sees_every_tag(sm: Any, endpoint: Any) -> None:
    # MaxResults is at least 50 and a resource holds at most 50 tags: one page
    endpoint()
    arn = _create(sm, Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(50)])
    page = sm.list_tags(ResourceArn=arn, MaxResults=50)
    assert len(page["Tags"]) == 50
    assert "NextToken" not in page
    pages = list(sm.get_paginator("list_tags").paginate(ResourceArn=arn))
    assert [t["Key"] for p in pages for t in p["Tags"]] == [f"k{i}" for i in range(50)]


def test_tags_of_an_unknown_experiment_and_reserved_keys(sm: Any, endpoint: Any) -> None:
    endpoint()
    arn = _create(sm)
    missing = arn.replace("/exp", "/nope")
    calls: list[Callable[[], Any]] = [
        lambda: sm.list_tags(ResourceArn=missing),
        lambda: sm.add_tags(ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}]),
        lambda: sm.delete_tags(ResourceArn=missing, TagKeys=["a"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)])
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_tags_of_other_resources_still_work(sm: Any, endpoint: Any) -> None:
    endpoint()
    arn = sm.describe_model(ModelName="prod-model")["ModelArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}])
    assert {"Key": "a", "Value": "b"} in sm.list_tags(ResourceArn=arn)["Tags"]


def test_describes_omit_members_that_were_not_configured(sm: Any, endpoint: Any) -> None:
    endpoint()
    model = sm.describe_model(ModelName="prod-model")
    assert "VpcConfig" not in model
    assert "Containers" not in model
    assert model["PrimaryContainer"]["Image"]
    config = sm.describe_endpoint_config(EndpointConfigName="ep-config")
    assert "DataCaptureConfig" not in config
    described = sm.describe_endpoint(EndpointName="ep")
    assert "DataCaptureConfig" not in described
    assert described["EndpointStatus"] == "InService"


def test_configured_members_are_kept(sm: Any, endpoint: Any) -> None:
    endpoint()
    sm.create_model(
        ModelName="vpc-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "i"},
        VpcConfig={"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    )
    assert sm.describe_model(ModelName="vpc-model")["VpcConfig"]["Subnets"] == ["subnet-1"]
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 50,
        "DestinationS3Uri": "s3://bucket/capture",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }
    sm.create_endpoint_config(
        EndpointConfigName="captured",
        ProductionVariants=[
            {"VariantName": "v", "ModelName": "vpc-model", "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 1}
        ],
        DataCaptureConfig=capture,
    )
    assert sm.describe_endpoint_config(EndpointConfigName="captured")["DataCaptureConfig"]["DestinationS3Uri"] == (
        "s3://bucket/capture"
    )
