"""The trigger against the emulator server: events, schedule-aware sleeping, restarts, errors."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_shadowtest.connection import ConnectionSettings
from airflow_provider_shadowtest.experiment.waiting import event_error
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.testing import EmulatorServer

pytestmark = pytest.mark.timeout(60)

#: botocore does not retry: what escapes it reaches the trigger's own handling.
ONE_ATTEMPT = ConnectionSettings(max_attempts=1)


async def first_event(trigger: InferenceExperimentTrigger, timeout: float = 30) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(run(), timeout)


def describes(emulator: EmulatorServer) -> int:
    return emulator.stats().get("DescribeInferenceExperiment", 0)


async def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition`` (bounded) instead of sleeping a fixed time."""
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def warm_up() -> None:
    """Open this event loop's pooled client: the first aiobotocore client takes seconds on a slow machine."""
    event = await first_event(InferenceExperimentTrigger("warm-up", ["Running"], poke_interval=0.2))
    assert event["error_code"] == "ResourceNotFound"


async def until_waiting(emulator: EmulatorServer, task: asyncio.Future[Any]) -> None:
    """Return once the trigger has had the answer to its first Describe and is waiting."""
    await until(lambda: describes(emulator) >= 1, "the trigger's first Describe")
    await asyncio.sleep(0.2)  # the count is taken as the request arrives: let the response go out
    assert not task.done(), "the trigger ended before the change it should wait for"


def restore(trigger: InferenceExperimentTrigger) -> InferenceExperimentTrigger:
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    # what the triggerer stores goes through JSON
    restored: InferenceExperimentTrigger = cls(**json.loads(json.dumps(kwargs)))
    return restored


def test_serialize_carries_every_setting() -> None:
    trigger = InferenceExperimentTrigger(
        "exp",
        ["Running"],
        poke_interval=5,
        max_sleep_seconds=600,
        deadline_epoch_seconds=1_900_000_000.5,
        fail_when_past_target=False,
        connection=ConnectionSettings(
            aws_conn_id="shadow",
            region_name="eu-west-1",
            verify="/etc/ca.pem",
            botocore_config={"retries": {"mode": "adaptive"}},
            max_attempts=3,
        ),
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_shadowtest.triggers.inference_experiment.InferenceExperimentTrigger"
    assert kwargs == {
        "experiment_name": "exp",
        "target_statuses": ["Running"],
        "poke_interval": 5.0,
        "max_sleep_seconds": 600.0,
        "deadline_epoch_seconds": 1_900_000_000.5,
        "fail_when_past_target": False,
        "connection": {
            "aws_conn_id": "shadow",
            "region_name": "eu-west-1",
            "verify": "/etc/ca.pem",
            "botocore_config": {"retries": {"mode": "adaptive"}},
            "max_attempts": 3,
        },
    }
    restored = restore(trigger)
    assert restored.serialize() == (classpath, kwargs)
    assert restored.connection == trigger.connection


async def test_waits_for_running_then_completed_with_few_describes(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=2, end_in=8)  # a wide Running window, whatever aiobotocore's start-up costs
    running = await first_event(InferenceExperimentTrigger("exp", ["Running"], poke_interval=0.2))
    assert running["status"] == "success"
    assert running["experiment_name"] == "exp"
    assert running["experiment"]["Status"] == "Running"
    assert isinstance(running["experiment"]["Schedule"]["StartTime"], str)  # JSON-safe
    json.dumps(running)
    to_running = describes(emulator)
    completed = await first_event(InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2))
    assert completed["status"] == "success"
    assert completed["experiment"]["Status"] == "Completed"
    # fixed 0.2 s polling would cost about 20 Describes; sleeping to the boundaries costs a few
    assert to_running <= 6
    assert describes(emulator) - to_running <= 3


async def test_missing_experiment_is_an_error_event_with_the_code(emulator: EmulatorServer) -> None:
    event = await first_event(InferenceExperimentTrigger("nope", ["Running"], poke_interval=0.2))
    assert event["status"] == "error"
    assert event["error_code"] == "ResourceNotFound"
    assert event["experiment"] is None
    assert "nope" in event["message"]


async def test_cancel_while_waiting_is_an_error_event_with_the_reason(
    emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    emulator.configure(transition_seconds=0)
    experiment(start_in=0, end_in=3600)  # Running at once
    trigger = InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2, max_sleep_seconds=1)
    task = asyncio.ensure_future(first_event(trigger))
    await until_waiting(emulator, task)
    sm.stop_inference_experiment(
        Name="exp",
        ModelVariantActions={"AllTraffic": "Retain", "shadow": "Remove"},
        DesiredState="Cancelled",
        Reason="shadow error rate too high",
    )
    event = await task
    assert event["status"] == "error"
    assert event["error_code"] is None
    assert event["experiment"]["Status"] == "Cancelled"
    assert event["experiment"]["StatusReason"] == "shadow error rate too high"
    # The resumed task fails with the status and the reason, said once.
    error = str(event_error(event))
    assert error == (
        "Inference experiment 'exp' is Cancelled: it was cancelled while waiting for Completed. "
        "StatusReason: shadow error rate too high"
    )


async def test_shortened_end_time_is_noticed_within_max_sleep(
    emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    emulator.configure(transition_seconds=0)
    experiment(start_in=0, end_in=3600)  # Running at once
    trigger = InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2, max_sleep_seconds=1)
    task = asyncio.ensure_future(first_event(trigger))
    await until_waiting(emulator, task)  # it read an end an hour away
    new_end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    sm.update_inference_experiment(Name="exp", Schedule={"EndTime": new_end})
    event = await asyncio.wait_for(task, 30)
    assert event["status"] == "success"
    assert event["experiment"]["Status"] == "Completed"
    # noticed within max_sleep (1 s) of the new end, plus slack for a loaded machine; a trigger
    # that kept the end it first read would sleep for an hour
    assert dt.datetime.now(dt.timezone.utc) - new_end < dt.timedelta(seconds=1 + 4)


async def test_deadline_gives_a_timeout_event(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    await warm_up()  # so that the client's start-up does not eat into the deadline
    experiment(start_in=3600, end_in=7200)
    emulator.reset_stats()
    deadline = time.time() + 2
    event = await first_event(
        InferenceExperimentTrigger("exp", ["Running"], poke_interval=0.2, deadline_epoch_seconds=deadline)
    )
    assert event["status"] == "timeout"
    assert event["experiment"]["Status"] == "Created"
    assert event["message"].startswith("did not reach Running before the deadline ")
    assert event["message"].endswith("; it is Created")
    assert time.time() < deadline + 10  # not at the start, an hour away
    # one Describe before sleeping until the deadline and one at it (a third if the wake-up
    # lands a hair before the wall-clock deadline); 0.2 s polling would take about 10
    assert 1 <= describes(emulator) <= 3


async def test_restored_mid_wait_ends_with_the_same_outcome(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    await warm_up()  # so that the first Describe comes well before the end
    experiment(start_in=1.5, end_in=3)
    emulator.reset_stats()
    original = InferenceExperimentTrigger(
        "exp", ["Completed"], poke_interval=0.2, deadline_epoch_seconds=time.time() + 30
    )
    # the triggerer restarts while the trigger sleeps (after its first Describe)
    sleeping = asyncio.ensure_future(first_event(original))
    await until_waiting(emulator, sleeping)
    sleeping.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sleeping
    event = await first_event(restore(original))
    assert event["status"] == "success"
    assert event["experiment"]["Status"] == "Completed"


async def test_throttling_that_escapes_botocore_is_retried_with_backoff(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=0, end_in=3600)
    emulator.configure(
        fault_rate=1.0, fault_kinds=("throttling",), fault_operations=frozenset({"DescribeInferenceExperiment"})
    )
    trigger = InferenceExperimentTrigger("exp", ["Running"], poke_interval=0.2, connection=ONE_ATTEMPT)
    task = asyncio.ensure_future(first_event(trigger))
    await until(lambda: emulator.fault_stats().get("DescribeInferenceExperiment", 0) >= 1, "a throttled Describe")
    emulator.configure(fault_rate=0.0)
    event = await task
    assert event["status"] == "success"
    assert emulator.fault_stats().get("DescribeInferenceExperiment", 0) >= 1


async def test_other_client_errors_are_error_events(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    experiment(start_in=0, end_in=3600)
    emulator.configure(
        fault_rate=1.0, fault_kinds=("http500",), fault_operations=frozenset({"DescribeInferenceExperiment"})
    )
    event = await first_event(InferenceExperimentTrigger("exp", ["Running"], connection=ONE_ATTEMPT))
    assert event["status"] == "error"
    assert event["error_code"] == "InternalFailure"
    assert event["message"] == "We encountered an internal error. Please try again."
    assert event["experiment"] is None
