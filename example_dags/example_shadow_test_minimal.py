"""The smallest useful shadow test: create it, wait until it runs, judge it while it runs, promote.

Requires Airflow 2.11 or later (it runs unchanged on 2.11, 3.0 and every later 3.x; the CI matrix
runs it on each). The wait for Running defers to the triggerer, so it costs a handful of API
calls however long the start takes. The verdict fails the ``evaluate`` task on REJECT or
INCONCLUSIVE, so ``promote`` only runs on PROMOTE; otherwise the experiment ends by itself at the
end of ``duration`` and production keeps serving.
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

with DAG(
    dag_id="example_shadow_test_minimal",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "endpoint_name": Param("churn-endpoint", type="string", title="Endpoint"),
        "candidate_model": Param("churn-model-v2", type="string", title="Candidate model"),
        "role_arn": Param("arn:aws:iam::123456789012:role/ShadowTestRole", type="string", title="Role ARN"),
        "sampling_percent": Param(50, type="integer", minimum=0, maximum=100, title="Sampling (%)"),
        "observation_seconds": Param(3600, type="integer", minimum=60, title="Longest observation (s)"),
        "check_interval_seconds": Param(300, type="integer", minimum=60, title="Check interval (s)"),
        "warmup_seconds": Param(300, type="integer", minimum=0, title="Warm-up, not judged (s)"),
        "lag_seconds": Param(180, type="integer", minimum=0, title="CloudWatch lag, not judged (s)"),
        "alpha_spending": Param("pocock", enum=["pocock", "obrien_fleming"], title="Alpha spending"),
        "duration": Param("P1D", type="string", title="Duration (ISO-8601, e.g. PT1H, P7D)"),
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
