"""CreateInferenceExperimentOperator against the emulator: rendering, validation, idempotence, waits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_shadowtest.connection import ConnectionSettings
from airflow_provider_shadowtest.exceptions import (
    ExperimentAlreadyExists,
    ExperimentConfigMismatch,
    ExperimentNotFound,
    ExperimentStateError,
    InferenceExperimentApiError,
    InvalidExperimentRequest,
    WaitTimeout,
)
from airflow_provider_shadowtest.operators.inference_experiment import CreateInferenceExperimentOperator
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, ENDPOINT, ROLE_ARN, variants


def _utc(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(**delta)


def _create(name: str = "exp-a", **kwargs: Any) -> CreateInferenceExperimentOperator:
    arguments: dict[str, Any] = {
        "task_id": "create",
        "name": name,
        "endpoint_name": ENDPOINT,
        "role_arn": ROLE_ARN,
        "start_time": _utc(hours=1),
        "duration": "PT2H",
        "aws_conn_id": None,
        "poke_interval": 0.1,
        "deferrable": False,
        **variants(),
    }
    arguments.update(kwargs)
    return CreateInferenceExperimentOperator(**arguments)


def test_fields_render_from_dag_params(endpoint: str, sagemaker: Any, context: Any) -> None:
    op = CreateInferenceExperimentOperator(
        task_id="create",
        name="{{ params.name }}",
        endpoint_name="{{ params.endpoint }}",
        role_arn="{{ params.role_arn }}",
        # What a trigger form gives: the JSON of a list, and a dict rendered by Jinja as a literal.
        model_variants="{{ params.model_variants | tojson }}",
        shadow_mode_config="{{ params.shadow_mode_config }}",
        start_time="{{ params.start }}",
        duration="{{ params.duration }}",
        description="Candidate {{ params.candidate }}",
        aws_conn_id=None,
    )
    start = _utc(hours=3)
    context["params"] = {
        "name": "from-params",
        "endpoint": endpoint,
        "role_arn": ROLE_ARN,
        "start": start.isoformat(),
        "duration": "P1D",
        "candidate": CANDIDATE_MODEL,
        **variants(sampling=25),
    }
    op.render_template_fields(context)
    result = op.execute(context)

    assert json.loads(json.dumps(result)) == result
    assert result["name"] == "from-params"
    assert result["endpoint_name"] == endpoint
    assert result["status"] in ("Creating", "Created")
    assert result["reused"] is False
    assert result["schedule"] == {
        "start_time": start.isoformat().replace("+00:00", "Z"),
        "end_time": (start + dt.timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    }
    described = sagemaker.describe_inference_experiment(Name="from-params")
    assert described["Description"] == f"Candidate {CANDIDATE_MODEL}"
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 25


def test_invalid_request_fails_naming_each_field_before_any_aws_call(
    endpoint: str, emulator: Any, sagemaker: Any, context: Any
) -> None:
    emulator.reset_stats()
    bad = variants(sampling=101)
    op = _create(name="x" * 121, if_exists="sometimes", wait_for="forever", **bad)

    with pytest.raises(InvalidExperimentRequest) as raised:
        op.execute(context)

    paths = [path for path, _ in raised.value.errors]
    assert "name" in paths
    assert "shadow_mode_config.ShadowModelVariants[0].SamplingPercentage" in paths
    assert "if_exists" in paths
    assert "wait_for" in paths
    assert emulator.stats() == {}
    assert sagemaker.list_inference_experiments()["InferenceExperiments"] == []


def test_retried_task_reuses_the_experiment_its_first_try_created(endpoint: str, sagemaker: Any, context: Any) -> None:
    start = _utc(hours=1)
    first = _create(start_time=start).execute(context)
    retry = _create(start_time=start).execute(context)

    assert first["reused"] is False
    assert retry["reused"] is True
    assert retry["arn"] == first["arn"]
    assert len(sagemaker.list_inference_experiments()["InferenceExperiments"]) == 1


def test_existing_experiment_with_another_configuration_fails_with_the_differences(endpoint: str, context: Any) -> None:
    start = _utc(hours=1)
    _create(start_time=start).execute(context)

    with pytest.raises(ExperimentConfigMismatch) as raised:
        _create(start_time=start, **variants(sampling=40)).execute(context)

    assert any("SamplingPercentage" in d and "40" in d for d in raised.value.differences)
    assert "exp-a" in str(raised.value)


def test_an_explicit_start_that_differs_is_a_difference_not_a_reuse(endpoint: str, context: Any) -> None:
    start = _utc(hours=1)
    _create(start_time=start).execute(context)

    with pytest.raises(ExperimentConfigMismatch) as raised:
        _create(start_time=start + dt.timedelta(minutes=50)).execute(context)

    assert any(d.startswith("Schedule.StartTime") for d in raised.value.differences)


def test_a_start_from_now_may_move_by_the_retry_delay(endpoint: str, sagemaker: Any, context: Any) -> None:
    first = _create(start_time=None, duration="PT2H").execute(context)
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5), tick=True):
        retry = _create(start_time=None, duration="PT2H").execute(context)

    assert retry["reused"] is True
    assert retry["arn"] == first["arn"]


def test_if_exists_fail_refuses_an_existing_experiment(endpoint: str, context: Any) -> None:
    start = _utc(hours=1)
    _create(start_time=start).execute(context)

    with pytest.raises(ExperimentAlreadyExists, match="if_exists='fail'"):
        _create(start_time=start, if_exists="fail").execute(context)


def test_create_answered_resource_in_use_after_a_retried_first_attempt_is_not_an_error(
    endpoint: str, sagemaker: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = _create()
    real_create = op.hook.create_inference_experiment

    def create_then_lose_the_answer(request: dict[str, Any]) -> dict[str, Any]:
        # botocore's first attempt created it, the answer was lost, the retry got ResourceInUse.
        real_create(request)
        raise ExperimentAlreadyExists("ResourceInUse", "already exists", operation="CreateInferenceExperiment")

    monkeypatch.setattr(op.hook, "create_inference_experiment", create_then_lose_the_answer)
    result = op.execute(context)

    assert result["reused"] is False
    assert len(sagemaker.list_inference_experiments()["InferenceExperiments"]) == 1


def test_resource_in_use_for_another_experiment_on_the_endpoint_keeps_the_aws_error(
    endpoint: str, context: Any
) -> None:
    _create(name="exp-a").execute(context)

    with pytest.raises(ExperimentAlreadyExists) as raised:
        _create(name="exp-b", preflight_checks=False).execute(context)

    assert raised.value.code.startswith("ResourceInUse")
    assert raised.value.operation == "CreateInferenceExperiment"


def test_missing_endpoint_fails_with_the_aws_code_and_message(emulator: Any, context: Any) -> None:
    with pytest.raises(InferenceExperimentApiError) as raised:
        _create(preflight_checks=False).execute(context)
    assert raised.value.code == "ValidationException"
    assert raised.value.operation == "CreateInferenceExperiment"
    assert ENDPOINT in raised.value.message


def test_wait_for_running_returns_once_the_scheduled_start_passed(endpoint: str, context: Any) -> None:
    result = _create(start_time=_utc(seconds=1), wait_for="running").execute(context)
    assert result["status"] == "Running"


def test_deferrable_wait_defers_to_the_trigger_with_the_connection_settings(endpoint: str, context: Any) -> None:
    op = _create(wait_for="completed", deferrable=True, region_name="us-east-1", wait_timeout_seconds=600)

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)

    trigger = deferred.value.trigger
    assert isinstance(trigger, InferenceExperimentTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["experiment_name"] == "exp-a"
    assert kwargs["target_statuses"] == ["Completed"]
    assert kwargs["connection"] == {**ConnectionSettings().to_dict(), "aws_conn_id": None, "region_name": "us-east-1"}
    assert kwargs["deadline_epoch_seconds"] == pytest.approx(dt.datetime.now().timestamp() + 600, abs=30)
    assert (kwargs["poke_interval"], kwargs["max_sleep_seconds"]) == (0.1, 3600)


def test_resume_rebuilds_the_result_from_the_event(endpoint: str, context: Any) -> None:
    op = _create(wait_for="completed", deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, InferenceExperimentTrigger)
    experiment = {
        "Arn": "arn:aws:sagemaker:us-east-1:123456789012:inference-experiment/exp-a",
        "Name": "exp-a",
        "Status": "Completed",
        "EndpointMetadata": {"EndpointName": ENDPOINT},
        "Schedule": {"StartTime": "2030-01-01T00:00:00Z", "EndTime": "2030-01-02T00:00:00Z"},
        **{k: v for k, v in (op.build_request() or {}).items() if k in ("ModelVariants", "ShadowModeConfig")},
    }
    safe = json.loads(json.dumps(experiment, default=str))
    event = {"status": "success", "experiment_name": "exp-a", "experiment": safe}

    result = op.execute_complete(context, event)

    assert result["status"] == "Completed"
    assert result["reused"] is False
    assert result["schedule"]["end_time"] == "2030-01-02T00:00:00Z"
    assert result["shadow_variant"] == "shadow"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (
            {
                "status": "error",
                "experiment_name": "exp-a",
                "message": "it was cancelled",
                "error_code": None,
                "experiment": {"Name": "exp-a", "Status": "Cancelled", "StatusReason": "stopped by on-call"},
            },
            ExperimentStateError,
        ),
        (
            {"status": "timeout", "experiment_name": "exp-a", "message": "still Running at the deadline"},
            WaitTimeout,
        ),
        (
            {
                "status": "error",
                "experiment_name": "exp-a",
                "message": "Experiment exp-a not found",
                "error_code": "ResourceNotFound",
                "experiment": None,
            },
            ExperimentNotFound,
        ),
    ],
)
def test_resume_raises_what_the_trigger_reported(event: dict[str, Any], error: type[Exception], context: Any) -> None:
    with pytest.raises(error) as raised:
        _create().execute_complete(context, event)
    assert event["message"] in str(raised.value)
    if event.get("experiment"):
        assert "stopped by on-call" in str(raised.value)
