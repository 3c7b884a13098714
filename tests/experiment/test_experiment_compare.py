"""config_differences: a retried create recognises the experiment its first try created."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.experiment import config_differences
from tests.experiment.shadowtest_requests import END, START, api_request, variant

UTC = dt.timezone.utc


def described(request: dict[str, Any], status: str = "Created") -> dict[str, Any]:
    """What DescribeInferenceExperiment answers for the experiment this request created."""
    out = copy.deepcopy(request)
    out.pop("Tags", None)
    endpoint = out.pop("EndpointName")
    out["EndpointMetadata"] = {"EndpointName": endpoint, "EndpointConfigName": "cfg", "EndpointStatus": "InService"}
    out["Arn"] = f"arn:aws:sagemaker:us-east-1:123456789012:inference-experiment/{out['Name']}"
    out["Status"] = status
    out["CreationTime"] = dt.datetime(2029, 12, 31)
    for v in out["ModelVariants"]:
        v["Status"] = "InService"
    # boto3 returns aware datetimes; some callers strip them to naive UTC.
    out["Schedule"] = {k: t.replace(tzinfo=None) for k, t in out["Schedule"].items()}
    return out


def test_the_same_experiment_has_no_differences() -> None:
    request = api_request()
    assert config_differences(request, described(request)) == []


def test_a_changed_sampling_rate_is_reported_with_both_values() -> None:
    request = api_request()
    existing = described(request)
    request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] = 40
    assert config_differences(request, existing) == [
        "ShadowModeConfig.ShadowModelVariants[0].SamplingPercentage: existing 50, requested 40"
    ]


def test_field_differences() -> None:
    request = api_request()
    existing = described(request)
    existing["EndpointMetadata"]["EndpointName"] = "other-endpoint"
    existing["ModelVariants"][1]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceType"] = "ml.c5.xlarge"
    existing["RoleArn"] = "arn:aws:iam::123456789012:role/Other"
    existing["DataStorageConfig"]["Destination"] = "s3://other/prefix"
    assert config_differences(request, existing) == [
        "RoleArn: existing 'arn:aws:iam::123456789012:role/Other', "
        "requested 'arn:aws:iam::123456789012:role/SageMakerShadowTests'",
        "EndpointName: existing 'other-endpoint', requested 'churn-endpoint'",
        "ModelVariants[1].InfrastructureConfig.RealTimeInferenceConfig.InstanceType: "
        "existing 'ml.c5.xlarge', requested 'ml.m5.xlarge'",
        "DataStorageConfig.Destination: existing 's3://other/prefix', requested 's3://my-bucket/shadow-capture'",
    ]


def test_variants_are_matched_by_name_not_order() -> None:
    request = api_request()
    existing = described(request)
    existing["ModelVariants"].reverse()
    existing["DataStorageConfig"]["ContentType"]["CsvContentTypes"] = ["text/csv"]
    assert config_differences(request, existing) == []


def test_a_variant_on_one_side_only_is_a_difference() -> None:
    request = api_request()
    existing = described(request)
    existing["ModelVariants"][1] = {**variant("churn-v3", "canary"), "Status": "InService"}
    assert config_differences(request, existing) == [
        "ModelVariants[1]: existing has no variant 'shadow', requested one",
        "ModelVariants: existing has variant 'canary', not requested",
    ]


def test_tags_and_fields_the_request_leaves_out_are_ignored() -> None:
    request = api_request()
    existing = described(request)
    del request["KmsKey"], request["Description"]
    request["Tags"] = [{"Key": "other", "Value": "tags"}]
    assert config_differences(request, existing) == []


def test_an_empty_and_a_missing_description_are_equal() -> None:
    request = api_request()
    request["Description"] = ""
    existing = described(request)
    del existing["Description"]
    assert config_differences(request, existing) == []


def test_schedule_is_ignored_when_the_request_has_none() -> None:
    request = api_request()
    existing = described(request)
    del request["Schedule"]
    assert config_differences(request, existing) == []


def test_a_start_derived_from_now_moves_by_the_retry_delay() -> None:
    # First try: duration P1D from 12:00; the retry five minutes later rebuilds from 12:05.
    first = api_request()
    existing = described(first, status="Running")
    retry = api_request()
    delay = dt.timedelta(minutes=5)
    retry["Schedule"] = {"StartTime": START + delay, "EndTime": END + delay}
    assert config_differences(retry, existing) == []
    assert config_differences(retry, existing, schedule_tolerance_seconds=60) == [
        "Schedule.EndTime: existing 2030-01-02T12:00:00Z, requested 2030-01-02T12:05:00Z"
    ]


def test_a_different_schedule_is_reported() -> None:
    request = api_request()
    existing = described(request)
    request["Schedule"] = {"StartTime": START + dt.timedelta(days=1), "EndTime": END + dt.timedelta(days=1)}
    assert config_differences(request, existing) == [
        "Schedule.StartTime: existing 2030-01-01T12:00:00Z, requested 2030-01-02T12:00:00Z",
        "Schedule.EndTime: existing 2030-01-02T12:00:00Z, requested 2030-01-03T12:00:00Z",
    ]


@pytest.mark.parametrize("status", ["Running", "Starting", "Completed", "Stopping"])
def test_an_experiment_started_early_is_the_same_experiment(status: str) -> None:
    request = api_request()
    existing = described(request, status=status)
    existing["Schedule"]["StartTime"] = dt.datetime(2029, 12, 25, 8, 30)
    assert config_differences(request, existing) == []


def test_an_early_start_that_has_not_happened_is_a_difference() -> None:
    request = api_request()
    existing = described(request, status="Created")
    existing["Schedule"]["StartTime"] = dt.datetime(2029, 12, 25, 8, 30)
    assert [d.split(":")[0] for d in config_differences(request, existing)] == ["Schedule.StartTime"]


def test_an_early_start_that_pulled_the_end_back_to_thirty_days() -> None:
    request = api_request()
    request["Schedule"] = {"StartTime": START, "EndTime": START + dt.timedelta(days=30)}
    existing = described(request, status="Running")
    early = dt.datetime(2029, 12, 30, 12, tzinfo=UTC)
    existing["Schedule"] = {"StartTime": early, "EndTime": early + dt.timedelta(days=30)}
    assert config_differences(request, existing) == []
