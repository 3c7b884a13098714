"""pytest plugin ``shadowtest``: the ``shadow_tests`` fixture (the emulator under moto's mock_aws).

Override the settings per test with the ``shadow_tests_settings`` fixture, e.g.::

    @pytest.fixture
    def shadow_tests_settings():
        return {"transition_seconds": 0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_shadowtest.testing.handle import EmulatorHandle


@pytest.fixture
def shadow_tests_settings() -> dict[str, Any]:
    """Settings applied by the ``shadow_tests`` fixture (fields of EmulatorSettings)."""
    return {}


@pytest.fixture
def shadow_tests(shadow_tests_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    """The emulator in-process (moto's mock_aws), with fake credentials and region; yields a handle."""
    from airflow_provider_shadowtest.testing.mock import mock_shadow_tests

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_shadow_tests(**shadow_tests_settings) as handle:
        yield handle
