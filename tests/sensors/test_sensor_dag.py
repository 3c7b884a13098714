"""create -> sensor(running) -> sensor(completed) through ``airflow dags test``, deferrable, on the emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections import Counter
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


def deferrals(output: str) -> Counter[str]:
    """How often each task paused as DEFERRED, from the task runner's log lines."""
    return Counter(re.findall(r"Pausing task as DEFERRED\..*?task_id=(\w+)", output))


def trigger_outcomes(output: str) -> list[str]:
    """The statuses the trigger reported as reached, in order."""
    return re.findall(r"Inference experiment 'dag-wait' is (\w+) \[\S*InferenceExperimentTrigger\]", output)


def test_the_log_parsers_count_what_they_claim() -> None:
    """Positive control for the parsers above, on lines shaped like the task runner's and the trigger's."""
    sample = (
        "[info     ] Pausing task as DEFERRED.      [task] dag_id=d loc=x.py:1 run_id=r task_id=wait_running\n"
        "[info     ] Inference experiment 'dag-wait' is Running "
        "[airflow_provider_shadowtest.triggers.inference_experiment.InferenceExperimentTrigger] loc=y.py:2\n"
        "[info     ] Inference experiment 'dag-wait' is Completed [airflow.task.operators.Sensor] loc=z.py:3\n"
    )
    assert deferrals(sample) == {"wait_running": 1}
    assert trigger_outcomes(sample) == ["Running"]


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
    # each sensor deferred exactly once, and the triggerer (not the worker) saw each target arrive
    assert deferrals(output) == {"wait_running": 1, "wait_completed": 1}, output[-5000:]
    assert trigger_outcomes(output) == ["Running", "Completed"], output[-5000:]
    sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=server.url)
    assert sm.describe_inference_experiment(Name="dag-wait")["Status"] == "Completed"
    describes = server.stats().get("DescribeInferenceExperiment", 0)
    assert describes <= 12, describes  # 0.5 s polling over the 10 s schedule would take about 20
