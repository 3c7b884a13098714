"""EvaluateInferenceExperimentOperator against the in-process emulator: the statistical judge on per-minute evidence.

The emulator's traffic is driven by the wall clock, so each test travels in time: it creates the
experiment at T0 and evaluates after the scheduled end (or in the middle of it). Traffic is
realistic: lognormal latency spread 0.35 (the emulator's default) and non-zero baseline errors.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
import time_machine

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator, VerdictFailed
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.verdict import Decision

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = T0 + dt.timedelta(minutes=1)
END = T0 + dt.timedelta(minutes=31)
#: Baseline errors of production and every candidate (model tags the emulator reads).
BASELINE = {"shadowtest:4xx-rate": "0.5%", "shadowtest:error-rate": "0.2%", "shadowtest:model-error-rate": "0.1%"}
#: Candidate models by behaviour (production: 40 ms median, spread 0.35, the baseline errors).
CANDIDATES = {
    "better": {**BASELINE, "shadowtest:latency-ms": "30"},
    "equal": BASELINE,
    "slower": {**BASELINE, "shadowtest:latency-ms": "60"},
    "failing": {**BASELINE, "shadowtest:error-rate": "3%"},
}


class RecordingTaskInstance:
    """What execute() needs from a task instance: XCom push (recorded)."""

    task_id = "evaluate"
    dag_id = "dag"
    run_id = "run-1"
    map_index = -1

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shadow_test(clock: time_machine.Traveller) -> Iterator[Callable[..., str]]:
    """Create endpoint ``ep`` on ``prod-model`` and experiment ``exp`` against one candidate, at T0."""
    with mock_shadow_tests(transition_seconds=0) as handle:
        sm = boto3.client("sagemaker", region_name="us-east-1")
        create_model(sm, "prod-model", tags=BASELINE)
        create_endpoint(sm, "ep", "prod-model")

        def make(candidate: str, **extra: Any) -> str:
            create_model(sm, candidate, tags=CANDIDATES[candidate])
            schedule = {"StartTime": START, "EndTime": END}
            request = shadow_test_request("exp", "ep", "prod-model", candidate, Schedule=schedule, **extra)
            sm.create_inference_experiment(**request)
            return "exp"

        make.handle = handle  # type: ignore[attr-defined]
        yield make


def operator(**kwargs: Any) -> EvaluateInferenceExperimentOperator:
    kwargs.setdefault("experiment_name", "exp")
    return EvaluateInferenceExperimentOperator(task_id="evaluate", aws_conn_id=None, region_name="us-east-1", **kwargs)


def run(op: EvaluateInferenceExperimentOperator) -> tuple[dict[str, Any], RecordingTaskInstance]:
    ti = RecordingTaskInstance()
    result = op.execute(cast("Any", {"ti": ti, "run_id": ti.run_id}))
    return result, ti


def check(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in document["checks"] if c["name"] == name)


# -- one look ----------------------------------------------------------------------------------------
def test_better_candidate_is_promoted_with_intervals_confidence_warmup_and_lag(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    shadow_test("better")
    clock.move_to(END + dt.timedelta(minutes=5))
    document, ti = run(operator())
    assert document["decision"] == "PROMOTE", document["report_markdown"]
    assert ti.xcoms["return_value"] == document
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["confidence_percent"] == 95.0
    assert (document["experiment_name"], document["endpoint_name"]) == ("exp", "ep")
    assert document["variants"] == {"production": "AllTraffic", "shadow": "shadow"}
    # Warm-up (300 s) after the start and the lag allowance (180 s) are left out and stated.
    window = document["window"]
    assert (window["start"], window["end"]) == ("2030-01-06T12:06:00Z", "2030-01-06T12:31:00Z")
    assert (window["warmup_seconds"], window["lag_seconds"], window["period_seconds"]) == (300.0, 180.0, 60)
    latency = check(document, "latency_p50")
    assert latency["interval"]["low"] < latency["change"] < latency["interval"]["high"] < -15
    assert latency["outcome"] == "within"
    errors = check(document, "error_rate_5xx")
    assert errors["production"] > 0  # realistic traffic: production has errors too
    assert errors["interval"]["high"] < 0.5
    assert "| Model latency p99 |" in document["report_markdown"]
    assert "95 % confidence" in document["report_markdown"]


def test_slower_candidate_fails_the_task_listing_the_failed_checks(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    shadow_test("slower")
    clock.move_to(END + dt.timedelta(minutes=5))
    ti = RecordingTaskInstance()
    with pytest.raises(VerdictFailed) as failed:
        operator().execute(cast("Any", {"ti": ti}))
    message = str(failed.value)
    assert message.startswith("Shadow verdict for 'exp' is REJECT; failed checks:\n  - Model latency mean: change +")
    assert "significantly worse" in message
    assert "error rate" not in message
    assert failed.value.verdict["decision"] == "REJECT"
    # The verdict is in XCom even though the task failed, for a report or a notification.
    assert ti.xcoms["return_value"]["decision"] == "REJECT"


def test_failing_candidate_is_rejected_on_the_5xx_rate(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    shadow_test("failing")
    clock.move_to(END + dt.timedelta(minutes=5))
    document, _ = run(operator(fail_on_reject=False))
    assert document["decision"] == "REJECT"
    regressions = [c["name"] for c in document["checks"] if c["outcome"] == "regression"]
    assert regressions == ["error_rate_5xx"]
    assert 2.0 < check(document, "error_rate_5xx")["change"] < 4.0


def test_too_early_is_inconclusive_and_fails_unless_told_otherwise(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    shadow_test("better")
    clock.move_to(START + dt.timedelta(minutes=4))  # still inside the warm-up
    document, _ = run(operator(fail_on_inconclusive=False))
    assert document["decision"] == "INCONCLUSIVE"
    assert "shadow invocations" in document["reasons"][0]
    with pytest.raises(VerdictFailed, match="is INCONCLUSIVE; reasons:"):
        run(operator())


def test_missing_percentiles_decide_on_the_mean_and_say_so(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    from airflow_provider_shadowtest.testing.mock import shadow_test_settings

    shadow_test("better")
    clock.move_to(END + dt.timedelta(minutes=5))
    with shadow_test_settings(percentiles_available=False):
        document, _ = run(operator())
    assert document["decision"] == "PROMOTE", document["report_markdown"]
    assert check(document, "latency_p99")["outcome"] == "no_data"
    assert any("p99" in note for note in document["notes"]), document["notes"]


def test_templated_thresholds_and_settings_from_params_decide(
    shadow_test: Callable[..., str], clock: time_machine.Traveller
) -> None:
    shadow_test("slower")
    clock.move_to(END + dt.timedelta(minutes=5))
    op = operator(
        experiment_name="{{ params.experiment }}",
        max_latency_increase_percent="{{ params.max_latency_increase_percent }}",
        confidence_percent="{{ params.confidence }}",
        warmup_seconds="{{ params.warmup }}",
        check_settings="{{ params.checks | tojson }}",
        promote_task_ids="{{ params.promote }}",
    )
    params = {
        "experiment": "exp",
        "max_latency_increase_percent": 80,
        "confidence": 90,
        "warmup": 120,
        "checks": {"error_rate_4xx": {"critical": False}},
        "promote": "go",
    }
    op.render_template_fields(cast("Any", {"params": params}))
    config = op.config()
    assert config.settings.confidence_percent == 90.0
    assert config.warmup_seconds == 120.0
    assert not next(c for c in config.settings.checks if c.name == "error_rate_4xx").critical
    assert op.evaluate().decision is Decision.PROMOTE


def test_bad_arguments_are_named_before_any_aws_call(shadow_test: Callable[..., str]) -> None:
    shadow_test("better")
    handle = shadow_test.handle  # type: ignore[attr-defined]
    handle.reset_stats()
    op = operator(
        confidence_percent=120,
        lag_seconds=-1,
        observation_seconds=200,
        warmup_seconds=300,
        capture_comparison={"output": {"kind": "label", "json_path": "$.label"}, "min_agreement_percent": 150},
    )
    with pytest.raises(InvalidExperimentRequest) as raised:
        run(op)
    fields = [field for field, _ in raised.value.errors]
    assert fields == [
        "confidence_percent",
        "lag_seconds",
        "observation_seconds",
        "capture_comparison.min_agreement_percent",
    ]
    assert sum(handle.stats().values()) == 0


def test_unknown_check_is_named() -> None:
    with pytest.raises(InvalidExperimentRequest, match=r"check_settings: unknown check 'latency_p42'"):
        operator(check_settings='{"latency_p42": {"critical": false}}').config()


def test_template_fields_cover_every_parameter() -> None:
    """Every argument of the operator but ``deferrable`` is templated (the docstring promises it)."""
    parameters = set(inspect.signature(EvaluateInferenceExperimentOperator.__init__).parameters) - {"self", "kwargs"}
    assert "observation_seconds" in parameters  # the signature is the operator's own, not BaseOperator's
    missing = parameters - {"deferrable"} - set(EvaluateInferenceExperimentOperator.template_fields)
    assert not missing, f"not templated: {sorted(missing)}"


def test_module_import_pulls_no_aws_sdk() -> None:
    code = (
        "import sys, airflow_provider_shadowtest.operators.evaluate\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'aiobotocore', 'moto', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
