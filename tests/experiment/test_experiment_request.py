"""build_create_request: the exact request, every convenience, every problem at once."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pendulum
import pytest

from airflow_provider_shadowtest.experiment import InvalidExperimentRequest, build_create_request
from tests.experiment.shadowtest_requests import END, ROLE, START, api_request, kwargs, variant

UTC = dt.timezone.utc
NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def problems(**arguments: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidExperimentRequest) as info:
        build_create_request(**arguments)
    return info.value.errors


def paths(**arguments: Any) -> list[str]:
    return [path for path, _ in problems(**arguments)]


def test_request_syntax_pasted_from_the_boto3_docs_is_sent_unchanged() -> None:
    # The request syntax of create_inference_experiment, values filled in, snake_case top level.
    request = build_create_request(
        name="churn-shadow-2030-01-01",
        type="ShadowMode",
        schedule={
            "StartTime": dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC),
            "EndTime": dt.datetime(2030, 1, 2, 12, 0, tzinfo=UTC),
        },
        description="Churn model v2 against production",
        role_arn=ROLE,
        endpoint_name="churn-endpoint",
        model_variants=[
            {
                "ModelName": "churn-v1",
                "VariantName": "production",
                "InfrastructureConfig": {
                    "InfrastructureType": "RealTimeInference",
                    "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
                },
            },
            {
                "ModelName": "churn-v2",
                "VariantName": "shadow",
                "InfrastructureConfig": {
                    "InfrastructureType": "RealTimeInference",
                    "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
                },
            },
        ],
        data_storage_config={
            "Destination": "s3://my-bucket/shadow-capture",
            "KmsKey": "alias/capture",
            "ContentType": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
        },
        shadow_mode_config={
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 50}],
        },
        kms_key="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        tags=[{"Key": "team", "Value": "ml-platform"}, {"Key": "cost-center", "Value": "42"}],
    )
    assert request == api_request()


def test_optional_fields_are_left_out_and_type_defaults_to_shadow_mode() -> None:
    full = kwargs()
    minimal = {k: full[k] for k in ("name", "role_arn", "endpoint_name", "model_variants", "shadow_mode_config")}
    request = build_create_request(**minimal, description=None, tags=None, schedule=None, kms_key=None)
    assert set(request) == {"Name", "Type", "RoleArn", "EndpointName", "ModelVariants", "ShadowModeConfig"}
    assert request["Type"] == "ShadowMode"


def test_request_holds_plain_aware_utc_datetimes() -> None:
    arguments = kwargs()
    arguments["schedule"] = {
        "StartTime": pendulum.datetime(2030, 1, 1, 13, 0, tz="Europe/Paris"),
        "EndTime": "2030-01-02T12:00:00",
    }
    schedule = build_create_request(**arguments)["Schedule"]
    assert schedule == {"StartTime": START, "EndTime": END}
    assert all(type(t) is dt.datetime and t.tzinfo == UTC for t in schedule.values())


SCHEDULES: list[dict[str, Any]] = [
    {"schedule": {"StartTime": START, "EndTime": END}},
    {"schedule": {"StartTime": "2030-01-01T12:00:00Z", "EndTime": "2030-01-02T13:00:00+01:00"}},
    {"schedule": '{"StartTime": "2030-01-01T12:00:00Z", "EndTime": "2030-01-02 12:00:00"}'},
    {"schedule": {"StartTime": dt.datetime(2030, 1, 1, 12), "EndTime": dt.datetime(2030, 1, 2, 12)}},
    {"start_time": START, "end_time": END},
    {"start_time": "2030-01-01T12:00:00+00:00", "end_time": pendulum.datetime(2030, 1, 2, 12)},
    {"start_time": START, "duration": dt.timedelta(days=1)},
    {"start_time": START, "duration": pendulum.duration(hours=24)},
    {"start_time": START, "duration": "P1D"},
    {"start_time": START, "duration": "PT24H"},
    {"start_time": START, "duration": "PT1440M"},
    {"start_time": START, "duration": 86400},
    {"start_time": START, "duration": "86400"},
    {"schedule": {"StartTime": START}, "duration": "P1D"},
    {"duration": "P1D", "now": NOW},
    {"duration": "P1D", "now": dt.datetime(2030, 1, 1, 12)},
]


@pytest.mark.parametrize("schedule_arguments", SCHEDULES, ids=lambda a: json.dumps(a, default=str)[:60])
def test_every_schedule_convenience_resolves_to_the_same_request(schedule_arguments: dict[str, Any]) -> None:
    arguments = kwargs()
    del arguments["schedule"]
    assert build_create_request(**arguments, **schedule_arguments) == api_request()


def test_duration_alone_starts_now_to_the_second() -> None:
    arguments = kwargs()
    del arguments["schedule"]
    before = dt.datetime.now(UTC).replace(microsecond=0)
    schedule = build_create_request(**arguments, duration="PT2H")["Schedule"]
    assert before <= schedule["StartTime"] <= dt.datetime.now(UTC)
    assert schedule["StartTime"].microsecond == 0
    assert schedule["EndTime"] - schedule["StartTime"] == dt.timedelta(hours=2)


def test_a_start_without_an_end_is_sent_as_given() -> None:
    arguments = kwargs()
    del arguments["schedule"]
    assert build_create_request(**arguments, start_time=START)["Schedule"] == {"StartTime": START}


@pytest.mark.parametrize(
    ("schedule_arguments", "expected"),
    [
        ({"start_time": START, "schedule": {"StartTime": START}}, ["start_time"]),
        ({"end_time": END, "duration": "P1D", "start_time": START}, ["duration"]),
        ({"schedule": {"EndTime": END}, "duration": "P1D"}, ["duration"]),
        ({"duration": "P1M"}, ["duration"]),
        ({"duration": "soon"}, ["duration"]),
        ({"duration": "PT0S"}, ["duration"]),
        ({"duration": -60}, ["duration"]),
        ({"start_time": START, "duration": "P31D"}, ["duration"]),
        ({"start_time": START, "end_time": START}, ["end_time"]),
        ({"start_time": "tomorrow morning", "end_time": END}, ["start_time"]),
        ({"schedule": {"StartTime": "2030-13-01", "EndTime": END}}, ["schedule.StartTime"]),
        ({"schedule": ["2030-01-01", "2030-01-02"]}, ["schedule"]),
        ({"schedule": "next week"}, ["schedule"]),
    ],
)
def test_schedule_problems_name_the_argument_given(schedule_arguments: dict[str, Any], expected: list[str]) -> None:
    arguments = kwargs()
    del arguments["schedule"]
    assert paths(**arguments, **schedule_arguments) == expected


def test_durations_in_years_or_months_are_refused_with_a_hint() -> None:
    arguments = kwargs()
    del arguments["schedule"]
    [(path, message)] = problems(**arguments, duration="P1M")
    assert path == "duration"
    assert "P30D" in message


def test_json_strings_from_templates_are_parsed() -> None:
    reference = api_request()
    arguments = kwargs()
    arguments["model_variants"] = json.dumps(reference["ModelVariants"])
    arguments["shadow_mode_config"] = json.dumps(reference["ShadowModeConfig"])
    arguments["data_storage_config"] = json.dumps(reference["DataStorageConfig"])
    arguments["tags"] = json.dumps(reference["Tags"])
    assert build_create_request(**arguments) == reference


def test_python_literals_rendered_by_jinja_are_parsed() -> None:
    reference = api_request()
    arguments = kwargs()
    arguments["model_variants"] = str(reference["ModelVariants"])  # what "{{ params.variants }}" renders
    arguments["tags"] = str({"team": "ml-platform", "cost-center": "42"})
    assert build_create_request(**arguments) == reference


@pytest.mark.parametrize("text", ["", "not json", "42", '"a string"', "[1, 2"])
def test_a_string_that_is_not_a_list_is_refused(text: str) -> None:
    arguments = kwargs()
    arguments["model_variants"] = text
    assert paths(**arguments) == ["model_variants"]


def test_tags_as_a_mapping() -> None:
    arguments = kwargs()
    arguments["tags"] = {"team": "ml-platform", "cost-center": "42"}
    assert build_create_request(**arguments) == api_request()


def test_tag_problems_point_at_the_mapping_entry() -> None:
    arguments = kwargs()
    arguments["tags"] = {"team": "ml", "aws:owner": "me", "n": 5}
    assert paths(**arguments) == ["tags[2].Value", "tags[1].Key"]


@pytest.mark.parametrize(("given", "expected"), [("50", 50), (" 50 ", 50), (50.0, 50), ("0", 0), ("100", 100)])
def test_integer_strings_become_integers(given: Any, expected: int) -> None:
    arguments = kwargs()
    arguments["shadow_mode_config"]["ShadowModelVariants"][0]["SamplingPercentage"] = given
    arguments["model_variants"][1]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"] = given
    request = build_create_request(**arguments)
    sampling = request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"]
    count = request["ModelVariants"][1]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"]
    assert (sampling, count) == (expected, expected)
    assert type(sampling) is int


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (True, "expected an integer, got bool True"),
        (5.5, "expected an integer, got float 5.5"),
        ("5.5", "expected an integer, got string '5.5'"),
        ("fifty", "expected an integer, got string 'fifty'"),
        ("", "expected an integer, got empty string"),
        (None, "required, got None"),
        ([50], "expected an integer, got a list"),
        ({"value": 50}, "expected an integer, got a dict"),
        ("101", "must be between 0 and 100, got 101"),
        ("-5", "must be between 0 and 100, got -5"),
    ],
)
def test_template_type_confusions_in_numbers_are_refused(given: Any, message: str) -> None:
    arguments = kwargs()
    arguments["shadow_mode_config"]["ShadowModelVariants"][0]["SamplingPercentage"] = given
    assert problems(**arguments) == [("shadow_mode_config.ShadowModelVariants[0].SamplingPercentage", message)]


def test_required_arguments_given_as_none_are_reported_as_required() -> None:
    arguments = kwargs()
    arguments["name"] = None
    del arguments["role_arn"]
    assert problems(**arguments) == [("name", "required"), ("role_arn", "required")]


def test_unknown_arguments_are_named_with_a_suggestion() -> None:
    arguments = kwargs()
    arguments["Name"] = arguments.pop("name")
    arguments["sampling_percent"] = 5
    found = dict(problems(**arguments))
    assert found["Name"] == "unknown argument; did you mean 'name'?"
    assert found["sampling_percent"].startswith("unknown argument")
    assert found["name"] == "required"


def test_every_problem_is_listed_at_once() -> None:
    arguments = kwargs()
    arguments["name"] = "churn_shadow"
    arguments["endpoint_name"] = ""
    arguments["model_variants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceType"] = "ml.huge"
    arguments["model_variants"][1]["ModelName"] = None
    arguments["shadow_mode_config"]["ShadowModelVariants"][0]["SamplingPercentage"] = 150
    arguments["tags"] = {"aws:team": "x"}
    arguments["description"] = "x" * 2000
    arguments["colour"] = "blue"
    with pytest.raises(InvalidExperimentRequest) as info:
        build_create_request(**arguments)
    assert sorted(p for p, _ in info.value.errors) == sorted(
        [
            "colour",
            "name",
            "endpoint_name",
            "description",
            "model_variants[0].InfrastructureConfig.RealTimeInferenceConfig.InstanceType",
            "model_variants[1].ModelName",
            "shadow_mode_config.ShadowModelVariants[0].SamplingPercentage",
            "tags[0].Key",
        ]
    )
    text = str(info.value)
    assert text.startswith("Invalid inference experiment request (8 problems):")
    assert "  - shadow_mode_config.ShadowModelVariants[0].SamplingPercentage: must be between 0 and 100" in text
    assert isinstance(info.value, ValueError)


def test_nested_structures_of_the_wrong_kind_are_refused() -> None:
    arguments = kwargs()
    arguments["model_variants"] = variant("churn-v1", "production")  # a dict where a list belongs
    arguments["shadow_mode_config"] = [arguments["shadow_mode_config"]]  # a list where a dict belongs
    found = dict(problems(**arguments))
    assert found["model_variants"] == ("expected a list, got a dict (wrap it in a list)")
    assert found["shadow_mode_config"].startswith("expected an object with keys SourceModelVariantName")
