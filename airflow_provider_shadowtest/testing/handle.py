"""The handle tests use to read and change the emulator: settings, counts, the clock's experiments."""

from __future__ import annotations

from typing import Any

from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.settings import (
    EmulatorSettings,
    current_settings,
    set_settings,
    update_settings,
)


class EmulatorHandle:
    """Access to the running emulator (in-process: mock_aws or a server thread)."""

    @property
    def settings(self) -> EmulatorSettings:
        """The current settings."""
        return current_settings()

    @settings.setter
    def settings(self, value: EmulatorSettings) -> None:
        set_settings(value)

    def configure(self, **changes: Any) -> EmulatorSettings:
        """Change settings at runtime (e.g. ``fault_rate=0.2``); returns the new settings."""
        return update_settings(**changes)

    def stats(self) -> dict[str, int]:
        """Requests received per operation (SageMaker and CloudWatch), faulted ones included."""
        return COUNTERS.requests()

    def fault_stats(self) -> dict[str, int]:
        """Faults injected per operation."""
        return COUNTERS.faults()

    def reset_stats(self) -> None:
        """Zero the request and fault counts."""
        COUNTERS.reset()
