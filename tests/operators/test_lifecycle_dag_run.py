"""A DAG creates a shadow test, starts it early, extends it and stops it promoting: `airflow dags test`."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from airflow_provider_shadowtest.testing import EmulatorServer, create_endpoint, create_model
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, ENDPOINT, PRODUCTION_MODEL

DAGS = Path(__file__).parent / "dags"


@pytest.mark.slow
def test_lifecycle_dag_runs_green_and_promotes(airflow_db: Path) -> None:
    with EmulatorServer(transition_seconds=0.5) as server:
        client = boto3.client(
            "sagemaker",
            region_name="us-east-1",
            endpoint_url=server.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        create_endpoint(client, ENDPOINT, PRODUCTION_MODEL, variant_name="production")
        create_model(client, CANDIDATE_MODEL)
        connection = {"conn_type": "aws", "extra": {"endpoint_url": server.url, "region_name": "us-east-1"}}
        env = {
            **os.environ,
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
        }
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", "shadowtest_lifecycle"],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        described = client.describe_inference_experiment(Name="dag-exp")
        config = client.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
        production = client.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]

    assert described["Status"] == "Completed"
    assert described["StatusReason"] == "candidate approved"
    # Rendered Templates of Create and Update show the request they sent, stored by Airflow itself
    # (RenderedTaskInstanceFields, written again when the try ended), typed: numbers and ISO times.
    rendered = _rendered_fields(airflow_db, "shadowtest_lifecycle")
    sent = rendered["create"]["request_sent"]
    assert sent["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 20
    assert sent["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]["InstanceCount"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", sent["Schedule"]["EndTime"])
    assert rendered["extend"]["request_sent"]["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 100
    assert set(rendered["extend"]["request_sent"]) == {"Name", "Schedule", "ShadowModeConfig"}
    assert "request_sent" not in rendered["start"]
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 100
    assert [v["ModelName"] for v in production] == [CANDIDATE_MODEL]


def _rendered_fields(home: Path, dag_id: str) -> dict[str, dict[str, Any]]:
    """The rendered fields Airflow stored per task of the DAG's latest run."""
    with sqlite3.connect(home / "airflow.db") as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
        ).fetchone()
        rows = db.execute(
            "SELECT task_id, rendered_fields FROM rendered_task_instance_fields WHERE dag_id = ? AND run_id = ?",
            (dag_id, run_id),
        ).fetchall()
    return {task_id: json.loads(fields) for task_id, fields in rows}
