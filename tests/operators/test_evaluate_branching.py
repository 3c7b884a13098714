"""A real DAG run (dag.test, in-process emulator): the verdict's branch runs, the others are skipped."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request

if TYPE_CHECKING:
    from pathlib import Path

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
START = T0 + dt.timedelta(minutes=1)
END = T0 + dt.timedelta(minutes=21)
CANDIDATE_TAGS = {"better": {"shadowtest:latency-ms": "30"}, "slower": {"shadowtest:latency-ms": "60"}}

#: Decisions read from XCom by the task that ran after the branch.
SEEN: list[str] = []


def _record(ti: Any) -> None:
    SEEN.append(ti.xcom_pull(task_ids="evaluate")["decision"])


def _register(dag: DAG) -> None:
    """Store the serialized DAG, as the DAG processor would, so dag.test() can run a DAG defined here."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    manager: Any = DagBundlesManager  # untyped constructor
    manager().sync_bundles_to_db()
    with create_session() as session:
        update_dag_parsing_results_in_db(
            "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
        )


@pytest.mark.slow
@pytest.mark.parametrize(("candidate", "followed"), [("better", "promote"), ("slower", "reject")])
def test_dag_run_follows_the_verdict_branch(airflow_db: Path, candidate: str, followed: str) -> None:
    SEEN.clear()
    with mock_shadow_tests(transition_seconds=0):
        with time_machine.travel(T0, tick=False):
            sm = boto3.client("sagemaker", region_name="us-east-1")
            create_model(sm, candidate, tags=CANDIDATE_TAGS[candidate])
            create_endpoint(sm, "ep", "prod-model")
            schedule = {"StartTime": START, "EndTime": END}
            request = shadow_test_request("exp", "ep", "prod-model", candidate, Schedule=schedule)
            sm.create_inference_experiment(**request)

        with time_machine.travel(END + dt.timedelta(minutes=5), tick=True):
            with DAG(f"evaluate_branch_{candidate}", schedule=None) as dag:
                evaluate = EvaluateInferenceExperimentOperator(
                    task_id="evaluate",
                    experiment_name="exp",
                    aws_conn_id=None,
                    region_name="us-east-1",
                    promote_task_ids="promote",
                    reject_task_ids=["reject"],
                    inconclusive_task_ids="wait_longer",
                )
                evaluate >> [
                    PythonOperator(task_id="promote", python_callable=_record),
                    PythonOperator(task_id="reject", python_callable=_record),
                    EmptyOperator(task_id="wait_longer"),
                ]
            _register(dag)
            run = dag.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    skipped = {"promote", "reject", "wait_longer"} - {followed}
    assert states == {"evaluate": "success", followed: "success"} | dict.fromkeys(skipped, "skipped")
    assert [followed.upper()] == SEEN
