"""EvaluateInferenceExperimentOperator against the in-process emulator: PROMOTE, REJECT, INCONCLUSIVE.

The emulator's traffic is driven by the wall clock, so each test travels in time: it creates the
experiment at T0 and evaluates after the scheduled end (or in the middle of it).
"""

from __future__ import annotations

import datetime as dt
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
from airflow_provider_shadowtest.verdict import Decision, VariantMetrics, evaluate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = T0 + dt.timedelta(minutes=1)
END = T0 + dt.timedelta(minutes=31)
#: Candidate models by behaviour, as SageMaker model tags the emulator reads (production: 40 ms, no errors).
CANDIDATES = {
    "better": {"shadowtest:latency-ms": "30"},
    "equal": {},
    "slower": {"shadowtest:latency-ms": "60"},
    "failing": {"shadowtest:error-rate": "3%"},
}


class RecordingTaskInstance:
    """What execute() needs from a task instance: XCom push (recorded)."""

    task_id = "evaluate"
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
def shadow_test(clock: time_machine.Traveller) -> Iterator[Callable[[str], str]]:
    """Create endpoint ``ep`` on ``prod-model`` and experiment ``exp`` against one candidate, at T0."""
    with mock_shadow_tests(transition_seconds=0):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        create_endpoint(sm, "ep", "prod-model")

        def make(candidate: str) -> str:
            create_model(sm, candidate, tags=CANDIDATES[candidate])
            schedule = {"StartTime": START, "EndTime": END}
            request = shadow_test_request("exp", "ep", "prod-model", candidate, Schedule=schedule)
            sm.create_inference_experiment(**request)
            return "exp"

        yield make


def operator(**kwargs: Any) -> EvaluateInferenceExperimentOperator:
    kwargs.setdefault("experiment_name", "exp")
    return EvaluateInferenceExperimentOperator(task_id="evaluate", aws_conn_id=None, region_name="us-east-1", **kwargs)


def run(op: EvaluateInferenceExperimentOperator) -> tuple[dict[str, Any], RecordingTaskInstance]:
    ti = RecordingTaskInstance()
    result = op.execute(cast("Any", {"ti": ti}))
    return result, ti


def check(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in document["checks"] if c["name"] == name)


# -- against the emulator ----------------------------------------------------------------------------
def test_better_candidate_is_promoted(shadow_test: Callable[[str], str], clock: time_machine.Traveller) -> None:
    shadow_test("better")
    clock.move_to(END + dt.timedelta(minutes=5))
    document, ti = run(operator())
    assert document["decision"] == "PROMOTE"
    assert ti.xcoms["return_value"] == document
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["experiment_name"] == "exp"
    assert document["endpoint_name"] == "ep"
    assert document["variants"] == {"production": "AllTraffic", "shadow": "shadow"}
    assert document["window"] == {"start": "2030-01-06T12:01:00Z", "end": "2030-01-06T12:31:00Z"}
    invocations = check(document, "invocations")
    # 5 requests/s for 30 minutes, half of them mirrored to the shadow.
    assert 8_000 < invocations["production"] < 10_000
    assert 0.4 < invocations["shadow"] / invocations["production"] < 0.6
    assert check(document, "latency_p50")["change"] < -15
    assert "| Model latency p99 |" in document["report_markdown"]


def test_equal_candidate_is_promoted(shadow_test: Callable[[str], str], clock: time_machine.Traveller) -> None:
    shadow_test("equal")
    clock.move_to(END + dt.timedelta(minutes=5))
    document, _ = run(operator())
    assert document["decision"] == "PROMOTE", document["report_markdown"]


def test_slower_candidate_fails_the_task_listing_the_failed_checks(
    shadow_test: Callable[[str], str], clock: time_machine.Traveller
) -> None:
    shadow_test("slower")
    clock.move_to(END + dt.timedelta(minutes=5))
    ti = RecordingTaskInstance()
    with pytest.raises(VerdictFailed) as failed:
        operator().execute(cast("Any", {"ti": ti}))
    message = str(failed.value)
    assert message.startswith("Shadow verdict for 'exp' is REJECT; failed checks:\n  - Model latency mean: shadow ")
    assert "Model latency p99" in message
    assert "error rate" not in message
    assert failed.value.verdict.decision is Decision.REJECT
    # The verdict is in XCom even though the task failed, for a report or a notification.
    assert ti.xcoms["return_value"]["decision"] == "REJECT"


def test_failing_candidate_is_rejected_on_the_5xx_rate(
    shadow_test: Callable[[str], str], clock: time_machine.Traveller
) -> None:
    shadow_test("failing")
    clock.move_to(END + dt.timedelta(minutes=5))
    document, _ = run(operator(fail_on_reject=False))
    assert document["decision"] == "REJECT"
    failed = [c["name"] for c in document["checks"] if c["passed"] is False]
    assert failed == ["error_rate_5xx"]
    assert 2.0 < check(document, "error_rate_5xx")["change"] < 4.0


def test_running_experiment_is_judged_up_to_now_and_too_early_is_inconclusive(
    shadow_test: Callable[[str], str], clock: time_machine.Traveller
) -> None:
    shadow_test("better")
    clock.move_to(START + dt.timedelta(seconds=20))
    document, _ = run(operator(fail_on_inconclusive=False))
    assert document["decision"] == "INCONCLUSIVE"
    assert document["window"]["end"] == "2030-01-06T12:01:20Z"
    assert check(document, "invocations")["passed"] is False
    assert document["reasons"][0].endswith("at least 100 needed for a decision")
    # Not branching and nothing said: INCONCLUSIVE fails, so a promotion chained after it cannot run.
    with pytest.raises(VerdictFailed, match="is INCONCLUSIVE; reasons:"):
        run(operator())


def test_templated_thresholds_from_params_decide(
    shadow_test: Callable[[str], str], clock: time_machine.Traveller
) -> None:
    shadow_test("slower")
    clock.move_to(END + dt.timedelta(minutes=5))
    op = operator(
        experiment_name="{{ params.experiment }}",
        max_latency_increase_percent="{{ params.max_latency_increase_percent }}",
        min_shadow_invocations="{{ params.min_shadow_invocations }}",
        promote_task_ids="{{ params.promote }}",
    )
    params = {"experiment": "exp", "max_latency_increase_percent": 60, "min_shadow_invocations": 500, "promote": "go"}
    op.render_template_fields(cast("Any", {"params": params}))
    assert op.experiment_name == "exp"
    assert op.thresholds().min_shadow_invocations == 500
    assert set(op.thresholds().max_latency_increase_percent.values()) == {60.0}
    assert op.evaluate().decision is Decision.PROMOTE


def test_explicit_window_and_variants_without_an_experiment(
    shadow_test: Callable[[str], str], clock: time_machine.Traveller
) -> None:
    shadow_test("slower")
    clock.move_to(END + dt.timedelta(minutes=5))
    op = operator(
        experiment_name=None,
        endpoint_name="ep",
        production_variant_name="AllTraffic",
        shadow_variant_name="shadow",
        start_time="2030-01-06T12:01:00Z",
        end_time="2030-01-06T12:11:00Z",
    )
    verdict = op.evaluate()
    assert verdict.decision is Decision.REJECT
    assert verdict.experiment_name is None
    assert (verdict.window_start, verdict.window_end) == (START, START + dt.timedelta(minutes=10))
    assert 2_500 < verdict.production.invocations < 3_500


def test_missing_subject_names_the_parameters() -> None:
    with pytest.raises(InvalidExperimentRequest) as raised:
        operator(experiment_name=None, start_time="2030-01-06T12:00:00Z").evaluate()
    assert raised.value.errors == [
        (name, "not given and not found in the experiment")
        for name in ("endpoint_name", "production_variant_name", "shadow_variant_name")
    ]


# -- decisions, branches and failing, without AWS ------------------------------------------------------
LATENCY = {"average": 10.0, "p50": 9.0, "p90": 20.0, "p99": 30.0}


def verdict(decision: Decision) -> Any:
    good = VariantMetrics("p", 1_000, {}, LATENCY)
    bad = {
        Decision.PROMOTE: good,
        Decision.REJECT: VariantMetrics("s", 1_000, {"5xx": 500}, LATENCY),
        Decision.INCONCLUSIVE: VariantMetrics("s", 5, {}, LATENCY),
    }[decision]
    result = evaluate(good, bad)
    assert result.decision is decision
    return result


@pytest.mark.parametrize(
    ("decision", "expected"),
    [(Decision.PROMOTE, ["promote"]), (Decision.REJECT, ["notify", "cleanup"]), (Decision.INCONCLUSIVE, [])],
)
def test_choose_branches_follows_the_decision(decision: Decision, expected: list[str]) -> None:
    op = operator(promote_task_ids="promote", reject_task_ids=["notify", "cleanup"])
    assert op.is_branch
    assert op.choose_branches(verdict(decision)) == expected
    assert op.choose_branches(verdict(decision).to_json()) == expected


def test_not_a_branch_without_task_ids() -> None:
    op = operator(promote_task_ids="", reject_task_ids=[])
    assert not op.is_branch
    assert op.choose_branches(verdict(Decision.PROMOTE)) == []


@pytest.mark.parametrize(
    ("kwargs", "fails_on"),
    [
        ({}, {Decision.REJECT, Decision.INCONCLUSIVE}),
        ({"promote_task_ids": "p"}, set()),
        ({"promote_task_ids": "p", "fail_on_reject": True}, {Decision.REJECT}),
        ({"fail_on_reject": False}, {Decision.INCONCLUSIVE}),
        ({"fail_on_reject": "False", "fail_on_inconclusive": "false"}, set()),
        ({"inconclusive_task_ids": "wait", "fail_on_inconclusive": "true"}, {Decision.INCONCLUSIVE}),
    ],
)
def test_should_fail(kwargs: dict[str, Any], fails_on: set[Decision]) -> None:
    op = operator(**kwargs)
    assert {d for d in Decision if op.should_fail(verdict(d))} == fails_on


def test_execute_branches_after_pushing_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    op = operator(promote_task_ids=["deploy"], reject_task_ids="rollback")
    monkeypatch.setattr(op, "evaluate", lambda: verdict(Decision.REJECT))
    followed: list[Any] = []

    def do_branch(context: Any, branches: Any) -> Any:
        # Skipping raises in a real run, so the XCom must already be there.
        assert context["ti"].xcoms["return_value"]["decision"] == "REJECT"
        followed.append(branches)
        return branches

    monkeypatch.setattr(op, "do_branch", do_branch)
    document, _ = run(op)
    assert followed == [["rollback"]]
    assert document["decision"] == "REJECT"


def test_template_fields_cover_every_parameter() -> None:
    fields = set(EvaluateInferenceExperimentOperator.template_fields)
    assert {
        "experiment_name",
        "start_time",
        "end_time",
        "max_latency_increase_percent",
        "max_error_rate_increase_percentage_points",
        "min_shadow_invocations",
        "promote_on_insufficient_data",
        "fail_on_reject",
        "promote_task_ids",
        "reject_task_ids",
        "inconclusive_task_ids",
    } <= fields


def test_module_import_pulls_no_aws_sdk() -> None:
    code = (
        "import sys, airflow_provider_shadowtest.operators.evaluate\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'aiobotocore', 'moto') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
