"""Seeded fault injection on SageMaker calls: throttling, HTTP 5xx and dropped connections.

``drop`` closes the connection before the call is processed; ``drop_after`` processes it, then
closes the connection without an answer (the lost-response case retries must be idempotent for).
"""

from __future__ import annotations

import json
import random
import threading
from typing import TYPE_CHECKING, Final

from airflow_provider_shadowtest.testing.settings import current_settings, on_change

if TYPE_CHECKING:
    from airflow_provider_shadowtest.testing.settings import EmulatorSettings


#: fault kinds that close the connection instead of answering
DROP_KINDS: Final = frozenset({"drop", "drop_after"})


class DropConnection(Exception):
    """Raised inside moto to make the server close the connection without answering."""


_FAULT_BODIES: dict[str, tuple[int, str, str]] = {
    "throttling": (400, "ThrottlingException", "Rate exceeded"),
    "http500": (500, "InternalFailure", "We encountered an internal error. Please try again."),
    "http503": (503, "ServiceUnavailable", "Service is unavailable. Please try again."),
}


class FaultInjector:
    """Draws faults from a seeded generator; reseeded whenever the settings change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(current_settings().fault_seed)

    def reseed(self, settings: EmulatorSettings | None = None) -> None:
        with self._lock:
            self._random = random.Random((settings or current_settings()).fault_seed)

    def draw(self, operation: str) -> str | None:
        """Return the fault kind to inject for this call, or None."""
        settings = current_settings()
        if settings.fault_rate <= 0:
            return None
        if settings.fault_operations and operation not in settings.fault_operations:
            return None
        with self._lock:
            if self._random.random() >= settings.fault_rate:
                return None
            return self._random.choice(settings.fault_kinds)


def fault_response(kind: str) -> tuple[int, dict[str, str], str]:
    """Return moto's ``(status, headers, body)`` for a non-drop fault, in the JSON 1.1 protocol."""
    status, code, message = _FAULT_BODIES[kind]
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"__type": code, "message": message})


def drop_error(url: str) -> Exception:
    """The error a dropped connection gives in-process (mock_aws): botocore's ConnectionClosedError."""
    from botocore.exceptions import ConnectionClosedError

    return ConnectionClosedError(endpoint_url=url)


INJECTOR = FaultInjector()
on_change(INJECTOR.reseed)
