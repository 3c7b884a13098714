"""Every constraint of the service model and every implicit rule, each broken once, with its path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_shadowtest.experiment import (
    validate_create_request,
    validate_stop_request,
    validate_update_request,
)
from tests.experiment.shadowtest_requests import END, ROLE, START, api_request, variant

Mutation = Callable[[dict[str, Any]], None]
_MISSING = object()


def put(*path: Any, value: Any = _MISSING) -> Mutation:
    """Set (or, without value, delete) the entry at ``path`` of a request."""

    def mutate(request: dict[str, Any]) -> None:
        target: Any = request
        for key in path[:-1]:
            target = target[key]
        if value is _MISSING:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


RT = ("ModelVariants", 0, "InfrastructureConfig", "RealTimeInferenceConfig")
RT_PATH = "model_variants[0].InfrastructureConfig.RealTimeInferenceConfig"
SHADOW = ("ShadowModeConfig", "ShadowModelVariants", 0)
SHADOW_PATH = "shadow_mode_config.ShadowModelVariants[0]"
CT = ("DataStorageConfig", "ContentType")


CASES: list[tuple[str, Mutation, set[str]]] = [
    ("name missing", put("Name"), {"name"}),
    ("name None", put("Name", value=None), {"name"}),
    ("name empty", put("Name", value=""), {"name"}),
    ("name 121 chars", put("Name", value="a" * 121), {"name"}),
    ("name underscore", put("Name", value="my_experiment"), {"name"}),
    ("name leading dash", put("Name", value="-exp"), {"name"}),
    ("type other", put("Type", value="ABTest"), {"type"}),
    ("role arn too short", put("RoleArn", value="arn:aws:iam::1:role"), {"role_arn"}),
    ("role arn not iam", put("RoleArn", value="arn:aws:s3::123456789012:role/x"), {"role_arn"}),
    ("role arn 2049 chars", put("RoleArn", value="arn:aws:iam::123456789012:role/" + "r" * 2018), {"role_arn"}),
    ("endpoint 64 chars", put("EndpointName", value="e" * 64), {"endpoint_name"}),
    ("endpoint dot", put("EndpointName", value="my.endpoint"), {"endpoint_name"}),
    ("variants empty", put("ModelVariants", value=[]), {"model_variants"}),
    (
        "variants three",
        put("ModelVariants", value=[variant("a", "production"), variant("b", "shadow"), variant("c", "c")]),
        {"model_variants"},
    ),
    ("model name bad", put("ModelVariants", 0, "ModelName", value="model_1"), {"model_variants[0].ModelName"}),
    ("model name 64", put("ModelVariants", 0, "ModelName", value="m" * 64), {"model_variants[0].ModelName"}),
    ("model name trailing dash", put("ModelVariants", 1, "ModelName", value="m-"), {"model_variants[1].ModelName"}),
    (
        "infrastructure type",
        put(*RT[:-1], "InfrastructureType", value="RealTime"),
        {"model_variants[0].InfrastructureConfig.InfrastructureType"},
    ),
    ("instance type", put(*RT, "InstanceType", value="ml.m5.xxlarge"), {f"{RT_PATH}.InstanceType"}),
    ("instance count negative", put(*RT, "InstanceCount", value=-1), {f"{RT_PATH}.InstanceCount"}),
    ("instance count string", put(*RT, "InstanceCount", value="1"), {f"{RT_PATH}.InstanceCount"}),
    ("instance count missing", put(*RT, "InstanceCount"), {f"{RT_PATH}.InstanceCount"}),
    ("real-time config missing", put(*RT), {"model_variants[0].InfrastructureConfig.RealTimeInferenceConfig"}),
    ("shadow variants empty", put(*SHADOW[:-1], value=[]), {"shadow_mode_config.ShadowModelVariants"}),
    (
        "shadow variants two",
        put(*SHADOW[:-1], value=[{"ShadowModelVariantName": "shadow", "SamplingPercentage": 5}] * 2),
        {"shadow_mode_config.ShadowModelVariants"},
    ),
    ("sampling 101", put(*SHADOW, "SamplingPercentage", value=101), {f"{SHADOW_PATH}.SamplingPercentage"}),
    ("sampling negative", put(*SHADOW, "SamplingPercentage", value=-1), {f"{SHADOW_PATH}.SamplingPercentage"}),
    ("sampling float", put(*SHADOW, "SamplingPercentage", value=50.0), {f"{SHADOW_PATH}.SamplingPercentage"}),
    ("sampling bool", put(*SHADOW, "SamplingPercentage", value=True), {f"{SHADOW_PATH}.SamplingPercentage"}),
    (
        "source not listed",
        put("ShadowModeConfig", "SourceModelVariantName", value="prod"),
        {"shadow_mode_config.SourceModelVariantName"},
    ),
    (
        "shadow not listed",
        put(*SHADOW, "ShadowModelVariantName", value="canary"),
        {f"{SHADOW_PATH}.ShadowModelVariantName"},
    ),
    (
        "shadow is the source",
        put(*SHADOW, "ShadowModelVariantName", value="production"),
        {f"{SHADOW_PATH}.ShadowModelVariantName"},
    ),
    (
        "variant names not distinct",
        put("ModelVariants", 1, "VariantName", value="production"),
        {"model_variants[1].VariantName", f"{SHADOW_PATH}.ShadowModelVariantName"},
    ),
    ("end before start", put("Schedule", "EndTime", value=START - dt.timedelta(hours=1)), {"schedule.EndTime"}),
    ("end equals start", put("Schedule", "EndTime", value=START), {"schedule.EndTime"}),
    (
        "longer than 30 days",
        put("Schedule", "EndTime", value=START + dt.timedelta(days=30, seconds=1)),
        {"schedule.EndTime"},
    ),
    ("start not a time", put("Schedule", "StartTime", value="next tuesday"), {"schedule.StartTime"}),
    ("schedule unknown key", put("Schedule", "Duration", value="P1D"), {"schedule.Duration"}),
    ("description 1025", put("Description", value="d" * 1025), {"description"}),
    ("description line break", put("Description", value="line one\nline two"), {"description"}),
    ("destination missing", put("DataStorageConfig", "Destination"), {"data_storage_config.Destination"}),
    (
        "destination ftp",
        put("DataStorageConfig", "Destination", value="ftp://b/x"),
        {"data_storage_config.Destination"},
    ),
    (
        "destination 513",
        put("DataStorageConfig", "Destination", value="s3://b/" + "k" * 506),
        {"data_storage_config.Destination"},
    ),
    ("capture kms key", put("DataStorageConfig", "KmsKey", value="my key"), {"data_storage_config.KmsKey"}),
    ("csv types empty", put(*CT, "CsvContentTypes", value=[]), {"data_storage_config.ContentType.CsvContentTypes"}),
    (
        "csv types 11",
        put(*CT, "CsvContentTypes", value=["text/csv"] * 11),
        {"data_storage_config.ContentType.CsvContentTypes"},
    ),
    (
        "json type without subtype",
        put(*CT, "JsonContentTypes", value=["application/json", "json"]),
        {"data_storage_config.ContentType.JsonContentTypes[1]"},
    ),
    (
        "json type 257",
        put(*CT, "JsonContentTypes", value=["application/" + "j" * 245]),
        {"data_storage_config.ContentType.JsonContentTypes[0]"},
    ),
    ("kms key space", put("KmsKey", value="alias/my key"), {"kms_key"}),
    ("kms key 2049", put("KmsKey", value="k" * 2049), {"kms_key"}),
    ("51 tags", put("Tags", value=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]), {"tags"}),
    ("tag key empty", put("Tags", 1, "Key", value=""), {"tags[1].Key"}),
    ("tag key 129", put("Tags", 1, "Key", value="k" * 129), {"tags[1].Key"}),
    ("tag value 257", put("Tags", 0, "Value", value="v" * 257), {"tags[0].Value"}),
    ("tag key punctuation", put("Tags", 0, "Key", value="team!"), {"tags[0].Key"}),
    ("tag value missing", put("Tags", 0, "Value"), {"tags[0].Value"}),
    ("tag key duplicate", put("Tags", 1, "Key", value="team"), {"tags[1].Key"}),
    ("tag key aws prefix", put("Tags", 1, "Key", value="aws:owner"), {"tags[1].Key"}),
    ("tag key AWS prefix", put("Tags", 1, "Key", value="AWS:owner"), {"tags[1].Key"}),
    ("unknown nested key", put("ModelVariants", 0, "InitialWeight", value=1.0), {"model_variants[0].InitialWeight"}),
    ("unknown top-level key", put("Foo", value=1), {"foo"}),
    ("list where an object belongs", put("ShadowModeConfig", value=[]), {"shadow_mode_config"}),
    ("object where a list belongs", put("ModelVariants", value=variant("a", "b")), {"model_variants"}),
    ("nested list", put("ModelVariants", 0, value=[variant("a", "production")]), {"model_variants[0]"}),
]


def test_the_reference_request_is_valid() -> None:
    assert validate_create_request(api_request()) == []


@pytest.mark.parametrize(("mutate", "paths"), [pytest.param(m, p, id=i) for i, m, p in CASES])
def test_each_violation_is_reported_at_its_field(mutate: Mutation, paths: set[str]) -> None:
    request = api_request()
    mutate(request)
    problems = validate_create_request(request)
    assert {path for path, _ in problems} == paths, problems


def test_exactly_thirty_days_is_allowed() -> None:
    request = api_request()
    request["Schedule"]["EndTime"] = START + dt.timedelta(days=30)
    assert validate_create_request(request) == []


def test_unicode_tags_follow_the_java_pattern() -> None:
    request = api_request()
    request["Tags"] = [{"Key": "équipe", "Value": "données 日本 ٣"}, {"Key": "owner", "Value": "a€b"}]
    assert [path for path, _ in validate_create_request(request)] == ["tags[1].Value"]


def test_a_lone_surrogate_is_a_problem_not_a_crash() -> None:
    # JSON can carry "\\ud800"; a length check must count it (one UTF-16 unit), not raise.
    request = api_request()
    request["Description"] = "\ud800"
    assert isinstance(validate_create_request(request), list)


def test_messages_say_what_is_wrong() -> None:
    request = api_request()
    request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] = 101
    request["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceType"] = "ml.m5.xlarg"
    request["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"] = "two"
    request["Name"] = "a" * 121
    messages = dict(validate_create_request(request))
    assert messages[f"{SHADOW_PATH}.SamplingPercentage"] == "must be between 0 and 100, got 101"
    assert "did you mean 'ml.m5.xlarge'" in messages[f"{RT_PATH}.InstanceType"]
    assert messages[f"{RT_PATH}.InstanceCount"] == "expected an integer, got string 'two'"
    assert "must be at most 120 characters, got 121" in [m for p, m in validate_create_request(request) if p == "name"]


def test_a_missing_field_is_reported_as_required() -> None:
    request = api_request()
    del request["ShadowModeConfig"]
    assert validate_create_request(request) == [("shadow_mode_config", "required")]


def test_api_path_style_names_fields_as_the_api_does() -> None:
    request = api_request()
    request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] = 101
    request["RoleArn"] = "not-an-arn-but-long-enough"
    paths = [path for path, _ in validate_create_request(request, path_style="api")]
    assert paths == ["RoleArn", "ShadowModeConfig.ShadowModelVariants[0].SamplingPercentage"]


def test_wire_timestamps_are_accepted() -> None:
    request = api_request()
    request["Schedule"] = {"StartTime": START.timestamp(), "EndTime": "2030-01-02T12:00:00Z"}
    assert validate_create_request(request) == []


def test_a_request_that_is_not_an_object() -> None:
    assert [p for p, _ in validate_create_request([])] == ["request"]  # type: ignore[arg-type]


# UpdateInferenceExperiment


def test_update_with_only_a_new_end_is_valid() -> None:
    assert validate_update_request({"Name": "exp", "Schedule": {"EndTime": END}}) == []


@pytest.mark.parametrize(
    ("request_", "paths"),
    [
        pytest.param({}, ["name"], id="name required"),
        pytest.param({"Name": "exp", "RoleArn": ROLE}, ["role_arn"], id="not updatable"),
        pytest.param(
            {"Name": "exp", "Schedule": {"StartTime": END, "EndTime": START}}, ["schedule.EndTime"], id="end first"
        ),
        pytest.param({"Name": "exp", "Description": "d" * 1025}, ["description"], id="description"),
        pytest.param(
            {
                "Name": "exp",
                "ShadowModeConfig": {
                    "SourceModelVariantName": "a",
                    "ShadowModelVariants": [{"ShadowModelVariantName": "b", "SamplingPercentage": 150}],
                },
            },
            ["shadow_mode_config.ShadowModelVariants[0].SamplingPercentage"],
            id="sampling",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariants": [variant("m", "a"), variant("m2", "a")]},
            ["model_variants[1].VariantName"],
            id="duplicate variants",
        ),
    ],
)
def test_update_violations(request_: dict[str, Any], paths: list[str]) -> None:
    assert [p for p, _ in validate_update_request(request_)] == paths


def test_update_checks_shadow_names_against_the_variants_it_sends() -> None:
    request = {
        "Name": "exp",
        "ModelVariants": [variant("m1", "production"), variant("m2", "shadow")],
        "ShadowModeConfig": {
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "canary", "SamplingPercentage": 10}],
        },
    }
    paths = [p for p, _ in validate_update_request(request, path_style="api")]
    assert paths == ["ShadowModeConfig.ShadowModelVariants[0].ShadowModelVariantName"]


# StopInferenceExperiment


def test_stop_with_promote_is_valid() -> None:
    request = {
        "Name": "exp",
        "ModelVariantActions": {"shadow": "Promote", "production": "Remove"},
        "DesiredModelVariants": [variant("churn-v2", "shadow")],
        "DesiredState": "Completed",
        "Reason": "shadow won",
    }
    assert validate_stop_request(request) == []


@pytest.mark.parametrize(
    ("request_", "paths"),
    [
        pytest.param({"Name": "exp"}, ["model_variant_actions"], id="actions required"),
        pytest.param({"Name": "exp", "ModelVariantActions": {}}, ["model_variant_actions"], id="actions empty"),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"a": "Retain", "b": "Retain", "c": "Retain"}},
            ["model_variant_actions"],
            id="three actions",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"shadow": "Keep"}},
            ["model_variant_actions['shadow']"],
            id="unknown action",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"bad name": "Retain"}},
            ["model_variant_actions['bad name']"],
            id="bad variant name",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"a": "Retain"}, "DesiredState": "Stopped"},
            ["desired_state"],
            id="desired state",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"a": "Retain"}, "Reason": "r" * 1025},
            ["reason"],
            id="reason",
        ),
        pytest.param(
            {"Name": "exp", "ModelVariantActions": {"a": "Retain"}, "DesiredModelVariants": []},
            ["desired_model_variants"],
            id="desired variants empty",
        ),
        pytest.param(
            {
                "Name": "exp",
                "ModelVariantActions": {"a": "Retain"},
                "DesiredModelVariants": [variant("m", "a"), variant("m", "a"), variant("m", "b")],
            },
            ["desired_model_variants", "desired_model_variants[1].VariantName"],
            id="desired variants three and repeated",
        ),
    ],
)
def test_stop_violations(request_: dict[str, Any], paths: list[str]) -> None:
    assert [p for p, _ in validate_stop_request(request_)] == paths


def test_stop_paths_in_api_style() -> None:
    problems = validate_stop_request({"Name": "exp", "ModelVariantActions": {"shadow": "Keep"}}, path_style="api")
    assert problems == [("ModelVariantActions['shadow']", "must be 'Retain' or 'Remove' or 'Promote', got 'Keep'")]
