"""Test-wide environment: a throwaway AIRFLOW_HOME and fake AWS credentials, set before Airflow loads."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_shadowtest.testing import EmulatorServer

_HOME = Path(tempfile.mkdtemp(prefix="shadowtest-airflow-home-"))
_ENV = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[1] / "example_dags"),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    # Never reach real AWS from a test: fake credentials, a fixed region.
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(_ENV)
os.environ.pop("AWS_PROFILE", None)

REPO_ROOT = Path(__file__).resolve().parents[1]


def airflow_env(**extra: str) -> dict[str, str]:
    """The environment for an ``airflow`` subprocess sharing this session's AIRFLOW_HOME."""
    env = dict(os.environ)
    env.update(_ENV)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate the session's SQLite metadata DB once; yield AIRFLOW_HOME."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=airflow_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return _HOME


# -- an emulator server shared by the sensor and trigger tests (aiobotocore needs a real endpoint) --
@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    from airflow_provider_shadowtest.testing import EmulatorServer

    with EmulatorServer("127.0.0.1", 0, transition_seconds=0.5) as emulator:
        yield emulator


@pytest.fixture
def emulator(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """Fresh emulator state, zeroed counts, and ``aws_default`` pointing at the server."""
    request = urllib.request.Request(f"{server.url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    previous = server.settings
    server.configure(transition_seconds=0.5, fault_rate=0.0)
    server.reset_stats()
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": server.url, "region_name": "us-east-1"}}),
    )
    try:
        yield server
    finally:
        server.settings = previous


@pytest.fixture
def sm(emulator: EmulatorServer) -> Any:
    import boto3

    from airflow_provider_shadowtest.testing import create_endpoint, create_model

    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=emulator.url)
    create_model(client, "shadow-model")
    create_endpoint(client, "ep", "prod-model")
    return client


@pytest.fixture
def experiment(sm: Any) -> Callable[..., str]:
    """Create experiment ``name`` starting and ending the given seconds from now."""

    from airflow_provider_shadowtest.testing.resources import shadow_test_request

    def make(name: str = "exp", *, start_in: float = 1.0, end_in: float = 3.0) -> str:
        now = dt.datetime.now(dt.timezone.utc)
        schedule = {
            "StartTime": now + dt.timedelta(seconds=start_in),
            "EndTime": now + dt.timedelta(seconds=end_in),
        }
        sm.create_inference_experiment(
            **shadow_test_request(name, "ep", "prod-model", "shadow-model", Schedule=schedule)
        )
        return name

    return make
