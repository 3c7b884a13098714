"""What "Rendered Templates" shows: the request Create and Update sent, typed; the verdict summary of evaluate."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StartInferenceExperimentOperator,
    UpdateInferenceExperimentOperator,
)
from airflow_provider_shadowtest.operators.verdict_view import align_tables, summary_markdown
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, PRODUCTION_MODEL, ROLE_ARN

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
FAST: dict[str, Any] = {"aws_conn_id": None, "poke_interval": 0.1, "settle_timeout_seconds": 30}


def _templated_create() -> CreateInferenceExperimentOperator:
    """The example pipeline's shape: every number comes from a template, so it renders as a string."""
    infrastructure = {
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": "{{ params.count }}"},
    }
    return CreateInferenceExperimentOperator(
        task_id="create",
        name="rendered-exp",
        endpoint_name="{{ params.endpoint }}",
        role_arn=ROLE_ARN,
        model_variants=[
            {"ModelName": PRODUCTION_MODEL, "VariantName": "production", "InfrastructureConfig": infrastructure},
            {"ModelName": CANDIDATE_MODEL, "VariantName": "shadow", "InfrastructureConfig": infrastructure},
        ],
        shadow_mode_config={
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [
                {"ShadowModelVariantName": "shadow", "SamplingPercentage": "{{ params.sampling }}"}
            ],
        },
        duration="{{ params.seconds }}",
        **FAST,
    )


def test_create_shows_the_typed_request_it_sent(endpoint: str, sagemaker: Any, context: Any) -> None:
    op = _templated_create()
    context["params"] = {"endpoint": endpoint, "count": 1, "sampling": 50, "seconds": 150}
    op.render_template_fields(context)
    assert op.request_sent is None  # nothing sent yet
    before = dt.datetime.now(dt.timezone.utc)
    op.execute(context)

    sent = op.request_sent
    assert sent is not None
    assert json.loads(json.dumps(sent)) == sent  # what Airflow stores is plain JSON
    infrastructure = sent["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]
    assert infrastructure["InstanceCount"] == 1
    assert sent["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 50
    start, end = sent["Schedule"]["StartTime"], sent["Schedule"]["EndTime"]
    assert ISO_UTC.match(start), start
    assert ISO_UTC.match(end), end
    seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    assert seconds == 150  # the bare "150" became a schedule
    assert dt.datetime.fromisoformat(start) >= before.replace(microsecond=0)
    # It is what SageMaker got.
    described = sagemaker.describe_inference_experiment(Name="rendered-exp")
    assert described["Schedule"]["EndTime"] - described["Schedule"]["StartTime"] == dt.timedelta(seconds=150)
    assert "request_sent" in op.template_fields
    assert op.template_fields_renderers["request_sent"] == "json"
    assert op.overwrite_rtif_after_execution is True


def test_update_shows_only_the_changes_it_sent(endpoint: str, context: Any) -> None:
    op = _templated_create()
    context["params"] = {"endpoint": endpoint, "count": 1, "sampling": 50, "seconds": 3600}
    op.render_template_fields(context)
    op.execute(context)
    StartInferenceExperimentOperator(task_id="start", experiment_name="rendered-exp", **FAST).execute(context)

    update = UpdateInferenceExperimentOperator(
        task_id="update", experiment_name="rendered-exp", sampling_percent="{{ params.new }}", **FAST
    )
    context["params"] = {"new": 80}
    update.render_template_fields(context)
    assert update.sampling_percent == "80"  # what the template gives
    update.execute(context)
    assert update.request_sent == {
        "Name": "rendered-exp",
        "ShadowModeConfig": {
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 80}],
        },
    }
    # Nothing to change: nothing sent, nothing shown.
    again = UpdateInferenceExperimentOperator(
        task_id="update", experiment_name="rendered-exp", sampling_percent=80, **FAST
    )
    again.execute(context)
    assert again.request_sent is None


VERDICT = {
    "decision": "REJECT",
    "reasons": ["Average model latency rose 41.2 % (allowed 10 %)"],
    "report_markdown": (
        "### Shadow test verdict: REJECT\n\nExperiment `e` on endpoint `ep`.\n\n"
        "| Check | Production | Shadow | Result |\n|:--|--:|--:|:--|\n"
        "| Average model latency | 30.00 ms | 42.36 ms | **FAIL** |\n| Invocations | 9,000 | 4,500 | pass |\n\n"
        "Reasons:\n- Average model latency rose 41.2 % (allowed 10 %)\n"
    ),
}


def test_the_summary_is_the_report_with_tables_lined_up() -> None:
    text = summary_markdown(VERDICT)
    assert text.startswith("### Shadow test verdict: REJECT")
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) == 4
    assert len({len(row) for row in rows}) == 1  # every row as wide: columns line up as text
    assert len({row.index(" | ", 3) for row in rows}) == 1
    assert rows[1].startswith("| :---")
    assert rows[1].endswith("-: | :------- |")
    assert "Shadow test report" in text
    assert align_tables("no table\n") == "no table\n"
    assert align_tables(r"| a \| b | c |") == r"| a \| b | c   |"


def test_evaluate_sets_the_summary_before_it_fails_and_shows_all_links(context: Any) -> None:
    from airflow_provider_shadowtest.operators.evaluate import VerdictFailed

    op = EvaluateInferenceExperimentOperator(task_id="evaluate", experiment_name="e", aws_conn_id=None)
    # The last step of every evaluation (one look or the final one of continuous mode): no AWS call.
    with pytest.raises(VerdictFailed):
        op._finish(context, dict(VERDICT), {}, op.config(), [])
    assert op.verdict_summary.startswith("### Shadow test verdict: REJECT")
    assert context["ti"].xcoms["return_value"]["decision"] == "REJECT"
    assert "verdict_summary" in op.template_fields
    assert op.overwrite_rtif_after_execution is True
    names = {link.name for link in op.operator_extra_links}
    assert names == {"SageMaker Shadow Test", "SageMaker Endpoint", "CloudWatch metrics", "Shadow test report"}


def test_a_short_form_create_shows_the_request_it_completed_from_the_endpoint(endpoint: str, context: Any) -> None:
    op = CreateInferenceExperimentOperator(
        task_id="create",
        name="short-rendered",
        endpoint_name=endpoint,
        role_arn=ROLE_ARN,
        shadow_model_name=CANDIDATE_MODEL,
        sampling_percentage="30",  # as a template renders it
        duration="PT2H",
        **FAST,
    )
    op.execute(context)
    sent = op.request_sent
    assert sent is not None
    models = {v["ModelName"]: v for v in sent["ModelVariants"]}
    assert set(models) == {PRODUCTION_MODEL, CANDIDATE_MODEL}  # production read from the endpoint
    assert sent["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 30
    assert isinstance(models[CANDIDATE_MODEL]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"], int)
    assert ISO_UTC.match(sent["Schedule"]["EndTime"])
