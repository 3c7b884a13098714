"""Shadow-test a candidate model against production and promote it only if it is at least as good.

Trigger it from the Airflow UI: the form (DAG Params) is the user interface. The pipeline creates
the shadow test, waits until it runs, lets it observe live traffic, judges the candidate from
CloudWatch metrics, and then promotes it (optionally after a person approves the report) or keeps
production and says why.

Requires Airflow 3.1 or later: the optional human approval step is the standard provider's
``ApprovalOperator`` (human-in-the-loop, Airflow 3.1+). ``example_shadow_test_minimal`` runs on 2.11+.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG
from shadow_test_pipeline import shadow_test_params, shadow_test_tasks

with DAG(
    dag_id="example_shadow_test_promotion",
    description="Shadow-test a candidate SageMaker model and promote it if it is at least as good",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params=shadow_test_params(),
    tags=["sagemaker", "shadow-test", "example"],
    doc_md=__doc__,
):
    shadow_test_tasks("{{ params.candidate_model }}")
