"""Embedded SageMaker shadow-test emulator: moto plus the seven inference-experiment operations.

- ``mock_shadow_tests(**settings)``: context manager / decorator around moto's ``mock_aws``;
- the ``shadow_tests`` pytest fixture (plugin ``shadowtest``, registered automatically);
- ``python -m airflow_provider_shadowtest.testing.server`` or ``EmulatorServer`` in a thread;
- ``create_model`` / ``create_endpoint``: the endpoint a shadow test runs on.

moto is imported only when one of these is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.testing.settings import EmulatorSettings, current_settings

if TYPE_CHECKING:
    from airflow_provider_shadowtest.testing.handle import EmulatorHandle
    from airflow_provider_shadowtest.testing.install import install
    from airflow_provider_shadowtest.testing.mock import mock_shadow_tests
    from airflow_provider_shadowtest.testing.resources import create_endpoint, create_model, shadow_test_request
    from airflow_provider_shadowtest.testing.server import EmulatorServer

__all__ = [
    "EmulatorHandle",
    "EmulatorServer",
    "EmulatorSettings",
    "create_endpoint",
    "create_model",
    "current_settings",
    "install",
    "mock_shadow_tests",
    "shadow_test_request",
]

_LAZY = {
    "EmulatorHandle": "handle",
    "EmulatorServer": "server",
    "install": "install",
    "mock_shadow_tests": "mock",
    "create_endpoint": "resources",
    "create_model": "resources",
    "shadow_test_request": "resources",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
