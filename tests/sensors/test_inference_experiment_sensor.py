"""The sensor in poke, reschedule and deferrable modes against the emulator server, with short schedules."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, cast

import pytest
from airflow.sdk.exceptions import (
    AirflowException,
    AirflowFailException,
    AirflowRescheduleException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)

from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context

    from airflow_provider_shadowtest.testing import EmulatorServer

pytestmark = pytest.mark.timeout(90)


class FakeTI:
    """Just enough of a task instance for reschedule mode: when the first try started, and XComs."""

    def __init__(self) -> None:
        self.first_try: dt.datetime | None = None
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def get_first_reschedule_date(self, context: Any) -> dt.datetime | None:
        return self.first_try


def sensor(**kwargs: Any) -> InferenceExperimentSensor:
    kwargs.setdefault("task_id", "wait")
    kwargs.setdefault("experiment_name", "exp")
    kwargs.setdefault("poke_interval", 0.2)
    kwargs.setdefault("deferrable", False)
    return InferenceExperimentSensor(**kwargs)


def describes(emulator: EmulatorServer) -> int:
    return emulator.stats().get("DescribeInferenceExperiment", 0)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``condition`` (bounded) instead of sleeping a fixed time for the emulator."""
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)


def status_of(sm: Any, name: str = "exp") -> str:
    return str(sm.describe_inference_experiment(Name=name)["Status"])


def running_now(emulator: EmulatorServer, experiment: Callable[..., str], **schedule: float) -> None:
    """An experiment that is Running at once: no transitional statuses, started now."""
    emulator.configure(transition_seconds=0)
    experiment(start_in=0, **schedule)


class Background:
    """Run ``action`` in a thread; ``join`` re-raises what it raised."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.error: BaseException | None = None
        self._action = action
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._action()
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self._thread.join(60)
        assert not self._thread.is_alive(), "the background action did not finish"
        if self.error is not None:
            raise self.error


def run_rescheduled(task: InferenceExperimentSensor) -> tuple[Any, list[dt.datetime]]:
    """Run tries until one returns, sleeping until each reschedule date; return (result, dates)."""
    ti = FakeTI()
    dates: list[dt.datetime] = []
    while True:
        try:
            return task.execute(cast("Context", {"ti": ti})), dates
        except AirflowRescheduleException as again:
            ti.first_try = ti.first_try or dt.datetime.now(dt.timezone.utc)
            dates.append(again.reschedule_date)
            time.sleep(max((again.reschedule_date - dt.datetime.now(dt.timezone.utc)).total_seconds(), 0))


def run_deferred(task: InferenceExperimentSensor, *, must_defer: bool = False) -> Any:
    """Execute; when it defers, run the trigger (through serialize) and resume with its event.

    :param must_defer: fail when ``execute()`` returns without deferring (the worker waited).
    """
    try:
        result = task.execute({})
    except TaskDeferred as exc:
        deferred = exc
    else:
        assert not must_defer, "execute() returned without deferring: it waited in the worker"
        return result
    assert deferred.method_name == "execute_complete"
    assert deferred.kwargs is None  # everything travels in the event
    _, kwargs = deferred.trigger.serialize()
    trigger = InferenceExperimentTrigger(**json.loads(json.dumps(kwargs)))

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(first(), 30))
    return task.execute_complete({}, event=event)


# -- construction -----------------------------------------------------------------------------
def test_targets_resolve_and_unknown_ones_are_rejected() -> None:
    assert sensor(target="running").target_statuses == ["Running"]
    assert sensor(target="COMPLETED").target_statuses == ["Completed"]
    assert sensor(target={"Completed", "Cancelled"}).target_statuses == ["Cancelled", "Completed"]
    with pytest.raises(ValueError, match=r"^target: unknown status \['Finished'\]"):
        sensor(target="Finished")
    with pytest.raises(ValueError, match=r"^max_sleep_seconds: must be positive"):
        sensor(max_sleep_seconds=0)


def test_experiment_name_is_templated_and_deferrable_follows_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "experiment_name" in InferenceExperimentSensor.template_fields
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert InferenceExperimentSensor(task_id="a", experiment_name="x").deferrable is True
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert InferenceExperimentSensor(task_id="b", experiment_name="x").deferrable is False


def test_modules_do_not_import_aws_sdks() -> None:
    code = (
        "import sys\n"
        "import airflow_provider_shadowtest.sensors.inference_experiment\n"
        "import airflow_provider_shadowtest.triggers.inference_experiment\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'aiobotocore', 'moto'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


# -- the three modes ---------------------------------------------------------------------------
def test_poke_mode_sleeps_until_the_start_then_returns_the_describe(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=2, end_in=60)
    started = time.monotonic()
    result = sensor(target="running").execute({})
    assert time.monotonic() - started >= 1.5
    assert result["Status"] == "Running"
    assert result["ExperimentName" if "ExperimentName" in result else "Name"] == "exp"
    assert isinstance(result["Schedule"]["EndTime"], str)
    assert [v["VariantName"] for v in result["ModelVariants"]] == ["AllTraffic", "shadow"]
    json.dumps(result)
    assert describes(emulator) <= 6  # 0.2 s polling for 2.5 s would take about 13


def test_reschedule_mode_reschedules_to_the_boundary(
    emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    experiment(start_in=1, end_in=6)
    result, dates = run_rescheduled(sensor(target="completed", mode="reschedule"))
    assert result["Status"] == "Completed"
    assert describes(emulator) <= 3  # 0.2 s polling for 6 s would take about 30
    # The first try reschedules straight to the scheduled end, not poke_interval (0.2 s) later:
    # compared with the schedule itself, so a slow machine cannot make this pass or fail.
    end = sm.describe_inference_experiment(Name="exp")["Schedule"]["EndTime"]
    assert abs((dates[0] - end).total_seconds()) < 0.5


def test_deferrable_mode_defers_and_resumes_from_the_event(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    # the first aiobotocore client loads the SageMaker model, which takes seconds on a slow machine:
    # a wide Running window (4 s to 10 s) so that the trigger's first Describe cannot miss it
    experiment(start_in=4, end_in=10)
    running = run_deferred(sensor(target="running", deferrable=True), must_defer=True)
    assert running["Status"] == "Running"
    completed = run_deferred(sensor(target="completed", deferrable=True), must_defer=True)
    assert completed["Status"] == "Completed"
    assert describes(emulator) <= 10


def test_deferrable_execute_defers_to_the_trigger_before_the_boundary(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    experiment(start_in=3600, end_in=7200)
    emulator.reset_stats()
    task = sensor(target="running", deferrable=True, timeout=600, max_sleep_seconds=120, region_name="us-east-1")
    started = time.time()
    with pytest.raises(TaskDeferred) as raised:
        task.execute({})
    assert time.time() - started < 10  # deferred at once: the start is an hour away
    deferred = raised.value
    trigger = deferred.trigger
    assert isinstance(trigger, InferenceExperimentTrigger)
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is not None
    assert deferred.timeout >= dt.timedelta(seconds=600)
    assert (trigger.experiment_name, trigger.target_statuses) == ("exp", ["Running"])
    assert (trigger.poke_interval, trigger.max_sleep_seconds) == (0.2, 120)
    assert trigger.deadline_epoch_seconds == pytest.approx(started + 600, abs=10)
    assert trigger.connection == task.connection
    assert trigger.connection.region_name == "us-east-1"
    assert describes(emulator) == 1  # one check before deferring, none after


def test_deferrable_does_not_defer_when_already_there(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    running_now(emulator, experiment, end_in=3600)
    # execute() returns instead of raising TaskDeferred
    assert sensor(target="running", deferrable=True).execute({})["Status"] == "Running"


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_extended_end_time_is_honoured_in_every_mode(
    mode: str, emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    running_now(emulator, experiment, end_in=6)
    original_end = sm.describe_inference_experiment(Name="exp")["Schedule"]["EndTime"]
    new_end = original_end + dt.timedelta(seconds=2)
    emulator.reset_stats()

    def extend_once_the_sensor_has_read_the_schedule() -> None:
        wait_until(lambda: describes(emulator) >= 1, "the sensor's first Describe")
        time.sleep(0.2)  # the count is taken as the request arrives: let its response go out first
        sm.update_inference_experiment(Name="exp", Schedule={"EndTime": new_end})
        # otherwise the sensor never waited on the original schedule and the test proves nothing
        assert dt.datetime.now(dt.timezone.utc) < original_end, "the update landed after the original end"

    # No max_sleep_seconds: the sensor sleeps to the end it read, wakes to find the experiment still
    # Running, and must re-read the schedule instead of failing or returning early.
    task = sensor(target="completed", mode="reschedule" if mode == "reschedule" else "poke")
    task.deferrable = mode == "deferrable"
    extender = Background(extend_once_the_sensor_has_read_the_schedule)
    if mode == "deferrable":
        result = run_deferred(task, must_defer=True)
    else:
        result, dates = run_rescheduled(task)
        if mode == "reschedule":  # the first try saw the original end and rescheduled to it
            assert abs((dates[0] - original_end).total_seconds()) < 0.5
    extender.join()
    assert result["Status"] == "Completed"
    assert dt.datetime.now(dt.timezone.utc) >= new_end


# -- failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_cancelled_fails_with_the_status_reason(
    mode: str, emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    running_now(emulator, experiment, end_in=3600)
    sm.stop_inference_experiment(
        Name="exp",
        ModelVariantActions={"AllTraffic": "Retain", "shadow": "Remove"},
        DesiredState="Cancelled",
        Reason="the shadow model leaks memory",
    )
    task = sensor(target="completed", mode="reschedule" if mode == "reschedule" else "poke")
    task.deferrable = mode == "deferrable"
    with pytest.raises(AirflowFailException, match="the shadow model leaks memory"):
        run_deferred(task) if mode == "deferrable" else run_rescheduled(task)


def test_stop_while_waiting_is_noticed_within_max_sleep_seconds(
    emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    running_now(emulator, experiment, end_in=3600)
    emulator.reset_stats()
    stopped_at: list[float] = []

    def stop_while_the_sensor_sleeps() -> None:
        wait_until(lambda: describes(emulator) >= 1, "the sensor's first Describe")
        time.sleep(0.2)  # the sensor has its answer (Running until an hour from now) and sleeps
        sm.stop_inference_experiment(
            Name="exp", ModelVariantActions={"AllTraffic": "Retain", "shadow": "Remove"}, DesiredState="Completed"
        )
        stopped_at.append(time.monotonic())

    stopper = Background(stop_while_the_sensor_sleeps)
    result = sensor(target="completed", max_sleep_seconds=1).execute({})
    returned_at = time.monotonic()
    stopper.join()
    assert result["Status"] == "Completed"
    # noticed within max_sleep_seconds (1 s) plus slack for a loaded machine; without max_sleep_seconds the
    # sensor would sleep toward the scheduled end an hour away
    assert returned_at - stopped_at[0] < 1 + 4


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_past_the_target_fails_unless_accepted(
    mode: str, emulator: EmulatorServer, sm: Any, experiment: Callable[..., str]
) -> None:
    running_now(emulator, experiment, end_in=0.5)
    wait_until(lambda: status_of(sm) == "Completed", "the experiment to complete")
    kwargs: dict[str, Any] = {"target": "running", "mode": "reschedule" if mode == "reschedule" else "poke"}
    strict = sensor(**kwargs)
    strict.deferrable = mode == "deferrable"
    with pytest.raises(AirflowFailException, match="already completed"):
        run_deferred(strict) if mode == "deferrable" else run_rescheduled(strict)
    lenient = sensor(fail_when_past_target=False, **kwargs)
    lenient.deferrable = mode == "deferrable"
    result = run_deferred(lenient) if mode == "deferrable" else run_rescheduled(lenient)[0]
    assert result["Status"] == "Completed"


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_deleted_experiment_fails_clearly(mode: str, emulator: EmulatorServer) -> None:
    task = sensor(experiment_name="gone", mode="reschedule" if mode == "reschedule" else "poke")
    task.deferrable = mode == "deferrable"
    with pytest.raises(AirflowFailException, match=r"'gone' does not exist.*ResourceNotFound"):
        run_deferred(task) if mode == "deferrable" else run_rescheduled(task)


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
def test_timeout_is_honoured_in_every_mode(mode: str, emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    experiment(start_in=3600, end_in=7200)
    task = sensor(target="running", timeout=1, mode="reschedule" if mode == "reschedule" else "poke")
    task.deferrable = mode == "deferrable"
    started = time.monotonic()
    with pytest.raises(AirflowSensorTimeout, match="did not reach Running before the deadline"):
        run_deferred(task, must_defer=True) if mode == "deferrable" else run_rescheduled(task)
    # the start is an hour away: generous for aiobotocore's start-up on a loaded machine
    assert time.monotonic() - started < 10


def test_soft_fail_skips_on_timeout(emulator: EmulatorServer, experiment: Callable[..., str]) -> None:
    experiment(start_in=3600, end_in=7200)
    with pytest.raises(AirflowSkipException):
        sensor(target="running", timeout=0.5, soft_fail=True).execute({})


# -- resuming from events alone ------------------------------------------------------------------
def test_execute_complete_rebuilds_everything_from_the_event() -> None:
    task = sensor()
    experiment = {"Status": "Running", "Schedule": {"StartTime": "2030-01-06T12:00:00Z"}}
    assert task.execute_complete({}, {"status": "success", "experiment": experiment}) == experiment
    with pytest.raises(AirflowSensorTimeout, match=r"^Inference experiment 'exp': past the deadline$"):
        task.execute_complete({}, {"status": "timeout", "experiment_name": "exp", "message": "past the deadline"})
    cancelled = {**experiment, "Status": "Cancelled", "StatusReason": "stopped by on-call"}
    event = {"status": "error", "experiment_name": "exp", "error_code": None, "experiment": cancelled}
    with pytest.raises(AirflowFailException, match=r"^Inference experiment 'exp' is Cancelled: it was cancelled"):
        task.execute_complete({}, {**event, "message": "it was cancelled while waiting for Running"})
    not_found = r"^Inference experiment 'exp' does not exist \(deleted, or never created\): ResourceNotFound: gone$"
    with pytest.raises(AirflowFailException, match=not_found):
        task.execute_complete(
            {}, {"status": "error", "message": "gone", "error_code": "ResourceNotFound", "experiment": None}
        )
    denied = r"^AWS error AccessDenied during DescribeInferenceExperiment: no$"
    with pytest.raises(AirflowException, match=denied) as retriable:
        task.execute_complete(
            {}, {"status": "error", "message": "no", "error_code": "AccessDenied", "experiment": None}
        )
    assert not isinstance(retriable.value, AirflowFailException)


def test_a_waiting_sensor_already_has_its_console_links(
    emulator: EmulatorServer, experiment: Callable[..., str]
) -> None:
    from airflow_provider_shadowtest.links.inference_experiment import XCOM_KEY, InferenceExperimentMetricsLink

    experiment(start_in=30, end_in=60)
    ti = FakeTI()
    with pytest.raises(AirflowRescheduleException):
        sensor(target="completed", mode="reschedule").execute(cast("Context", {"ti": ti}))
    info = ti.xcoms[XCOM_KEY]  # stored before the try ended, so Airflow can show the links while it waits
    assert info["experiment_name"] == "exp"
    assert info["region_name"] == "us-east-1"
    assert all(info["variant_names"].values())
    assert "metricsV2?graph=" in InferenceExperimentMetricsLink().url(info)
