"""Connection secrets never leak: not in task logs, rendered fields, XCom, the metadata DB or the console.

A DAG (create, start, wait, stop) runs through ``airflow dags test`` in a subprocess with a
connection carrying recognisable fake credentials and pointing at the emulator. Afterwards
every place Airflow writes to is searched for them. Positive controls prove that the search
finds a secret where one is planted, and the emulator proves the credentials were in use.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from airflow_provider_shadowtest.testing import EmulatorServer, create_endpoint, create_model
from airflow_provider_shadowtest.testing.server import ShadowTestApp

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

ACCESS_KEY = "AKIAFAKESECRET0000001"
SECRET_KEY = "fake/SECRET/key/that-must-not-leak"
SESSION_TOKEN = "FAKESESSIONTOKENMUSTNOTLEAK"
SECRETS = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)
CONN_ID = "shadowtest_secret"
DAG_ID = "shadowtest_secrets"
ENDPOINT = "secrets-endpoint"

DAG_FILE = textwrap.dedent(
    f'''
    """Create, start, wait for Running, stop: every operator and the sensor use the secret connection."""
    import datetime as dt

    from airflow.sdk import DAG

    from airflow_provider_shadowtest.operators.inference_experiment import (
        CreateInferenceExperimentOperator,
        StartInferenceExperimentOperator,
        StopInferenceExperimentOperator,
    )
    from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor

    CONN = {{"aws_conn_id": "{CONN_ID}"}}
    FAST = {{"poke_interval": 0.2, "settle_timeout_seconds": 60, **CONN}}
    INFRA = {{
        "InfrastructureType": "RealTimeInference",
        "RealTimeInferenceConfig": {{"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}},
    }}

    with DAG(
        dag_id="{DAG_ID}",
        schedule=None,
        start_date=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        params={{"name": "secret-exp"}},
    ):
        create = CreateInferenceExperimentOperator(
            task_id="create",
            name="{{{{ params.name }}}}",
            endpoint_name="{ENDPOINT}",
            role_arn="arn:aws:iam::123456789012:role/SageMakerShadowTest",
            model_variants=[
                {{"ModelName": "prod-model", "VariantName": "production", "InfrastructureConfig": INFRA}},
                {{"ModelName": "shadow-model", "VariantName": "shadow", "InfrastructureConfig": INFRA}},
            ],
            shadow_mode_config={{
                "SourceModelVariantName": "production",
                "ShadowModelVariants": [{{"ShadowModelVariantName": "shadow", "SamplingPercentage": 10}}],
            }},
            start_time="{{{{ (macros.datetime.utcnow() + macros.timedelta(hours=1)).isoformat() }}}}",
            duration="P1D",
            **FAST,
        )
        start = StartInferenceExperimentOperator(task_id="start", experiment_name="{{{{ params.name }}}}", **FAST)
        wait = InferenceExperimentSensor(
            task_id="wait_running",
            experiment_name="{{{{ params.name }}}}",
            target="running",
            mode="poke",
            poke_interval=0.2,
            max_sleep_seconds=0.5,
            timeout=60,
            deferrable=False,
            **CONN,
        )
        stop = StopInferenceExperimentOperator(
            task_id="stop",
            experiment_name="{{{{ params.name }}}}",
            reason="secrets test done",
            wait_for_completion=True,
            **FAST,
        )
        create >> start >> wait >> stop
    '''
)


def find_secrets(text: str) -> set[str]:
    """The secrets that occur in ``text``, also percent- or JSON-escaped."""
    found = set()
    for secret in SECRETS:
        variants = {secret, secret.replace("/", "%2F"), secret.replace("/", "\\/")}
        if any(v in text for v in variants):
            found.add(secret)
    return found


def files_with_secrets(roots: Iterable[Path]) -> dict[str, set[str]]:
    hits: dict[str, set[str]] = {}
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.is_file():
                found = find_secrets(path.read_bytes().decode("utf-8", errors="replace"))
                if found:
                    hits[str(path)] = found
    return hits


def db_rows(db: Path, table: str, dag_id: str) -> list[str]:
    """Every row of ``table`` for ``dag_id``, each as the text of all its columns."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(f"SELECT * FROM {table} WHERE dag_id = ?", (dag_id,)).fetchall()
    return [" ".join(_text(value) for value in row) for row in rows]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


@pytest.fixture
def credentials_seen(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Access key ids the emulator saw in request signatures (proof the secret connection was used)."""
    seen: set[str] = set()
    original = ShadowTestApp.__call__

    def recording(self: ShadowTestApp, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        if "Credential=" in authorization:
            seen.add(authorization.split("Credential=", 1)[1].split("/", 1)[0])
        return original(self, environ, start_response)

    monkeypatch.setattr(ShadowTestApp, "__call__", recording)
    return seen


def test_the_search_finds_a_planted_secret(tmp_path: Path) -> None:
    """Positive control: files, escaped forms and DB rows with a secret are found."""
    (tmp_path / "logs" / "dag_id=x").mkdir(parents=True)
    (tmp_path / "logs" / "dag_id=x" / "attempt=1.log").write_text(f'{{"event": "key={SECRET_KEY}"}}\n')
    (tmp_path / "clean.log").write_text("nothing here\n")
    assert files_with_secrets([tmp_path]) == {str(tmp_path / "logs" / "dag_id=x" / "attempt=1.log"): {SECRET_KEY}}
    assert find_secrets(json.dumps({"token": SESSION_TOKEN, "url": SECRET_KEY.replace("/", "%2F")})) == {
        SESSION_TOKEN,
        SECRET_KEY,
    }
    db = tmp_path / "control.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE xcom (dag_id TEXT, value BLOB)")
        connection.execute("INSERT INTO xcom VALUES (?, ?)", ("d", json.dumps({"k": ACCESS_KEY}).encode()))
    assert find_secrets(" ".join(db_rows(db, "xcom", "d"))) == {ACCESS_KEY}
    assert files_with_secrets([db]) == {str(db): {ACCESS_KEY}}


@pytest.mark.slow
def test_connection_secrets_appear_nowhere_after_a_dag_run(
    airflow_db: Path, tmp_path: Path, credentials_seen: set[str]
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "shadowtest_secrets_dag.py").write_text(DAG_FILE)
    task_logs = tmp_path / "task-logs"
    with EmulatorServer(transition_seconds=0.3) as server:
        client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=server.url)
        create_endpoint(client, ENDPOINT, "prod-model", variant_name="production")
        create_model(client, "shadow-model")
        connection = {
            "conn_type": "aws",
            "login": ACCESS_KEY,
            "password": SECRET_KEY,
            "extra": {"aws_session_token": SESSION_TOKEN, "endpoint_url": server.url, "region_name": "us-east-1"},
        }
        # tests/conftest.py put the session's AIRFLOW_HOME and fake default credentials in os.environ.
        env = {
            **os.environ,
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(task_logs),
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(connection),
        }
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", DAG_ID],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        final = client.describe_inference_experiment(Name="secret-exp")

    console = done.stdout + done.stderr
    assert done.returncode == 0, console[-4000:]
    assert final["Status"] == "Completed"
    assert final["StatusReason"] == "secrets test done"
    assert ACCESS_KEY in credentials_seen, f"the DAG did not sign with the secret connection: {credentials_seen}"

    # `airflow dags test` runs the tasks in its own process: their logs are on the console.
    assert "Creating inference experiment 'secret-exp'" in console, "the task logs are not on the console"
    assert find_secrets(console) == set()

    # Every log file written is scanned. `dags test` (no executor) writes none: each task's log is
    # the console, scanned above; prove every task's log is really there, so nothing is skipped.
    log_roots = [task_logs, airflow_db / "logs"]
    log_files = sorted(path for root in log_roots if root.exists() for path in root.rglob("*") if path.is_file())
    if not log_files:
        for task_line in (
            "Creating inference experiment 'secret-exp'",  # create
            "Started inference experiment 'secret-exp'",  # start
            "Inference experiment 'secret-exp' is Running: reached Running",  # wait_running
            "Stopping inference experiment 'secret-exp'",  # stop
        ):
            assert task_line in console, f"no log file was written and the console lacks {task_line!r}"
    assert files_with_secrets(log_files) == {}

    db = airflow_db / "airflow.db"
    xcoms = db_rows(db, "xcom", DAG_ID)
    rendered = db_rows(db, "rendered_task_instance_fields", DAG_ID)
    assert any("secret-exp" in row for row in xcoms), "the create task pushed no XCom"
    assert any("secret-exp" in row for row in rendered), "no rendered template fields were stored"
    assert find_secrets(" ".join(xcoms + rendered)) == set()
    assert files_with_secrets(sorted(airflow_db.glob("airflow.db*"))) == {}
