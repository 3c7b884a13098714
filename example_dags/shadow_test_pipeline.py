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

#: SageMaker's rule for endpoint, model and variant names (service model: EndpointName, ModelName).
_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
_NAME_RULE = (
    "1 to 63 characters: letters, digits and hyphens (`-`), starting and ending with a letter or digit "
    "(no spaces, dots or underscores)."
)
#: The service model's RoleArn pattern (CreateInferenceExperiment), anchored.
_ROLE_ARN = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"

#: Defaults of the Timing fields, and what a run with them costs in wall-clock time.
OBSERVATION_SECONDS = 900
DECISION_WINDOW_SECONDS = 3600
_DEFAULT_RUN = (
    "With the defaults a run takes about 25 minutes: a few minutes while SageMaker deploys the shadow "
    "variant, 15 minutes (900 s) of observation, then the verdict and the promotion or clean-up in about "
    "a minute. The experiment is scheduled for observation + decision window (900 + 3,600 s = 75 minutes) "
    "and ends by itself then if nobody decides."
)


def _name_param(default: str, title: str, what: str, example: str) -> Param:
    return Param(
        default,
        type="string",
        pattern=_NAME,
        minLength=1,
        maxLength=63,
        title=title,
        description_md=f"{what} {_NAME_RULE} Example: `{example}`.",
    )


def shadow_test_params(*, include_candidate: bool = True) -> dict[str, Param]:
    """The trigger form: endpoint, candidate, role, sampling and timing first (the open section), then the rest.

    Airflow 3.3's trigger form expands only its default section ("Run Parameters", the Params
    without a ``section``) and collapses every named one, so what a first run needs is unsectioned.
    Every description states the accepted range with units, or the allowed characters, and what
    the default means: the form can only show a JSON-schema error on submit (there is no custom
    validation message), and a number field silently clamps to its bounds on blur.
    """
    params: dict[str, Param] = {
        "endpoint_name": _name_param(
            "churn-endpoint",
            "Endpoint",
            "The existing SageMaker endpoint (InService) whose production variant the candidate shadows.",
            "churn-endpoint",
        ),
    }
    if include_candidate:
        params["candidate_model"] = _name_param(
            "churn-model-v2",
            "Candidate model",
            "The SageMaker model to shadow-test (it must already exist: `aws sagemaker create-model`).",
            "churn-model-v2",
        )
    params |= {
        "role_arn": Param(
            "arn:aws:iam::123456789012:role/ShadowTestRole",
            type="string",
            pattern=_ROLE_ARN,
            minLength=20,
            maxLength=2048,
            title="Execution role ARN",
            description_md=(
                "IAM role SageMaker assumes to deploy the shadow variant. Format: "
                "`arn:aws:iam::<12-digit account id>:role/<name>` (20 to 2,048 characters; the role name "
                "may contain letters, digits and `+=,.@-_/`). Example: "
                "`arn:aws:iam::123456789012:role/ShadowTestRole`. The default is a placeholder account: "
                "replace it on real AWS (the offline emulator accepts it)."
            ),
        ),
        "sampling_percent": Param(
            50,
            type="integer",
            minimum=1,
            maximum=100,
            title="Sampling (%)",
            description_md=(
                "Share of production requests mirrored to the candidate: a whole number from **1 to 100** "
                "(percent; a value outside is set to the nearest bound when the field loses focus). "
                "Default 50: every second request is also sent to the candidate; users only ever see "
                "production's answers."
            ),
        ),
        "observation_seconds": Param(
            OBSERVATION_SECONDS,
            type="integer",
            minimum=10,
            maximum=29 * 86400,
            title="Observation window (s)",
            description_md=(
                "How long the candidate receives mirrored traffic before it is judged, in seconds: "
                "**10 to 2,505,600** (29 days). Examples: 900 = 15 minutes, 3600 = 1 hour, 86400 = 1 day. "
                + _DEFAULT_RUN
            ),
        ),
        "decision_window_seconds": Param(
            DECISION_WINDOW_SECONDS,
            type="integer",
            minimum=60,
            maximum=86400,
            title="Decision window (s)",
            description_md=(
                "Time left after the observation for the verdict and an approval, in seconds: **60 to 86,400** "
                "(1 minute to 1 day). Default 3600 = 1 hour. Without approval the run stops the experiment "
                "right after the verdict, so this only bounds how long the experiment can outlive a stuck "
                "or unanswered run: it then ends by itself and the endpoint serves production only."
            ),
        ),
        "check_interval_seconds": Param(
            300,
            type="integer",
            minimum=60,
            maximum=86400,
            title="Check interval (s)",
            description_md=(
                "Time between two looks at the metrics (continuous guardrails), in seconds: **60 to 86,400**. "
                "Default 300 = 5 minutes. A clear regression is rejected at the first look that shows it."
            ),
        ),
        "warmup_seconds": Param(
            300,
            type="integer",
            minimum=0,
            maximum=86400,
            title="Warm-up, not judged (s)",
            description_md=(
                "Seconds after the start whose metrics are left out (cold caches, JIT): **0 to 86,400**. "
                "Default 300 = 5 minutes; shown shaded in the report."
            ),
        ),
        "lag_seconds": Param(
            180,
            type="integer",
            minimum=0,
            maximum=3600,
            title="CloudWatch lag, not judged (s)",
            description_md=(
                "Newest seconds left out because CloudWatch has not published them completely yet: **0 to 3,600**. "
                "Default 180 = 3 minutes; shown shaded in the report."
            ),
        ),
        "require_approval": Param(
            False,
            type="boolean",
            title="Require human approval",
            description_md=(
                "On: a PROMOTE verdict waits for a person to approve the report (Required actions) before "
                "the candidate replaces production; approve within the decision window. "
                "Off (default): PROMOTE takes effect at once; REJECT and INCONCLUSIVE keep production either way."
            ),
        ),
        "shadow_instance_type": Param(
            None,
            type=["null", "string"],
            pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9]+$",
            examples=["ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge", "ml.g5.xlarge", "ml.inf2.xlarge"],
            title="Shadow instance type",
            description_md=(
                "SageMaker hosting instance type of the candidate, written `ml.<family>.<size>` in lower case "
                "(for example `ml.m5.xlarge`, `ml.c5.2xlarge`, `ml.g5.xlarge`). Empty (default): the production "
                "variant's, read from the endpoint, so both are compared on equal hardware as AWS recommends."
            ),
            section="Infrastructure",
        ),
        "shadow_instance_count": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=100,
            title="Shadow instance count",
            description_md=(
                "Instances of the candidate: a whole number from **1 to 100**. Empty (default): as many as the "
                "production variant has, read from the endpoint (you pay for them while the test runs)."
            ),
            section="Infrastructure",
        ),
        "max_latency_increase_percent": Param(
            10.0,
            type="number",
            minimum=0,
            maximum=1000,
            title="Max latency increase (%)",
            description_md=(
                "Largest acceptable rise of the candidate's mean, p50, p90 and p99 model latency over "
                "production, in percent: **0 to 1000**. Default 10: 10 % slower still passes; 0 tolerates "
                "no slowdown at all."
            ),
            section="Verdict thresholds",
        ),
        "max_error_rate_increase_percentage_points": Param(
            0.5,
            type="number",
            minimum=0,
            maximum=100,
            title="Max error-rate increase (points)",
            description_md=(
                "Largest acceptable rise of the 4XX, 5XX and model error rates, in percentage points: "
                "**0 to 100**. Default 0.5: production at 1.0 % errors allows the candidate up to 1.5 %."
            ),
            section="Verdict thresholds",
        ),
        "min_shadow_invocations": Param(
            100,
            type="integer",
            minimum=1,
            maximum=100_000_000,
            title="Min shadow invocations",
            description_md=(
                "Fewest requests the candidate must have answered for a decision: **1 to 100,000,000**. "
                "Default 100. Below it the verdict is INCONCLUSIVE and production stays; raise the "
                "observation window or the sampling when the endpoint has little traffic."
            ),
            section="Verdict thresholds",
        ),
        "confidence_percent": Param(
            95.0,
            type="number",
            minimum=50,
            maximum=99.9,
            title="Confidence (%)",
            description_md=(
                "Confidence of every check's interval, in percent: **50 to 99.9**. Default 95. "
                "Repeated looks keep it (alpha spending)."
            ),
            section="Verdict thresholds",
        ),
        "alpha_spending": Param(
            "pocock",
            type="string",
            enum=["pocock", "obrien_fleming"],
            title="Alpha spending",
            description_md=(
                "How the error budget is shared between looks: `pocock` (default) stops a clear regression "
                "within minutes; `obrien_fleming` keeps the confidence for the end (better for short observations)."
            ),
            section="Verdict thresholds",
        ),
        "ramp_to_full_sampling": Param(
            False,
            type="boolean",
            title="Ramp to 100 % sampling before promoting",
            description_md=(
                "On: after a PROMOTE, mirror every request to the candidate and judge again before promoting "
                "(AWS's advice). Off (default): promote on the first PROMOTE."
            ),
            section="Verdict thresholds",
        ),
        "report_uri": Param(
            "",
            type="string",
            title="Report folder",
            description_md=(
                "Where the HTML report goes: `s3://bucket/prefix/` or `file:///path/`. "
                "Empty (default): no file; the Shadow tests page renders the report from the verdict."
            ),
            section="Verdict thresholds",
        ),
        "capture": Param(
            False,
            type="boolean",
            title="Compare predictions (data capture)",
            description_md=(
                "On: capture both variants' requests and answers and gate the promotion on their agreement. "
                "Off (default): judge latency and errors only."
            ),
            section="Prediction agreement",
        ),
        "capture_destination": Param(
            "s3://shadow-test-captures/captures",
            type="string",
            pattern=r"^(https|s3)://",
            title="Capture destination",
            description_md=(
                "S3 folder for the captured requests and answers: `s3://` then the bucket and prefix, in URI "
                "characters (the bucket must exist). "
                "Example: `s3://shadow-test-captures/captures`."
            ),
            section="Prediction agreement",
        ),
        "capture_label_json_path": Param(
            "$.predicted_label",
            type="string",
            title="Label in the model's answer (JSON path)",
            description_md="JSON path of the label in each answer, starting with `$`. Example: `$.predicted_label`.",
            section="Prediction agreement",
        ),
        "min_agreement_percent": Param(
            95.0,
            type="number",
            minimum=0,
            maximum=100,
            title="Min label agreement (%)",
            description_md=(
                "The candidate must give production's label on at least this share of requests: **0 to 100** "
                "percent. Default 95."
            ),
            section="Prediction agreement",
        ),
    }
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
