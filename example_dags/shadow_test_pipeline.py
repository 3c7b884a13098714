"""Building blocks shared by the example DAGs: the DAG-level Params form and the shadow-test tasks.

Not a DAG file itself. The example DAGs import it from the DAGs folder (Airflow puts that folder
on ``sys.path``). Everything here is cheap to import: no boto3 at module level.

Requires Airflow 3.1 or later: the optional human approval step is the standard provider's
``ApprovalOperator`` (human-in-the-loop, Airflow 3.1+). ``example_shadow_test_minimal`` runs on 2.11+.
"""

from __future__ import annotations

import os
from typing import Any, cast

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Asset, AssetAlias, Param, task

from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StopInferenceExperimentOperator,
)
from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor

#: Downstream DAGs can be scheduled on this alias: every promotion adds the endpoint's asset to it.
PROMOTIONS = AssetAlias("sagemaker-endpoint-promotions")

#: Sensors' polling interval once a scheduled boundary has passed. Operator arguments that Airflow
#: checks at parse time cannot be templated, so this comes from the environment (the demo sets 2 s).
POKE_INTERVAL_SECONDS = float(os.environ.get("SHADOWTEST_EXAMPLE_POKE_SECONDS", "60"))

_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"


def shadow_test_params(*, include_candidate: bool = True) -> dict[str, Param]:
    """The trigger form: endpoint, models, infrastructure, sampling, timing and verdict thresholds."""
    params: dict[str, Param] = {
        "endpoint_name": Param(
            "churn-endpoint",
            type="string",
            pattern=_NAME,
            title="Endpoint",
            description="The SageMaker endpoint whose production variant the candidate shadows.",
            section="Endpoint",
        ),
        "role_arn": Param(
            "arn:aws:iam::123456789012:role/ShadowTestRole",
            type="string",
            title="Execution role ARN",
            description="IAM role SageMaker assumes to deploy the shadow variant.",
            section="Endpoint",
        ),
        "shadow_instance_type": Param(
            None,
            type=["null", "string"],
            pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9]+$",
            title="Shadow instance type",
            description="Empty: the production variant's, read from the endpoint (what AWS recommends).",
            section="Infrastructure",
        ),
        "shadow_instance_count": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=100,
            title="Shadow instance count",
            description="Empty: the production variant's, read from the endpoint.",
            section="Infrastructure",
        ),
        "sampling_percent": Param(
            50,
            type="integer",
            minimum=1,
            maximum=100,
            title="Sampling (%)",
            description="Share of production requests mirrored to the candidate.",
            section="Infrastructure",
        ),
        "observation_seconds": Param(
            3600,
            type="integer",
            minimum=60,
            maximum=29 * 86400,
            title="Observation window (s)",
            description="Longest time the candidate is observed after the start. The verdict is re-checked "
            "every check interval and may come earlier: at once on a clear regression, or on clear evidence.",
            section="Timing",
        ),
        "check_interval_seconds": Param(
            300,
            type="integer",
            minimum=60,
            title="Check interval (s)",
            description="Time between two looks at the metrics (continuous guardrails).",
            section="Timing",
        ),
        "warmup_seconds": Param(
            300,
            type="integer",
            minimum=0,
            title="Warm-up (s)",
            description="Time after the start whose metrics are not judged (cold caches, JIT).",
            section="Timing",
        ),
        "lag_seconds": Param(
            180,
            type="integer",
            minimum=0,
            title="CloudWatch lag (s)",
            description="The newest minutes are not judged: CloudWatch publishes metrics a few minutes late.",
            section="Timing",
        ),
        "decision_window_seconds": Param(
            86400,
            type="integer",
            minimum=60,
            maximum=86400,
            title="Decision window (s)",
            description="Time left after the observation for the verdict and an approval. If nobody decides, "
            "the experiment ends by itself and the endpoint returns to production only.",
            section="Timing",
        ),
        "max_latency_increase_percent": Param(
            10.0,
            type="number",
            minimum=0,
            title="Max latency increase (%)",
            description="Largest acceptable rise of mean, p50, p90 and p99 model latency over production.",
            section="Verdict",
        ),
        "max_error_rate_increase_percentage_points": Param(
            0.5,
            type="number",
            minimum=0,
            title="Max error-rate increase (points)",
            description="Largest acceptable rise of 4XX, 5XX and model error rates, in percentage points.",
            section="Verdict",
        ),
        "min_shadow_invocations": Param(
            100,
            type="integer",
            minimum=1,
            title="Min shadow invocations",
            description="Below this the verdict is INCONCLUSIVE and production stays.",
            section="Verdict",
        ),
        "confidence_percent": Param(
            95.0,
            type="number",
            minimum=50,
            exclusiveMaximum=100,
            title="Confidence (%)",
            description="Confidence of every check's interval; repeated looks keep it (alpha spending).",
            section="Verdict",
        ),
        "alpha_spending": Param(
            "pocock",
            enum=["pocock", "obrien_fleming"],
            title="Alpha spending",
            description="pocock stops a clear regression within minutes; obrien_fleming keeps the confidence "
            "for the end of the observation (better for short observations).",
            section="Verdict",
        ),
        "ramp_to_full_sampling": Param(
            False,
            type="boolean",
            title="Ramp to 100 % sampling before promoting",
            description="After a PROMOTE, mirror every request to the candidate and judge again (AWS's advice).",
            section="Verdict",
        ),
        "capture": Param(
            False,
            type="boolean",
            title="Compare predictions (data capture)",
            description="Capture both variants' requests and answers and gate the promotion on their agreement.",
            section="Prediction agreement",
        ),
        "capture_destination": Param(
            "s3://shadow-test-captures/captures",
            type="string",
            pattern=r"^(https|s3)://",
            title="Capture destination",
            description="S3 folder for the captured requests and responses (the bucket must exist).",
            section="Prediction agreement",
        ),
        "capture_label_json_path": Param(
            "$.predicted_label",
            type="string",
            title="Label in the model's answer (JSON path)",
            section="Prediction agreement",
        ),
        "min_agreement_percent": Param(
            95.0,
            type="number",
            minimum=0,
            maximum=100,
            title="Min label agreement (%)",
            description="The candidate must give production's label on at least this share of requests.",
            section="Prediction agreement",
        ),
        "report_uri": Param(
            "",
            type="string",
            title="Report folder",
            description="Where the HTML report goes: s3://bucket/prefix/ or file:///path/ (empty: no report).",
            section="Verdict",
        ),
        "require_approval": Param(
            False,
            type="boolean",
            title="Require human approval",
            description="Show the verdict report to a person before a PROMOTE takes effect.",
            section="Verdict",
        ),
    }
    if include_candidate:
        params["candidate_model"] = Param(
            "churn-model-v2",
            type="string",
            pattern=_NAME,
            title="Candidate model",
            description="The retrained SageMaker model to shadow-test.",
            section="Endpoint",
        )
    return params


@task.branch(task_id="approval_gate")
def _approval_gate(require_approval: Any) -> str:
    """Send a PROMOTE verdict through a person when the form asked for it."""
    return "approve" if str(require_approval).lower() == "true" else "promote"


@task(task_id="capture_storage")
def _capture_storage(capture: Any, destination: str) -> dict[str, Any] | None:
    """The experiment's DataStorageConfig when the form asks for prediction agreement, else None."""
    if str(capture).lower() != "true":
        return None
    return {
        "Destination": destination,
        "ContentType": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    }


#: The approval's body: the verdict's Markdown and a link to the HTML report on the "Shadow tests" page.
_APPROVAL_BODY = (
    "{{ ti.xcom_pull(task_ids='evaluate')['report_markdown'] }}\n\n"
    "{% if ti.xcom_pull(task_ids='evaluate').get('report_location') %}"
    "[Shadow test report with charts](/shadowtest/reports/{{ dag.dag_id | urlencode }}/{{ run_id | urlencode }}"
    "/evaluate) (stored at `{{ ti.xcom_pull(task_ids='evaluate')['report_location'] }}`)"
    "{% endif %}"
)


@task(task_id="announce_promotion", outlets=[PROMOTIONS], trigger_rule="none_failed_min_one_success")
def _announce_promotion(endpoint_name: str, *, outlet_events: Any = None) -> str:
    """Emit an Asset event for the promoted endpoint so downstream DAGs can run on it."""
    uri = f"sagemaker://endpoint/{endpoint_name}"
    outlet_events[PROMOTIONS].add(Asset(name=f"sagemaker-endpoint-{endpoint_name}", uri=uri))
    return uri


def shadow_test_tasks(candidate_model: Any, *, experiment_prefix: str = "shadow") -> dict[str, Any]:
    """Add create -> wait -> evaluate (continuous) -> branch -> promote/keep to the current DAG.

    :param candidate_model: the candidate's model name: a template string or an XComArg.
    :return: the tasks by role, to chain more work before or after.
    """
    name = experiment_prefix + "-{{ params.endpoint_name }}-{{ dag_run.run_after.strftime('%Y%m%d%H%M%S') }}"
    # The short form: the endpoint's production variant (whatever a previous promotion named it,
    # its model, instance type and count) is read when the task runs; the shadow variant's name is
    # derived from the experiment's name. Nothing here hard-codes a variant name.
    create = CreateInferenceExperimentOperator(
        task_id="create_experiment",
        name=name,
        endpoint_name="{{ params.endpoint_name }}",
        role_arn="{{ params.role_arn }}",
        shadow_model_name=candidate_model,
        sampling_percentage="{{ params.sampling_percent }}",
        # Templates render None as "None": an empty string means "production's".
        shadow_instance_type="{{ params.shadow_instance_type or '' }}",
        shadow_instance_count="{{ params.shadow_instance_count or '' }}",
        # Starts now; ends by itself after the observation and decision windows, as a safety net.
        duration="{{ params.observation_seconds + params.decision_window_seconds }}",
        description="Shadow test on {{ params.endpoint_name }}, run {{ run_id }}",
        data_storage_config=cast("Any", _capture_storage("{{ params.capture }}", "{{ params.capture_destination }}")),
        tags={"pipeline": "{{ dag.dag_id }}", "run": "{{ dag_run.run_after.strftime('%Y%m%d%H%M%S') }}"},
    )
    experiment = "{{ ti.xcom_pull(task_ids='create_experiment')['name'] }}"
    wait_running = InferenceExperimentSensor(
        task_id="wait_for_running",
        experiment_name=experiment,
        target="running",
        deferrable=True,
        poke_interval=POKE_INTERVAL_SECONDS,
        timeout=3600,
    )
    evaluate = EvaluateInferenceExperimentOperator(
        task_id="evaluate",
        experiment_name=experiment,
        # Continuous guardrails: a look every check interval, a decision as soon as the evidence allows.
        observation_seconds="{{ params.observation_seconds }}",
        check_interval_seconds="{{ params.check_interval_seconds }}",
        warmup_seconds="{{ params.warmup_seconds }}",
        lag_seconds="{{ params.lag_seconds }}",
        confidence_percent="{{ params.confidence_percent }}",
        alpha_spending="{{ params.alpha_spending }}",
        ramp_to_full_sampling="{{ params.ramp_to_full_sampling }}",
        max_latency_increase_percent="{{ params.max_latency_increase_percent }}",
        max_error_rate_increase_percentage_points="{{ params.max_error_rate_increase_percentage_points }}",
        min_shadow_invocations="{{ params.min_shadow_invocations }}",
        capture_comparison="{% if params.capture %}{{ {'output': {'kind': 'label', 'json_path': "
        "params.capture_label_json_path}, 'min_agreement_percent': params.min_agreement_percent} | tojson }}"
        "{% endif %}",
        report_uri="{{ params.report_uri }}",
        deferrable=True,
        promote_task_ids="approval_gate",
        reject_task_ids="keep_production",
        inconclusive_task_ids="keep_production",
    )
    gate = _approval_gate("{{ params.require_approval }}")
    approve = ApprovalOperator(
        task_id="approve",
        subject="Promote the shadow candidate on {{ params.endpoint_name }}?",
        body=_APPROVAL_BODY,
    )
    created = "ti.xcom_pull(task_ids='create_experiment')"
    promote_kwargs: dict[str, Any] = {
        "experiment_name": experiment,
        "promote": True,
        # The promoted variant keeps production's instance type and count (AWS's recommendation).
        "promote_with": "production_settings",
        "reason": "Shadow verdict PROMOTE: {{ "
        + created
        + "['shadow_variant'] }} replaces {{ "
        + created
        + "['production_variant'] }}",
        "wait_for_completion": True,
        "poke_interval": POKE_INTERVAL_SECONDS,
    }
    promote = StopInferenceExperimentOperator(task_id="promote", **promote_kwargs)
    promote_approved = StopInferenceExperimentOperator(task_id="promote_approved", **promote_kwargs)
    keep = StopInferenceExperimentOperator(
        task_id="keep_production",
        experiment_name=experiment,
        promote=False,
        reason="Shadow verdict {{ ti.xcom_pull(task_ids='evaluate')['decision'] }}: "
        "{{ ti.xcom_pull(task_ids='evaluate')['reasons'] | join('; ') | truncate(900) }}",
        wait_for_completion=True,
        poke_interval=POKE_INTERVAL_SECONDS,
    )
    announce = _announce_promotion("{{ params.endpoint_name }}")

    create >> wait_running >> evaluate
    evaluate >> [gate, keep]
    gate >> [approve, promote]
    approve >> promote_approved
    [promote, promote_approved] >> announce
    return {"create": create, "evaluate": evaluate, "promote": promote, "keep": keep, "announce": announce}
