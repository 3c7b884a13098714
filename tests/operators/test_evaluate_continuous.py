"""Continuous mode, ramp, report and capture gate of EvaluateInferenceExperimentOperator, on the in-process emulator.

Deferral is driven by hand: execute() raises TaskDeferred with a ContinuousCheckTrigger; the test
moves the clock to the trigger's moment and calls resume() with the event the trigger yields (the
state travels in the payload, as under ``dag.test()``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
import time_machine
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_shadowtest.links.report import XCOM_KEY
from airflow_provider_shadowtest.operators import evaluate as evaluate_module
from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.triggers.check_timer import ContinuousCheckTrigger
from airflow_provider_shadowtest.verdict import SequentialPlan
from tests.operators.test_evaluate_operator import BASELINE, CANDIDATES, RecordingTaskInstance

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = T0 + dt.timedelta(minutes=1)
END = T0 + dt.timedelta(hours=3)
REGION = "us-east-1"
STORAGE = {"Destination": "s3://captures/shadow-tests", "ContentType": {"CsvContentTypes": ["text/csv"]}}
LABELS = {"output": {"kind": "label", "json_path": "$.predicted_label"}}
PROFILES = {
    **CANDIDATES,
    "failing-5pct": {**BASELINE, "shadowtest:error-rate": "5%"},
    "disagreeing": {**BASELINE, "shadowtest:disagreement-rate": "10%"},
}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[time_machine.Traveller, Callable[..., Any]]]:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with time_machine.travel(T0, tick=False) as clock, mock_shadow_tests(transition_seconds=0):
        sm = boto3.client("sagemaker", region_name=REGION)
        create_model(sm, "prod-model", tags=BASELINE)
        create_endpoint(sm, "ep", "prod-model")

        def make(candidate: str, *, capture: bool = False, sampling: int = 50) -> Any:
            create_model(sm, candidate, tags=PROFILES[candidate])
            extra: dict[str, Any] = {"DataStorageConfig": STORAGE} if capture else {}
            if capture:
                boto3.client("s3", region_name=REGION).create_bucket(Bucket="captures")
            request = shadow_test_request(
                "exp",
                "ep",
                "prod-model",
                candidate,
                sampling_percent=sampling,
                instance_count=2,
                Schedule={"StartTime": START, "EndTime": END},
                **extra,
            )
            sm.create_inference_experiment(**request)
            return sm

        yield clock, make


def operator(**kwargs: Any) -> EvaluateInferenceExperimentOperator:
    kwargs.setdefault("experiment_name", "exp")
    kwargs.setdefault("deferrable", True)
    kwargs.setdefault("fail_on_reject", False)
    return EvaluateInferenceExperimentOperator(task_id="evaluate", aws_conn_id=None, region_name=REGION, **kwargs)


def drive(op: EvaluateInferenceExperimentOperator, clock: time_machine.Traveller, max_looks: int = 200) -> Any:
    """Run execute(), then resume from each trigger's event until the task returns; return (result, ti, triggers)."""
    ti = RecordingTaskInstance()
    context = cast("Any", {"ti": ti, "run_id": ti.run_id})
    triggers: list[ContinuousCheckTrigger] = []
    step: Callable[[], Any] = lambda: op.execute(context)  # noqa: E731
    for _ in range(max_looks):
        try:
            return step(), ti, triggers
        except TaskDeferred as deferred:
            trigger, method = deferred.trigger, deferred.method_name
        else:  # pragma: no cover - returned above
            break
        assert isinstance(trigger, ContinuousCheckTrigger)
        assert method == "resume"
        # What the triggerer stores and re-creates: only the serialized form.
        path, kwargs = trigger.serialize()
        assert path.endswith("check_timer.ContinuousCheckTrigger")
        trigger = ContinuousCheckTrigger(**kwargs)
        triggers.append(trigger)
        clock.move_to(dt.datetime.fromtimestamp(trigger.moment_epoch_seconds, dt.timezone.utc))
        event = asyncio.run(_first_event(trigger))
        step = functools.partial(op.resume, context, event=event)
    raise AssertionError("no decision")


async def _first_event(trigger: ContinuousCheckTrigger) -> Any:
    async for event in trigger.run():
        return event.payload
    return None


def test_continuous_mode_defers_between_looks_and_rejects_a_5xx_candidate_early(world: Any) -> None:
    clock, make = world
    make("failing-5pct")
    op = operator(observation_seconds=3600, check_interval_seconds=120, warmup_seconds=120, lag_seconds=60)
    document, ti, triggers = drive(op, clock)
    assert document["decision"] == "REJECT"
    assert ti.xcoms["return_value"] == document
    # The first wake-up is after the warm-up, one interval and the lag; the state travels in the payload.
    assert triggers[0].moment_epoch_seconds == (START + dt.timedelta(seconds=120 + 120 + 60)).timestamp()
    assert triggers[-1].state["look"] == len(document["looks"])
    sequential = document["sequential"]
    assert sequential["decided_early"] is True
    # Decided within 10 minutes of judged traffic (looks every 2 minutes after the warm-up).
    assert len(document["looks"]) * 2 <= 10, document["looks"]
    # Two shadow instances freed for most of the hour.
    assert sequential["instance_hours_saved"] > 1.0
    assert [c["name"] for c in document["checks"] if c["outcome"] == "regression"] == ["error_rate_5xx"]
    assert document["looks"][-1]["decision"] == "REJECT"
    assert document["sequential"]["look"] == len(document["looks"])
    assert all(look["decision"] == "continue" for look in document["looks"][:-1])


def test_continuous_mode_promotes_a_better_candidate_before_the_end(world: Any) -> None:
    clock, make = world
    make("better")
    op = operator(observation_seconds=5400, check_interval_seconds=300, warmup_seconds=300, lag_seconds=120)
    document, _, triggers = drive(op, clock)
    assert document["decision"] == "PROMOTE", document["report_markdown"]
    assert document["sequential"]["decided_early"] is True
    assert 1 < len(triggers) < 18
    assert document["sequential"]["look"] == len(document["looks"]) > 1
    # Each look spends only the alpha since the previous look (repeated looks do not inflate errors).
    plan = SequentialPlan(observation_seconds=5400 - 300, check_interval_seconds=300)
    previous = 0.0
    for entry in document["looks"]:
        expected = plan.look_confidence_percent(95.0, previous, entry["information_fraction"])
        assert entry["look_confidence_percent"] == pytest.approx(expected, abs=1e-3)
        previous = entry["information_fraction"]
    assert "instance-hours saved" in document["report_markdown"]


def test_non_deferrable_mode_sleeps_in_the_worker(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, make = world
    make("failing-5pct")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.shift(dt.timedelta(seconds=seconds))

    monkeypatch.setattr(evaluate_module, "time", types.SimpleNamespace(sleep=sleep))
    op = operator(observation_seconds=3600, check_interval_seconds=120, warmup_seconds=120, deferrable=False)
    ti = RecordingTaskInstance()
    document = op.execute(cast("Any", {"ti": ti}))
    assert document["decision"] == "REJECT"
    # Until the first look: to the start (60 s), the warm-up, one interval and the lag; then one interval.
    assert slept[0] == 60 + 120 + 120 + 180
    assert all(0 < s <= 120 for s in slept[1:])


def test_ramp_to_full_sampling_updates_the_experiment_and_judges_again(world: Any) -> None:
    clock, make = world
    sm = make("better", sampling=30)
    op = operator(
        observation_seconds=5400,
        check_interval_seconds=300,
        warmup_seconds=300,
        lag_seconds=120,
        ramp_to_full_sampling=True,
        ramp_observation_seconds=3600,
    )
    document, _, _ = drive(op, clock)
    assert document["decision"] == "PROMOTE", document["report_markdown"]
    ramp = document["ramp"]
    assert (ramp["from_sampling_percent"], ramp["to_sampling_percent"]) == (30, 100)
    assert ramp["first_verdict"]["decision"] == "PROMOTE"
    described = sm.describe_inference_experiment(Name="exp")
    variant = described["ShadowModeConfig"]["ShadowModelVariants"][0]
    assert variant["SamplingPercentage"] == 100
    assert described["ShadowModeConfig"]["SourceModelVariantName"] == "AllTraffic"
    phases = {look["phase"] for look in document["looks"]}
    assert phases == {"observe", "ramp"}
    # The verdict after the ramp is judged on traffic after it only.
    assert document["window"]["start"] >= ramp["at"]


def test_report_is_written_to_file_and_linked(world: Any, tmp_path: Path) -> None:
    clock, make = world
    make("failing-5pct")
    op = operator(
        observation_seconds=3600, check_interval_seconds=120, warmup_seconds=120, report_uri=f"file://{tmp_path}/"
    )
    document, ti, _ = drive(op, clock)
    location = document["report_location"]
    assert location.startswith("file://")
    assert location.endswith("/exp/dag/run-1/evaluate.html")
    html = Path(location.removeprefix("file://")).read_text(encoding="utf-8")
    assert 'data-decision="REJECT"' in html
    assert 'class="band warmup"' in html
    assert 'class="band lag"' in html
    assert "warm-up (120 s, not judged)" in html
    assert "<svg" in html
    assert ti.xcoms[XCOM_KEY] == {"location": location}
    assert "Shadow test report" in [link.name for link in EvaluateInferenceExperimentOperator.operator_extra_links]


@pytest.mark.parametrize(("candidate", "decision"), [("equal", "PROMOTE"), ("disagreeing", "REJECT")])
def test_capture_agreement_gates_the_promotion(world: Any, candidate: str, decision: str, tmp_path: Path) -> None:
    clock, make = world
    make(candidate, capture=True)
    clock.move_to(START + dt.timedelta(hours=2))
    op = operator(
        warmup_seconds=300, lag_seconds=120, capture_comparison=LABELS, fail_on_reject=False, report_uri=str(tmp_path)
    )
    ti = RecordingTaskInstance()
    document = op.execute(cast("Any", {"ti": ti}))
    assert document["decision"] == decision, document["report_markdown"]
    assert "## Prediction agreement (data capture)" in document["report_markdown"]
    html = Path(document["report_location"].removeprefix("file://")).read_text(encoding="utf-8")
    assert '<section id="prediction-agreement">' in html
    checks = {c["name"]: c["decision"] for c in document["capture"]["checks"]}
    assert checks["label_agreement"] == ("pass" if decision == "PROMOTE" else "fail")
    if decision == "REJECT":
        # Latency and errors alone were fine: the disagreement decided.
        assert not [c for c in document["checks"] if c["outcome"] == "regression"]
        assert document["reasons"][0].startswith("prediction agreement:")
