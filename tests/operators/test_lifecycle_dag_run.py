"""A DAG creates a shadow test, starts it early, extends it and stops it promoting: `airflow dags test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    assert described["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] == 100
    assert [v["ModelName"] for v in production] == [CANDIDATE_MODEL]
