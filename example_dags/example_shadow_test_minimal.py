"""The smallest useful shadow test: create it, wait until it runs, wait until it completes.

The sensors defer to the triggerer and sleep until the scheduled start and end, so a week-long
experiment costs a handful of API calls, not one per poll.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_shadowtest.operators.inference_experiment import CreateInferenceExperimentOperator
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
        "duration": Param("P7D", type="string", title="Duration (ISO-8601, e.g. PT1H, P7D)"),
    },
    tags=["sagemaker", "shadow-test", "example"],
    doc_md=__doc__,
):
    # The endpoint's production variant (name, model, instance type and count) is read when the
    # task runs; the shadow runs on the same instances and gets a name derived from the experiment's.
    create = CreateInferenceExperimentOperator(
        task_id="create_experiment",
        name="minimal-{{ params.endpoint_name }}-{{ dag_run.run_after.strftime('%Y%m%d%H%M%S') }}",
        endpoint_name="{{ params.endpoint_name }}",
        role_arn="{{ params.role_arn }}",
        shadow_model_name="{{ params.candidate_model }}",
        sampling_percentage="{{ params.sampling_percent }}",
        duration="{{ params.duration }}",
    )
    experiment = "{{ ti.xcom_pull(task_ids='create_experiment')['name'] }}"
    running = InferenceExperimentSensor(
        task_id="wait_for_running", experiment_name=experiment, target="running", deferrable=True, poke_interval=5
    )
    completed = InferenceExperimentSensor(
        task_id="wait_for_completed",
        experiment_name=experiment,
        target="completed",
        deferrable=True,
        poke_interval=5,
        # Airflow's default sensor timeout is 7 days; an experiment may run for 30.
        timeout=31 * 24 * 3600,
    )
    create >> running >> completed
