"""The emulator served over HTTP (aiobotocore cannot be intercepted by mock_aws) and an experiment factory."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from airflow_provider_shadowtest.testing import EmulatorServer, create_endpoint, create_model
from airflow_provider_shadowtest.testing.resources import shadow_test_request


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
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
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=emulator.url)
    create_model(client, "shadow-model")
    create_endpoint(client, "ep", "prod-model")
    return client


@pytest.fixture
def experiment(sm: Any) -> Callable[..., str]:
    """Create experiment ``name`` starting and ending the given seconds from now."""

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
