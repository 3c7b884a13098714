"""The smallest useful shadow test: create it, wait until it runs, judge it while it runs, promote.

Requires Airflow 2.11 or later (it runs unchanged on 2.11, 3.0 and every later 3.x; the CI matrix
runs it on each). The wait for Running defers to the triggerer, so it costs a handful of API
calls however long the start takes. The verdict fails the ``evaluate`` task on REJECT or
INCONCLUSIVE, so ``promote`` only runs on PROMOTE; otherwise the experiment ends by itself at the
end of ``duration`` (default two hours) and production keeps serving.
"""

from __future__ import annotations

import pendulum

# airflow.sdk on Airflow 3, airflow.models on 2.x: the common-compat provider picks the right one.
from airflow.providers.common.compat.sdk import DAG, Param

from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StopInferenceExperimentOperator,
)
from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor

#: SageMaker's rule for endpoint and model names (service model: EndpointName, ModelName).
_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
_NAME_RULE = "1 to 63 characters: letters, digits and hyphens, starting and ending with a letter or digit."
#: An ISO-8601 duration in days, hours, minutes and seconds (``PT90M``, ``P1DT12H``).
_DURATION = r"^P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$"

with DAG(
    dag_id="example_shadow_test_minimal",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "endpoint_name": Param(
            "churn-endpoint",
            type="string",
            pattern=_NAME,
            minLength=1,
            maxLength=63,
            title="Endpoint",
            description_md=(
                f"The existing SageMaker endpoint (InService); its production variant is read from it. {_NAME_RULE} "
                "Example: `churn-endpoint`."
            ),
        ),
        "candidate_model": Param(
            "churn-model-v2",
            type="string",
            pattern=_NAME,
            minLength=1,
            maxLength=63,
            title="Candidate model",
            description_md=(
                f"The SageMaker model to shadow-test (it must already exist). {_NAME_RULE} Example: `churn-model-v2`."
            ),
        ),
        "role_arn": Param(
            "arn:aws:iam::123456789012:role/ShadowTestRole",
            type="string",
            pattern=r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$",
            minLength=20,
            maxLength=2048,
            title="Role ARN",
            description_md=(
                "IAM role SageMaker assumes to deploy the shadow variant: "
                "`arn:aws:iam::<12-digit account>:role/<name>`, 20 to 2,048 characters, e.g. "
                "`arn:aws:iam::123456789012:role/ShadowTestRole` (the default: a placeholder account to replace "
                "on real AWS)."
            ),
        ),
        "sampling_percent": Param(
            50,
            type="integer",
            minimum=0,
            maximum=100,
            title="Sampling (%)",
            description_md=(
                "Share of production requests mirrored to the candidate: a whole number from **0 to 100** "
                "(percent; a value outside is set to the nearest bound). Default 50."
            ),
        ),
        "observation_seconds": Param(
            900,
            type="integer",
            minimum=10,
            maximum=86400,
            title="Observation (s)",
            description_md=(
                "Seconds of mirrored traffic before the verdict: **10 to 86,400** (1 day). Default 900 = 15 minutes, "
                "so a default run takes about 20 minutes. Keep it shorter than the duration."
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
        "alpha_spending": Param(
            "pocock",
            type="string",
            enum=["pocock", "obrien_fleming"],
            title="Alpha spending",
            description_md=(
                "How the error budget is shared between looks: `pocock` (default) stops a clear regression "
                "within minutes; `obrien_fleming` keeps the confidence for the end (better for short observations)."
            ),
        ),
        "duration": Param(
            "PT2H",
            type="string",
            pattern=_DURATION,
            title="Duration (ISO-8601)",
            examples=["PT1H", "PT2H", "P1D", "P7D"],
            description_md=(
                "How long the experiment may run before it ends by itself, as an ISO-8601 duration: `PT30M`, "
                "`PT2H`, `P1D`, `P7D` (at most 30 days, `P30D`). Default `PT2H`: if the verdict is not PROMOTE, "
                "the shadow variant is removed two hours after the start and production keeps serving."
            ),
        ),
    },
    tags=["sagemaker", "shadow-test", "example"],
    doc_md=__doc__,
):
    # The endpoint's production variant (name, model, instance type and count) is read when the
    # task runs; the shadow runs on the same instances and gets a name derived from the experiment's.
    create = CreateInferenceExperimentOperator(
        task_id="create_experiment",
        # The run's start date is stable across task retries, so a retried create reuses the experiment.
        name="minimal-{{ params.endpoint_name }}-{{ dag_run.start_date.strftime('%Y%m%d%H%M%S') }}",
        endpoint_name="{{ params.endpoint_name }}",
        role_arn="{{ params.role_arn }}",
        shadow_model_name="{{ params.candidate_model }}",
        sampling_percentage="{{ params.sampling_percent }}",
        duration="{{ params.duration }}",
    )
    experiment = "{{ ti.xcom_pull(task_ids='create_experiment')['name'] }}"
    running = InferenceExperimentSensor(
        task_id="wait_for_running", experiment_name=experiment, target="running", deferrable=True, poke_interval=2
    )
    # Continuous guardrails: a look every check interval (deferred in between), a decision as soon
    # as the evidence allows, at the latest at the end of the observation.
    evaluate = EvaluateInferenceExperimentOperator(
        task_id="evaluate",
        experiment_name=experiment,
        observation_seconds="{{ params.observation_seconds }}",
        check_interval_seconds="{{ params.check_interval_seconds }}",
        warmup_seconds="{{ params.warmup_seconds }}",
        lag_seconds="{{ params.lag_seconds }}",
        alpha_spending="{{ params.alpha_spending }}",
        deferrable=True,
    )
    promote = StopInferenceExperimentOperator(
        task_id="promote", experiment_name=experiment, promote=True, reason="Shadow verdict PROMOTE"
    )
    create >> running >> evaluate >> promote
