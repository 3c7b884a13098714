"""Fixtures running each emulator test against both modes: in-process (mock_aws) and the HTTP server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from botocore.config import Config

from airflow_provider_shadowtest.testing import EmulatorServer, create_endpoint, create_model, mock_shadow_tests
from airflow_provider_shadowtest.testing.counters import COUNTERS
from tests.testing.helpers_emulator import T0

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_shadowtest.testing.handle import EmulatorHandle

REGION = "us-east-1"


@dataclass
class Emulator:
    """One emulator under test: how to build clients, the handle, and the server URL if any."""

    mode: str
    handle: EmulatorHandle
    url: str | None = None

    def client(self, service: str = "sagemaker", *, retries: int | None = None) -> Any:
        config = Config(retries={"total_max_attempts": retries, "mode": "standard"}) if retries else None
        factory: Any = boto3.client
        return factory(service, region_name=REGION, endpoint_url=self.url, config=config)

    def http(self, method: str, route: str, body: Any = None) -> Any:
        assert self.url is not None
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(f"{self.url}{route}", data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                return {"status": exc.code, "body": json.loads(exc.read() or b"null")}


@pytest.fixture(scope="module")
def _server() -> Iterator[EmulatorServer]:
    with EmulatorServer("127.0.0.1", 0, transition_seconds=1.0) as server:
        yield server


@pytest.fixture(params=["mock", "server"])
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """The emulator in both modes, fresh state, transitions of 1 s, zeroed counts."""
    if request.param == "mock":
        with mock_shadow_tests(transition_seconds=1.0) as handle:
            yield Emulator("mock", handle)
        return
    server: EmulatorServer = request.getfixturevalue("_server")
    emu = Emulator("server", server, server.url)
    emu.http("POST", "/moto-api/reset")
    previous = server.settings
    server.configure(transition_seconds=1.0, fault_rate=0.0)
    COUNTERS.reset()
    try:
        yield emu
    finally:
        server.settings = previous


@pytest.fixture
def clock() -> Iterator[Any]:
    """Frozen time at T0; move with ``clock.shift(seconds)`` or ``clock.move_to(when)``."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sm(emulator: Emulator) -> Any:
    return emulator.client()


@pytest.fixture
def endpoint(sm: Any) -> Callable[..., str]:
    """Create models prod-model and shadow-model and endpoint ``ep`` (production variant AllTraffic)."""

    def make(name: str = "ep", **kwargs: Any) -> str:
        for model in ("prod-model", "shadow-model"):
            try:
                sm.describe_model(ModelName=model)
            except sm.exceptions.ClientError:
                create_model(sm, model)
        create_endpoint(sm, name, "prod-model", **kwargs)
        return name

    return make
