"""Create a short shadow test on the emulator, then wait for Running and for Completed with the sensor.

Run by ``tests/sensors/test_sensor_dag.py`` through ``airflow dags test``; the connection
``aws_default`` points at the emulator server and ``[operators] default_deferrable`` is on.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor

EXPERIMENT = "dag-wait"


@dag(schedule=None, start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), catchup=False)
def shadowtest_sensor_wait() -> None:
    @task
    def create() -> str:
        from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
        from airflow_provider_shadowtest.testing import create_endpoint, create_model
        from airflow_provider_shadowtest.testing.resources import shadow_test_request

        hook = InferenceExperimentHook(aws_conn_id="aws_default")
        create_model(hook.conn, "shadow-model")
        create_endpoint(hook.conn, "ep", "prod-model")
        now = dt.datetime.now(dt.timezone.utc)
        schedule = {"StartTime": now + dt.timedelta(seconds=4), "EndTime": now + dt.timedelta(seconds=10)}
        hook.create_inference_experiment(
            shadow_test_request(EXPERIMENT, "ep", "prod-model", "shadow-model", Schedule=schedule)
        )
        return EXPERIMENT

    running = InferenceExperimentSensor(
        task_id="wait_running",
        experiment_name="{{ ti.xcom_pull(task_ids='create') }}",  # templated
        target="running",
        poke_interval=0.5,
        timeout=120,
    )
    completed = InferenceExperimentSensor(
        task_id="wait_completed", experiment_name=EXPERIMENT, target="completed", poke_interval=0.5, timeout=120
    )
    create() >> running >> completed


shadowtest_sensor_wait()
