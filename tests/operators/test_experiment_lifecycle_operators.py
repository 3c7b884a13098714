"""Start, Update, Stop and Delete against the emulator; each chained right after the previous step."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_shadowtest.exceptions import (
    ExperimentConflict,
    ExperimentNotFound,
    ExperimentStateError,
    InvalidExperimentRequest,
)
from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    DeleteInferenceExperimentOperator,
    StartInferenceExperimentOperator,
    StopInferenceExperimentOperator,
    UpdateInferenceExperimentOperator,
)
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, ENDPOINT, PRODUCTION_MODEL, ROLE_ARN, variants

if TYPE_CHECKING:
    from collections.abc import Callable

NAME = "exp-life"
FAST: dict[str, Any] = {"aws_conn_id": None, "poke_interval": 0.1, "settle_timeout_seconds": 30}


def _utc(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(**delta)


def _created(context: Any, **kwargs: Any) -> dict[str, Any]:
    """Create the experiment (scheduled an hour ahead) and return at once: it is still Creating."""
    result: dict[str, Any] = CreateInferenceExperimentOperator(
        task_id="create",
        name=NAME,
        endpoint_name=ENDPOINT,
        role_arn=ROLE_ARN,
        start_time=_utc(hours=1),
        duration="PT2H",
        aws_conn_id=None,
        **{**variants(), **kwargs},
    ).execute(context)
    return result


def _start(context: Any) -> dict[str, Any]:
    result: dict[str, Any] = StartInferenceExperimentOperator(task_id="start", experiment_name=NAME, **FAST).execute(
        context
    )
    return result


def _production_model(sagemaker: Any) -> str:
    config = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    assert len(variants) == 1
    return str(variants[0]["ModelName"])


# -- start ---------------------------------------------------------------------------------
def test_start_right_after_create_waits_out_creating(emulator: Any, endpoint: str, context: Any) -> None:
    # Creating lasts 2.5 s for this experiment (fixed when it is created), so the status the
    # operator reports right after the create cannot have moved on, even on a loaded machine
    emulator.configure(transition_seconds=2.5)
    assert _created(context)["status"] == "Creating"
    emulator.configure(transition_seconds=0.3)  # a short Starting

    result = _start(context)

    assert result["status"] in ("Starting", "Running")
    assert result["started"] is True
    assert json.loads(json.dumps(result)) == result
    assert context["ti"].xcoms["shadowtest_console"]["endpoint_name"] == ENDPOINT


def test_start_of_a_running_experiment_is_a_no_op(endpoint: str, context: Any) -> None:
    _created(context)
    _start(context)

    result = _start(context)

    assert result["status"] == "Running"
    assert result["started"] is False


def test_start_of_a_missing_experiment_names_the_aws_error(emulator: Any, context: Any) -> None:
    with pytest.raises(ExperimentNotFound) as raised:
        _start(context)
    assert raised.value.code.startswith("ResourceNotFound")


def test_start_of_a_stopped_experiment_fails_with_its_status(endpoint: str, context: Any) -> None:
    _created(context)
    StopInferenceExperimentOperator(
        task_id="stop", experiment_name=NAME, desired_state="Cancelled", reason="abandoned", **FAST
    ).execute(context)

    with pytest.raises(ExperimentStateError, match=r"only a Created experiment can be started"):
        _start(context)


# -- update --------------------------------------------------------------------------------
def test_update_extends_a_running_experiment_and_changes_only_the_sampling(
    endpoint: str, sagemaker: Any, context: Any
) -> None:
    _created(context)
    _start(context)
    new_end = _utc(hours=6)

    result = UpdateInferenceExperimentOperator(
        task_id="update",
        experiment_name=NAME,
        end_time=new_end.isoformat(),
        sampling_percent="80",  # as a template renders it
        **FAST,
    ).execute(context)

    assert result["changed"] == ["Schedule.EndTime", "ShadowModeConfig.SamplingPercentage"]
    assert result["schedule"]["end_time"] == new_end.isoformat().replace("+00:00", "Z")
    described = sagemaker.describe_inference_experiment(Name=NAME)
    assert described["Status"] == "Running"
    assert described["ShadowModeConfig"] == {
        "SourceModelVariantName": "production",
        "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 80}],
    }


def test_update_forbidden_by_the_status_names_the_field_and_sends_nothing(
    endpoint: str, emulator: Any, context: Any
) -> None:
    _created(context)
    _start(context)
    emulator.reset_stats()

    with pytest.raises(ExperimentStateError) as raised:
        UpdateInferenceExperimentOperator(
            task_id="update", experiment_name=NAME, start_time=_utc(hours=2), **FAST
        ).execute(context)

    assert raised.value.status == "Running"
    assert "start_time (Schedule.StartTime)" in str(raised.value)
    assert "UpdateInferenceExperiment" not in emulator.stats()


def test_update_without_anything_to_change_fails_before_any_aws_call(emulator: Any, context: Any) -> None:
    with pytest.raises(InvalidExperimentRequest, match="nothing to update"):
        UpdateInferenceExperimentOperator(task_id="update", experiment_name=NAME, **FAST).execute(context)
    assert emulator.stats() == {}


def test_update_with_the_current_values_sends_no_update(endpoint: str, emulator: Any, context: Any) -> None:
    _created(context)
    emulator.reset_stats()

    result = UpdateInferenceExperimentOperator(
        task_id="update", experiment_name=NAME, sampling_percent=50, **FAST
    ).execute(context)

    assert result["changed"] == []
    assert "UpdateInferenceExperiment" not in emulator.stats()


# -- stop ----------------------------------------------------------------------------------
def test_stop_with_promotion_puts_the_candidate_in_production(endpoint: str, sagemaker: Any, context: Any) -> None:
    _created(context)
    _start(context)

    result = StopInferenceExperimentOperator(
        task_id="stop",
        experiment_name=NAME,
        promote=True,
        reason="candidate is faster",
        wait_for_completion=True,
        deferrable=False,
        **FAST,
    ).execute(context)

    assert result["status"] == "Completed"
    assert result["model_variant_actions"] == {"shadow": "Promote", "production": "Remove"}
    assert result["promoted_variant"] == "shadow"
    assert json.loads(json.dumps(result)) == result
    assert _production_model(sagemaker) == CANDIDATE_MODEL


def test_stop_without_promotion_keeps_production(endpoint: str, sagemaker: Any, context: Any) -> None:
    _created(context)
    _start(context)

    result = StopInferenceExperimentOperator(
        task_id="stop", experiment_name=NAME, wait_for_completion="true", **FAST
    ).execute(context)

    assert result["model_variant_actions"] == {"production": "Retain", "shadow": "Remove"}
    assert result["promoted_variant"] is None
    assert _production_model(sagemaker) == PRODUCTION_MODEL


def test_retried_stop_after_a_promotion_succeeds_without_stopping_again(
    endpoint: str, emulator: Any, context: Any
) -> None:
    _created(context)
    _start(context)
    stop = StopInferenceExperimentOperator(
        task_id="stop", experiment_name=NAME, promote=True, wait_for_completion=True, **FAST
    )
    stop.execute(context)
    emulator.reset_stats()

    result = stop.execute(context)

    assert result["stopped"] is False
    assert "StopInferenceExperiment" not in emulator.stats()


def test_promotion_requested_after_the_experiment_ended_without_it_fails(endpoint: str, context: Any) -> None:
    _created(context)
    _start(context)
    StopInferenceExperimentOperator(task_id="stop", experiment_name=NAME, wait_for_completion=True, **FAST).execute(
        context
    )

    with pytest.raises(ExperimentStateError, match="'shadow' was not promoted"):
        StopInferenceExperimentOperator(task_id="stop2", experiment_name=NAME, promote=True, **FAST).execute(context)


def test_cancel_with_a_reason_reports_it_as_status_reason(endpoint: str, context: Any) -> None:
    _created(context)
    _start(context)

    result = StopInferenceExperimentOperator(
        task_id="stop",
        experiment_name=NAME,
        desired_state="Cancelled",
        reason="latency regression",
        wait_for_completion=True,
        **FAST,
    ).execute(context)

    assert result["status"] == "Cancelled"
    assert result["status_reason"] == "latency regression"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"model_variant_actions": {"nope": "Promote"}}, "model_variant_actions.nope"),
        ({"model_variant_actions": {"shadow": "Keep"}}, "model_variant_actions.shadow"),
        ({"model_variant_actions": '{"shadow": "Promote"}', "promote": True}, "promote"),
        ({"desired_state": "Done"}, "desired_state"),
        ({"promote": "perhaps"}, "promote"),
    ],
)
def test_stop_with_invalid_arguments_names_the_field_and_stops_nothing(
    endpoint: str, sagemaker: Any, context: Any, arguments: dict[str, Any], field: str
) -> None:
    _created(context)

    with pytest.raises(InvalidExperimentRequest) as raised:
        StopInferenceExperimentOperator(task_id="stop", experiment_name=NAME, **arguments, **FAST).execute(context)

    assert raised.value.errors[0][0] == field
    assert sagemaker.describe_inference_experiment(Name=NAME)["Status"] in ("Creating", "Created")


# -- delete --------------------------------------------------------------------------------
def test_delete_of_a_running_experiment_keeps_the_conflict(endpoint: str, context: Any) -> None:
    _created(context)
    _start(context)

    with pytest.raises(ExperimentConflict) as raised:
        DeleteInferenceExperimentOperator(task_id="delete", experiment_name=NAME, **FAST).execute(context)

    assert raised.value.code == "ConflictException"
    assert raised.value.operation == "DeleteInferenceExperiment"


def test_delete_of_a_missing_experiment_can_be_strict(emulator: Any, context: Any) -> None:
    lenient = DeleteInferenceExperimentOperator(task_id="delete", experiment_name=NAME, **FAST)
    assert lenient.execute(context) == {"name": NAME, "deleted": False}

    strict = DeleteInferenceExperimentOperator(task_id="delete", experiment_name=NAME, ignore_not_found=False, **FAST)
    with pytest.raises(ExperimentNotFound):
        strict.execute(context)


# -- lost answers: botocore retried a call that had already been processed ------------------
def _answer_lost(monkeypatch: pytest.MonkeyPatch, method: str, *, first: Callable[..., Any] | None = None) -> None:
    """Make the hook's ``method`` send its call twice, as botocore does when the first answer is lost.

    ``first`` replaces the first attempt (default: the same call), e.g. another client's call.
    """
    original = getattr(InferenceExperimentHook, method)

    def twice(hook: InferenceExperimentHook, *args: Any) -> Any:
        (first or original)(hook, *args)
        return original(hook, *args)

    monkeypatch.setattr(InferenceExperimentHook, method, twice)


def test_a_stop_whose_answer_was_lost_promotes_and_succeeds(
    endpoint: str, sagemaker: Any, context: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _created(context)
    _start(context)
    _answer_lost(monkeypatch, "stop_inference_experiment")

    stop = StopInferenceExperimentOperator(
        task_id="stop", experiment_name=NAME, promote=True, wait_for_completion=True, deferrable=False, **FAST
    )
    monkeypatch.setattr(StopInferenceExperimentOperator, "log", logging.getLogger("shadowtest.test.stop"))

    result = stop.execute(context)

    assert result["status"] == "Completed"
    assert result["stopped"] is True
    assert result["promoted_variant"] == "shadow"
    assert _production_model(sagemaker) == CANDIDATE_MODEL
    assert "an earlier attempt of this call" in caplog.text
    assert "StopInferenceExperiment" in caplog.text


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_stop_that_meets_another_clients_stop_without_promotion_fails(
    endpoint: str, sagemaker: Any, context: Any, monkeypatch: pytest.MonkeyPatch, deferrable: bool
) -> None:
    """Deferrable too: the check needs the ended experiment, so that rare wait stays in the worker."""
    _created(context)
    _start(context)

    def someone_else_keeps_production(hook: InferenceExperimentHook, request: dict[str, Any]) -> None:
        sagemaker.stop_inference_experiment(
            Name=NAME,
            ModelVariantActions={"production": "Retain", "shadow": "Remove"},
            DesiredState="Completed",
        )

    _answer_lost(monkeypatch, "stop_inference_experiment", first=someone_else_keeps_production)

    with pytest.raises(ExperimentStateError, match="'shadow' was not promoted"):
        StopInferenceExperimentOperator(
            task_id="stop", experiment_name=NAME, promote=True, wait_for_completion=True, deferrable=deferrable, **FAST
        ).execute(context)
    assert _production_model(sagemaker) == PRODUCTION_MODEL


def test_a_stop_conflict_while_the_experiment_runs_keeps_the_aws_error(
    endpoint: str, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _created(context)
    _start(context)
    conflict = ExperimentConflict("ConflictException", "busy", operation="StopInferenceExperiment")

    def refuse(hook: InferenceExperimentHook, request: dict[str, Any]) -> None:
        raise conflict

    monkeypatch.setattr(InferenceExperimentHook, "stop_inference_experiment", refuse)

    with pytest.raises(ExperimentConflict) as raised:
        StopInferenceExperimentOperator(task_id="stop", experiment_name=NAME, **FAST).execute(context)
    assert raised.value is conflict


def test_a_start_whose_answer_was_lost_succeeds(
    endpoint: str, context: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _created(context)
    _answer_lost(monkeypatch, "start_inference_experiment")
    monkeypatch.setattr(StartInferenceExperimentOperator, "log", logging.getLogger("shadowtest.test.start"))

    result = _start(context)

    assert result["started"] is True
    assert result["status"] in ("Starting", "Running")
    assert "StartInferenceExperiment" in caplog.text


def test_an_update_whose_answer_was_lost_succeeds(endpoint: str, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _created(context)
    _start(context)
    _answer_lost(monkeypatch, "update_inference_experiment")

    result = UpdateInferenceExperimentOperator(
        task_id="update", experiment_name=NAME, sampling_percent=35, **FAST
    ).execute(context)

    assert result["changed"] == ["ShadowModeConfig.SamplingPercentage"]
    assert result["status"] == "Running"


def test_an_update_that_meets_another_update_keeps_the_conflict(
    endpoint: str, sagemaker: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _created(context)
    _start(context)

    def someone_else_updates(hook: InferenceExperimentHook, request: dict[str, Any]) -> None:
        sagemaker.update_inference_experiment(Name=NAME, Description="another change")

    _answer_lost(monkeypatch, "update_inference_experiment", first=someone_else_updates)

    with pytest.raises(ExperimentConflict):
        UpdateInferenceExperimentOperator(task_id="update", experiment_name=NAME, sampling_percent=35, **FAST).execute(
            context
        )
