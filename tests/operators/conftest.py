"""Fixtures for the operator tests: the in-process emulator, an endpoint with two models, a context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest

from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests
from tests.operators.shadowtest_operator_helpers import CANDIDATE_MODEL, ENDPOINT, PRODUCTION_MODEL, FakeTaskInstance

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def emulator() -> Iterator[Any]:
    """The emulator with short transitions, so that waits take a fraction of a second."""
    with mock_shadow_tests(transition_seconds=0.3) as handle:
        yield handle


@pytest.fixture
def sagemaker(emulator: Any) -> Any:
    return boto3.client("sagemaker", region_name="us-east-1")


@pytest.fixture
def endpoint(sagemaker: Any) -> str:
    """An InService endpoint serving the production model; the candidate model exists too."""
    create_endpoint(sagemaker, ENDPOINT, PRODUCTION_MODEL, variant_name="production")
    create_model(sagemaker, CANDIDATE_MODEL)
    return ENDPOINT


@pytest.fixture
def context() -> dict[str, Any]:
    return {"ti": FakeTaskInstance(), "params": {}}
