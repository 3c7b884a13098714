"""Sleep until the next check of a continuous evaluation, then hand its state back to the worker."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest._compat import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping


class ContinuousCheckTrigger(BaseTrigger):
    """Wake the evaluate operator at ``moment_epoch_seconds``, carrying its ``state`` in the event.

    No AWS call and no side effect: it only sleeps, so it may run twice. The state travels in the
    event payload (``{"status": "success", "state": {...}}``), not in ``defer(kwargs=...)``, which
    Airflow 3.3.2 drops under ``dag.test()``.

    :param moment_epoch_seconds: when to wake, in seconds since the Unix epoch.
    :param state: plain JSON the resume method needs (look number, information fraction, ...).
    """

    def __init__(self, moment_epoch_seconds: float, state: Mapping[str, Any] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.moment_epoch_seconds = float(moment_epoch_seconds)
        self.state = dict(state or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the classpath and the moment and state, so the triggerer can re-create it."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"moment_epoch_seconds": self.moment_epoch_seconds, "state": self.state},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Sleep until the moment (in slices, so a clock change is noticed), then yield the state."""
        while True:
            left = self.moment_epoch_seconds - dt.datetime.now(dt.timezone.utc).timestamp()
            if left <= 0:
                break
            await asyncio.sleep(min(left, 3600.0))
        yield TriggerEvent({"status": "success", "state": self.state})  # type: ignore[no-untyped-call]
