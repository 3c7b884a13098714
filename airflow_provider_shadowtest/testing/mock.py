"""``mock_shadow_tests``: moto's ``mock_aws`` plus the shadow-test extension, in-process."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from moto import mock_aws

from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.handle import EmulatorHandle
from airflow_provider_shadowtest.testing.install import install
from airflow_provider_shadowtest.testing.settings import EmulatorSettings, current_settings, set_settings

F = TypeVar("F", bound=Callable[..., Any])


class mock_shadow_tests:
    """Context manager and decorator: ``with mock_shadow_tests(transition_seconds=0) as emu:``.

    Starts moto's ``mock_aws`` with the extension installed, applies ``settings`` (fields of
    :class:`EmulatorSettings`, or ``settings=EmulatorSettings(...)``) and zeroes the request
    counts; restores the previous settings on exit. Yields an :class:`EmulatorHandle`.
    """

    def __init__(self, settings: EmulatorSettings | None = None, **changes: Any) -> None:
        self._settings = (settings or EmulatorSettings()).replace(**changes)
        self._stack: contextlib.ExitStack | None = None

    def __enter__(self) -> EmulatorHandle:
        install()
        stack = contextlib.ExitStack()
        previous = set_settings(self._settings)
        stack.callback(set_settings, previous)
        COUNTERS.reset()
        stack.enter_context(mock_aws())
        self._stack = stack
        return EmulatorHandle()

    def __exit__(self, *exc: object) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with mock_shadow_tests(self._settings):
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_shadow_tests(self._settings):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def shadow_test_settings(**changes: Any) -> Iterator[EmulatorSettings]:
    """Temporarily change the current settings."""
    previous = set_settings(current_settings().replace(**changes))
    try:
        yield current_settings()
    finally:
        set_settings(previous)
