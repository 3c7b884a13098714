"""The sync wait driver against the in-process emulator, on a frozen clock that only the sleeps move."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import pytest
import time_machine

from airflow_provider_shadowtest.exceptions import (
    ExperimentNotFound,
    ExperimentStateError,
    InferenceExperimentApiError,
    WaitTimeout,
)
from airflow_provider_shadowtest.experiment.waiting import WaitPolicy
from airflow_provider_shadowtest.hooks import waiter
from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests
from airflow_provider_shadowtest.testing.resources import shadow_test_request

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_shadowtest.testing.handle import EmulatorHandle

T0 = dt.datetime(2030, 1, 6, 12, 0, 0, tzinfo=dt.timezone.utc)
HOUR = 3600.0


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def emulator(clock: time_machine.Traveller) -> Iterator[EmulatorHandle]:
    with mock_shadow_tests(transition_seconds=60) as handle:
        yield handle


@pytest.fixture
def hook(emulator: EmulatorHandle) -> InferenceExperimentHook:
    hook = InferenceExperimentHook(aws_conn_id=None, region_name="us-east-1")
    create_model(hook.conn, "shadow-model")
    create_endpoint(hook.conn, "ep", "prod-model")
    return hook


def create(hook: InferenceExperimentHook, name: str = "exp", *, start_h: float = 1, end_h: float = 24) -> str:
    schedule = {"StartTime": T0 + dt.timedelta(hours=start_h), "EndTime": T0 + dt.timedelta(hours=end_h)}
    hook.create_inference_experiment(shadow_test_request(name, "ep", "prod-model", "shadow-model", Schedule=schedule))
    return name


class Sleeper:
    """Records each sleep and moves the frozen clock; runs ``on_sleep[i]`` before the i-th sleep."""

    def __init__(self, clock: time_machine.Traveller, on_sleep: dict[int, Callable[[], Any]] | None = None):
        self.clock = clock
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep or {}

    def __call__(self, seconds: float) -> None:
        action = self.on_sleep.get(len(self.sleeps))
        if action is not None:
            action()
        self.sleeps.append(seconds)
        self.clock.shift(seconds)


def describes(emulator: EmulatorHandle) -> int:
    return emulator.stats().get("DescribeInferenceExperiment", 0)


def wait(hook: InferenceExperimentHook, sleeper: Sleeper, target: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("poke_interval", 30.0)
    kwargs.setdefault("max_sleep_seconds", 7 * 24 * HOUR)
    kwargs.setdefault("timeout_seconds", None)
    policy = WaitPolicy.for_targets({target}, now=waiter.utc_now(), **kwargs)
    return waiter.wait(hook, "exp", policy, sleep=sleeper)


def test_waits_for_running_with_a_few_describes(
    hook: InferenceExperimentHook, emulator: EmulatorHandle, clock: time_machine.Traveller
) -> None:
    create(hook)
    sleeper = Sleeper(clock)
    result = wait(hook, sleeper, "Running")
    assert result["Status"] == "Running"
    # one Describe before the start, then polls through Starting (60 s at 30 s intervals)
    assert sleeper.sleeps[0] == HOUR
    assert describes(emulator) <= 4


def test_completed_costs_the_same_whatever_the_duration(
    hook: InferenceExperimentHook, emulator: EmulatorHandle, clock: time_machine.Traveller
) -> None:
    create(hook, start_h=0, end_h=29 * 24)
    result = wait(hook, Sleeper(clock), "Completed", max_sleep_seconds=30 * 24 * HOUR)
    assert result["Status"] == "Completed"
    assert describes(emulator) <= 3


def test_max_sleep_bounds_each_sleep(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=0, end_h=5)
    sleeper = Sleeper(clock)
    wait(hook, sleeper, "Completed", max_sleep_seconds=HOUR)
    assert max(sleeper.sleeps) == HOUR
    assert len(sleeper.sleeps) == 5


def test_extended_end_time_is_waited_for_again(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=0, end_h=10)
    new_end = T0 + dt.timedelta(hours=20)

    def extend() -> None:
        hook.update_inference_experiment({"Name": "exp", "Schedule": {"EndTime": new_end}})

    sleeper = Sleeper(clock, {1: extend})  # at T0 + 4 h, Running, on the way to the original end
    result = wait(hook, sleeper, "Completed", max_sleep_seconds=4 * HOUR)
    assert result["Status"] == "Completed"
    assert dt.datetime.now(dt.timezone.utc) >= new_end


def test_shortened_end_time_is_noticed_within_max_sleep(
    hook: InferenceExperimentHook, clock: time_machine.Traveller
) -> None:
    create(hook, start_h=0, end_h=100)
    new_end = T0 + dt.timedelta(hours=3)

    def shorten() -> None:
        hook.update_inference_experiment({"Name": "exp", "Schedule": {"EndTime": new_end}})

    sleeper = Sleeper(clock, {1: shorten})
    wait(hook, sleeper, "Completed", max_sleep_seconds=2 * HOUR)
    late = dt.datetime.now(dt.timezone.utc) - new_end
    assert late <= dt.timedelta(hours=2)


def test_external_cancel_fails_with_its_reason(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=0, end_h=10)

    def cancel() -> None:
        hook.stop_inference_experiment(
            {
                "Name": "exp",
                "ModelVariantActions": {"AllTraffic": "Retain", "shadow": "Remove"},
                "DesiredState": "Cancelled",
                "Reason": "latency regression spotted",
            }
        )

    with pytest.raises(ExperimentStateError, match="latency regression spotted") as failed:
        wait(hook, Sleeper(clock, {1: cancel}), "Completed", max_sleep_seconds=HOUR)
    assert failed.value.status == "Cancelled"


def test_external_stop_completes_the_wait_early(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=0, end_h=100)

    def stop() -> None:
        hook.stop_inference_experiment(
            {
                "Name": "exp",
                "ModelVariantActions": {"AllTraffic": "Retain", "shadow": "Remove"},
                "DesiredState": "Completed",
            }
        )

    result = wait(hook, Sleeper(clock, {1: stop}), "Completed", max_sleep_seconds=HOUR)
    assert result["Status"] == "Completed"
    assert dt.datetime.now(dt.timezone.utc) < T0 + dt.timedelta(hours=4)


def test_past_the_target_fails_unless_accepted(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=0, end_h=1)
    clock.shift(2 * HOUR)
    with pytest.raises(ExperimentStateError, match="already completed"):
        wait(hook, Sleeper(clock), "Running")
    assert wait(hook, Sleeper(clock), "Running", fail_when_past_target=False)["Status"] == "Completed"


def test_missing_experiment_raises_not_found(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    with pytest.raises(ExperimentNotFound) as missing:
        wait(hook, Sleeper(clock), "Running")
    assert missing.value.code == "ResourceNotFound"


def test_timeout(hook: InferenceExperimentHook, clock: time_machine.Traveller) -> None:
    create(hook, start_h=5, end_h=10)
    sleeper = Sleeper(clock)
    with pytest.raises(
        WaitTimeout, match=r"^Inference experiment 'exp': did not reach Running before the deadline .*; it is Created$"
    ):
        wait(hook, sleeper, "Running", timeout_seconds=HOUR)
    assert sum(sleeper.sleeps) == HOUR  # slept up to the deadline, not to the start


class ThrottledHook:
    """Answers ThrottlingException ``times`` times, then Running."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    def describe_inference_experiment(self, name: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.times:
            raise InferenceExperimentApiError("ThrottlingException", "Rate exceeded", operation="Describe")
        return {"InferenceExperimentName": name, "Status": "Running"}


def test_throttling_backs_off_then_succeeds() -> None:
    sleeps: list[float] = []
    fake = cast("InferenceExperimentHook", ThrottledHook(2))
    result = waiter.wait(
        fake, "exp", WaitPolicy(frozenset({"Running"}), poke_interval=1, max_sleep_seconds=60), sleep=sleeps.append
    )
    assert result["Status"] == "Running"
    assert sleeps == [2.0, 4.0]


def test_throttling_gives_up_after_a_bounded_number_of_rounds() -> None:
    sleeps: list[float] = []
    fake = cast("InferenceExperimentHook", ThrottledHook(100))
    with pytest.raises(
        InferenceExperimentApiError, match=r"^AWS error ThrottlingException during Describe: Rate exceeded$"
    ):
        waiter.wait(
            fake, "exp", WaitPolicy(frozenset({"Running"}), poke_interval=1, max_sleep_seconds=60), sleep=sleeps.append
        )
    assert len(sleeps) == 5


def test_throttling_until_the_deadline_is_a_timeout_naming_the_code() -> None:
    sleeps: list[float] = []
    fake = cast("InferenceExperimentHook", ThrottledHook(100))
    policy = WaitPolicy.for_targets({"Running"}, timeout_seconds=3, now=waiter.utc_now(), max_sleep_seconds=60)
    with pytest.raises(WaitTimeout, match=r"'exp': still throttled \(ThrottlingException\) at the deadline"):
        waiter.wait(fake, "exp", policy, sleep=sleeps.append)
    assert sleeps == [2.0]  # the next backoff (4 s) would end past the deadline


# -- the transitional wait is the same driver with the "settled" policy --------------------------
def settle(hook: InferenceExperimentHook, sleeper: Sleeper, timeout_seconds: float = HOUR) -> dict[str, Any]:
    policy = WaitPolicy.settled(poke_interval=10, timeout_seconds=timeout_seconds, now=waiter.utc_now())
    return waiter.wait(hook, "exp", policy, sleep=sleeper)


def test_settle_polls_through_creating_and_does_not_sleep_to_the_start(
    hook: InferenceExperimentHook, emulator: EmulatorHandle, clock: time_machine.Traveller
) -> None:
    create(hook)  # Creating for 60 s, then Created; the start is an hour away
    sleeper = Sleeper(clock)
    assert settle(hook, sleeper)["Status"] == "Created"
    assert sleeper.sleeps == [10.0] * len(sleeper.sleeps)
    assert 60 <= sum(sleeper.sleeps) <= 70


def test_settle_returns_at_once_when_the_status_is_stable(
    hook: InferenceExperimentHook, emulator: EmulatorHandle, clock: time_machine.Traveller
) -> None:
    create(hook)
    clock.shift(120)
    before = describes(emulator)
    sleeper = Sleeper(clock)
    assert settle(hook, sleeper)["Status"] == "Created"
    assert (sleeper.sleeps, describes(emulator) - before) == ([], 1)


def test_settle_times_out_naming_the_status(
    hook: InferenceExperimentHook, emulator: EmulatorHandle, clock: time_machine.Traveller
) -> None:
    create(hook)
    with pytest.raises(WaitTimeout, match=r"'exp': did not reach a status other than .*Creating.*; it is Creating"):
        settle(hook, Sleeper(clock), timeout_seconds=25)
