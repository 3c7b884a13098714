"""Reads and Stop under the backend lock: no half-written stop is ever seen (in-process only)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.testing.store import Experiment, lock_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REGION = "us-east-1"


@pytest.fixture
def sm() -> Iterator[Any]:
    """In-process emulator, transitions of 0 s, endpoint ``ep`` with a Running experiment ``exp``."""
    with mock_shadow_tests(transition_seconds=0.0):
        client = boto3.client("sagemaker", region_name=REGION)
        create_model(client, "shadow-model")
        create_endpoint(client, "ep", "prod-model")
        client.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "shadow-model"))
        assert client.describe_inference_experiment(Name="exp")["Status"] == "Running"
        yield client


def test_stop_never_shows_a_status_other_than_before_or_after(sm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field Stop writes leaves the record Running or Cancelled, never Stopping or Completed."""
    seen: list[tuple[str, str]] = []

    def recording_setattr(self: Experiment, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        seen.append((name, self.status()))

    monkeypatch.setattr(Experiment, "__setattr__", recording_setattr)
    sm.stop_inference_experiment(
        Name="exp", ModelVariantActions={"shadow": "Remove", "AllTraffic": "Retain"}, DesiredState="Cancelled"
    )
    monkeypatch.undo()
    assert "stopped_at" in dict(seen)
    assert {status for _, status in seen} <= {"Running", "Cancelled"}, seen
    assert seen[-1] == ("stopped_at", "Cancelled")
    assert sm.describe_inference_experiment(Name="exp")["Status"] == "Cancelled"


@pytest.mark.parametrize(
    "call",
    [
        lambda sm: sm.describe_inference_experiment(Name="exp"),
        lambda sm: sm.list_inference_experiments(),
        lambda sm: sm.describe_endpoint(EndpointName="ep"),
    ],
    ids=["DescribeInferenceExperiment", "ListInferenceExperiments", "DescribeEndpoint"],
)
def test_reads_wait_for_the_backend_lock(sm: Any, call: Callable[[Any], Any]) -> None:
    """A read waits while a writer holds the lock (a false pass needs a > 0.3 s read; never a false failure)."""
    done = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            call(sm)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    lock = lock_of(sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION])
    with lock:
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert not done.wait(0.3), "the read did not wait for the lock"
    assert done.wait(10)
    reader.join(10)
    assert not errors
