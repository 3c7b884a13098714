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

from airflow_provider_shadowtest.experiment.waiting import event_error
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_shadowtest.testing import EmulatorServer

pytestmark = pytest.mark.timeout(60)


async def first_event(trigger: InferenceExperimentTrigger, timeout: float = 30) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return await asyncio.wait_for(run(), timeout)


def describes(emulator: EmulatorServer) -> int:
    return emulator.stats().get("DescribeInferenceExperiment", 0)


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
        max_sleep=600,
        deadline=1_900_000_000.5,
        fail_when_past_target=False,
        aws_conn_id="shadow",
        region_name="eu-west-1",
        verify="/etc/ca.pem",
        botocore_config={"retries": {"mode": "adaptive"}},
        max_attempts=3,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_shadowtest.triggers.inference_experiment.InferenceExperimentTrigger"
    assert kwargs == {
        "experiment_name": "exp",
        "target_statuses": ["Running"],
        "poke_interval": 5.0,
        "max_sleep": 600.0,
        "deadline": 1_900_000_000.5,
        "fail_when_past_target": False,
        "aws_conn_id": "shadow",
        "region_name": "eu-west-1",
        "verify": "/etc/ca.pem",
        "botocore_config": {"retries": {"mode": "adaptive"}},
        "max_attempts": 3,
    }
    assert restore(trigger).serialize() == (classpath, kwargs)


async def test_waits_for_running_then_completed_with_few_describes(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=2, end_in=4)
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
    experiment(start_in=0, end_in=3600)
    trigger = InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2, max_sleep=1)
    task = asyncio.ensure_future(first_event(trigger))
    await asyncio.sleep(1.2)
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
    assert "Cancelled" in error
    assert error.count("shadow error rate too high") == 1


async def test_shortened_end_time_is_noticed_within_max_sleep(
    emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    experiment(start_in=0, end_in=3600)
    trigger = InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2, max_sleep=1)
    task = asyncio.ensure_future(first_event(trigger))
    await asyncio.sleep(1.5)  # Running by now
    new_end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    sm.update_inference_experiment(Name="exp", Schedule={"EndTime": new_end})
    event = await asyncio.wait_for(task, 5)
    assert event["status"] == "success"
    assert dt.datetime.now(dt.timezone.utc) - new_end < dt.timedelta(seconds=1 + 0.5)


async def test_deadline_gives_a_timeout_event(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    experiment(start_in=3600, end_in=7200)
    started = time.monotonic()
    event = await first_event(
        InferenceExperimentTrigger("exp", ["Running"], poke_interval=0.2, deadline=time.time() + 1)
    )
    assert event["status"] == "timeout"
    assert event["experiment"]["Status"] == "Created"
    assert "Running" in event["message"]
    assert time.monotonic() - started < 3
    assert describes(emulator) == 2  # one before sleeping until the deadline, one at it


async def test_restored_mid_wait_ends_with_the_same_outcome(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=1.5, end_in=3)
    original = InferenceExperimentTrigger("exp", ["Completed"], poke_interval=0.2, deadline=time.time() + 20)
    # the triggerer restarts while the trigger sleeps
    with contextlib.suppress(asyncio.TimeoutError):
        await first_event(original, timeout=0.5)
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
    trigger = InferenceExperimentTrigger("exp", ["Running"], poke_interval=0.2, max_attempts=1)
    task = asyncio.ensure_future(first_event(trigger))
    await asyncio.sleep(1)
    emulator.configure(fault_rate=0.0)
    event = await task
    assert event["status"] == "success"
    assert emulator.fault_stats().get("DescribeInferenceExperiment", 0) >= 1


async def test_other_client_errors_are_error_events(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    experiment(start_in=0, end_in=3600)
    emulator.configure(
        fault_rate=1.0, fault_kinds=("http500",), fault_operations=frozenset({"DescribeInferenceExperiment"})
    )
    event = await first_event(InferenceExperimentTrigger("exp", ["Running"], max_attempts=1))
    assert event["status"] == "error"
    assert event["error_code"]
    assert event["message"]
