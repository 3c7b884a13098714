"""An experiment cancelled or deleted from outside fails the waiting sensor within one poll, with the reason.

The sensor waits in poke mode. The external change is made between two of its Describe calls
(right after the n-th returned), so the count is exact: the very next Describe must end the
wait, and the emulator must have received exactly n + 1 Describe calls. The emulator's
transitions are instant, so the change is visible to the next Describe.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor
from airflow_provider_shadowtest.testing import (
    EmulatorHandle,
    create_endpoint,
    create_model,
    mock_shadow_tests,
    shadow_test_request,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

NAME = "externally-changed"
ENDPOINT = "external-endpoint"
REASON = "on-call cancelled it: the shadow model doubles p99 latency"
#: The external change happens right after this many Describes of the sensor.
CHANGE_AFTER = 3
POLL_SECONDS = 0.05


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with mock_shadow_tests(transition_seconds=0) as handle:
        yield handle


@pytest.fixture
def sagemaker(emulator: EmulatorHandle) -> Any:
    client = boto3.client("sagemaker", region_name="us-east-1")
    create_endpoint(client, ENDPOINT, "prod-model", variant_name="production")
    create_model(client, "shadow-model")
    return client


def _create(sagemaker: Any, *, start_in: dt.timedelta) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    schedule = {"StartTime": now + start_in, "EndTime": now + dt.timedelta(days=1)}
    sagemaker.create_inference_experiment(
        **shadow_test_request(
            NAME, ENDPOINT, "prod-model", "shadow-model", production_variant="production", Schedule=schedule
        )
    )


def _cancel(sagemaker: Any) -> None:
    sagemaker.stop_inference_experiment(
        Name=NAME,
        ModelVariantActions={"production": "Retain", "shadow": "Remove"},
        DesiredState="Cancelled",
        Reason=REASON,
    )


def _delete(sagemaker: Any) -> None:
    _cancel(sagemaker)
    sagemaker.delete_inference_experiment(Name=NAME)


def _wait_with_change(
    sensor: InferenceExperimentSensor,
    emulator: EmulatorHandle,
    change: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[AirflowFailException, int]:
    """Run the sensor; make ``change`` right after its CHANGE_AFTER-th Describe; return the error and Describes."""
    hook = sensor.hook
    describe = hook.describe_inference_experiment
    seen: list[str] = []

    def describe_then_change(name: str) -> dict[str, Any]:
        described = describe(name)
        seen.append(described["Status"])
        if len(seen) == CHANGE_AFTER:
            change()
        return described

    monkeypatch.setattr(hook, "describe_inference_experiment", describe_then_change)
    emulator.reset_stats()
    with pytest.raises(AirflowFailException) as raised:
        sensor.execute({})
    assert len(seen) >= CHANGE_AFTER, f"the change was never made: the sensor saw {seen}"
    return raised.value, emulator.stats().get("DescribeInferenceExperiment", 0)


def _sensor(target: str) -> InferenceExperimentSensor:
    return InferenceExperimentSensor(
        task_id="wait",
        experiment_name=NAME,
        target=target,
        mode="poke",
        deferrable=False,
        poke_interval=POLL_SECONDS,
        max_sleep_seconds=POLL_SECONDS,
        timeout=60,
        aws_conn_id=None,
    )


@pytest.mark.parametrize("target", ["running", "completed"])
def test_cancelled_from_outside_fails_the_sensor_within_one_poll_with_the_reason(
    target: str, emulator: EmulatorHandle, sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waiting for Running: the start is an hour away. Waiting for Completed: it runs already.
    _create(sagemaker, start_in=dt.timedelta(hours=1) if target == "running" else dt.timedelta(seconds=1))
    if target == "completed":
        sagemaker.start_inference_experiment(Name=NAME)
        deadline = time.monotonic() + 10
        while sagemaker.describe_inference_experiment(Name=NAME)["Status"] != "Running":
            assert time.monotonic() < deadline, "the experiment did not start"
            time.sleep(0.02)

    started = time.monotonic()
    error, describes = _wait_with_change(_sensor(target), emulator, lambda: _cancel(sagemaker), monkeypatch)

    assert describes == CHANGE_AFTER + 1
    assert "is Cancelled: it was cancelled while waiting for" in str(error)
    assert str(error).endswith(f"StatusReason: {REASON}")
    assert time.monotonic() - started < 5


def test_deleted_from_outside_fails_the_sensor_within_one_poll_naming_the_aws_error(
    emulator: EmulatorHandle, sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(sagemaker, start_in=dt.timedelta(hours=1))

    error, describes = _wait_with_change(_sensor("running"), emulator, lambda: _delete(sagemaker), monkeypatch)

    assert describes == CHANGE_AFTER + 1
    assert f"{NAME!r} does not exist" in str(error)
    assert "ResourceNotFound" in str(error)
