"""Pure helpers of the lifecycle operators: Update and Stop requests, summaries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from airflow_provider_shadowtest.experiment import actions, lifecycle

DESCRIBED: dict[str, Any] = {
    "Name": "exp",
    "Arn": "arn:aws:sagemaker:us-east-1:123456789012:inference-experiment/exp",
    "Status": "Running",
    "EndpointMetadata": {"EndpointName": "ep"},
    "Schedule": {"StartTime": dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc), "EndTime": dt.datetime(2030, 1, 2)},
    "ModelVariants": [{"ModelName": "m1", "VariantName": "prod"}, {"ModelName": "m2", "VariantName": "cand"}],
    "ShadowModeConfig": {
        "SourceModelVariantName": "prod",
        "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 10}],
    },
}


def test_promote_promotes_the_shadow_and_removes_production() -> None:
    request = actions.build_stop_request(DESCRIBED, promote=True, reason="better")
    assert request == {"Name": "exp", "ModelVariantActions": {"cand": "Promote", "prod": "Remove"}, "Reason": "better"}


def test_without_promotion_production_is_retained_and_the_shadow_removed() -> None:
    assert actions.model_variant_actions_for(DESCRIBED, promote=False, model_variant_actions=None) == {
        "prod": "Retain",
        "cand": "Remove",
    }


def test_explicit_actions_may_come_as_rendered_json() -> None:
    got = actions.model_variant_actions_for(DESCRIBED, promote=False, model_variant_actions='{"prod": "Retain"}')
    assert got == {"prod": "Retain"}


def test_sampling_change_keeps_the_rest_of_the_shadow_config() -> None:
    request = actions.build_update_request(DESCRIBED, sampling_percent="75", end_time="2030-01-03T00:00:00Z")
    assert request["ShadowModeConfig"] == {
        "SourceModelVariantName": "prod",
        "ShadowModelVariants": [{"ShadowModelVariantName": "cand", "SamplingPercentage": 75}],
    }
    assert request["Schedule"] == {"EndTime": dt.datetime(2030, 1, 3, tzinfo=dt.timezone.utc)}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"sampling_percent": "lots"}, "sampling_percent"), ({"end_time": "soon"}, "end_time"), ({}, "nothing")],
)
def test_malformed_update_arguments_are_named(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        actions.build_update_request(DESCRIBED, **arguments)


def test_forbidden_changes_name_the_operator_argument() -> None:
    errors = actions.update_violation_errors("Running", ["Schedule.StartTime"])
    assert errors[0][0] == "start_time (Schedule.StartTime)"


def test_summary_is_plain_json_with_utc_times() -> None:
    summary = actions.summarize(DESCRIBED, reused=True)
    assert json.loads(json.dumps(summary)) == summary
    assert summary["schedule"] == {"start_time": "2030-01-01T00:00:00Z", "end_time": "2030-01-02T00:00:00Z"}
    assert (summary["production_variant"], summary["shadow_variant"], summary["reused"]) == ("prod", "cand", True)


def _infra(count: object) -> dict[str, Any]:
    return {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": count},
    }


def test_update_variants_rendered_by_templates_get_the_create_requests_types() -> None:
    rendered = json.dumps([{"ModelName": "m2", "VariantName": "cand", "InfrastructureConfig": _infra("2")}])
    request = actions.build_update_request(DESCRIBED, model_variants=rendered)
    assert request["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"] == 2


def test_same_variants_in_another_key_order_are_not_a_change() -> None:
    current = {
        **DESCRIBED,
        "ModelVariants": [{"ModelName": "m1", "VariantName": "prod", "InfrastructureConfig": _infra(1)}],
    }
    reordered = {
        "RealTimeInferenceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"},
        "InfrastructureType": "RealTimeInference",
    }
    update = {"ModelVariants": [{"VariantName": "prod", "ModelName": "m1", "InfrastructureConfig": reordered}]}
    assert lifecycle.changed_update_fields(current, update) == []


def test_only_changed_fields_are_sent() -> None:
    # A Running experiment refuses any StartTime, even its current one: only the new end goes out.
    start = DESCRIBED["Schedule"]["StartTime"]
    request = actions.build_update_request(
        DESCRIBED, start_time=start.isoformat(), end_time="2030-01-05T00:00:00Z", description=None
    )
    changed = lifecycle.changed_update_fields(DESCRIBED, request)
    assert changed == ["Schedule.EndTime"]
    assert actions.only_changed(request, changed) == {
        "Name": "exp",
        "Schedule": {"EndTime": dt.datetime(2030, 1, 5, tzinfo=dt.timezone.utc)},
    }
    sampling = actions.build_update_request(DESCRIBED, sampling_percent="20")
    kept = actions.only_changed(sampling, lifecycle.changed_update_fields(DESCRIBED, sampling))
    assert kept["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 20
