"""create -> sensor(running) -> sensor(completed) through ``airflow dags test``, deferrable, on the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from airflow_provider_shadowtest.testing import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator

DAGS = Path(__file__).resolve().parent / "dags"


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer("127.0.0.1", 0, transition_seconds=0.5) as emulator:
        # moto's state is process-wide: start from nothing whatever ran before
        reset = urllib.request.Request(f"{emulator.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(reset, timeout=10):
            pass
        emulator.reset_stats()
        yield emulator


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_dag_waits_for_running_then_completed_deferred(airflow_db: Path, server: EmulatorServer) -> None:
    env = dict(os.environ)  # tests/conftest.py set AIRFLOW_HOME, the DB and fake credentials
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "True",
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": server.url, "region_name": "us-east-1"}}
            ),
        }
    )
    run = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "shadowtest_sensor_wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    assert "InferenceExperimentTrigger" in output  # both sensors really deferred
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=server.url)
    assert sm.describe_inference_experiment(Name="dag-wait")["Status"] == "Completed"
    describes = server.stats().get("DescribeInferenceExperiment", 0)
    assert describes <= 12, describes  # 0.5 s polling over the 10 s schedule would take about 20
