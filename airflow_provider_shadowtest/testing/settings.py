"""The emulator's settings: one frozen dataclass, a process-wide current value, env and JSON forms.

Environment variables (read by the server and by :func:`EmulatorSettings.from_env`):

``SHADOWTEST_TRANSITION_SECONDS``  how long Creating, Starting, Stopping and Updating last (1.0)
``SHADOWTEST_FAULT_RATE``          share of SageMaker calls answered with a fault, 0..1 (0)
``SHADOWTEST_FAULT_KINDS``         comma-separated: throttling, http500, http503, drop, drop_after
                                   (throttling)
``SHADOWTEST_FAULT_SEED``          seed of the fault dice (0)
``SHADOWTEST_FAULT_OPERATIONS``    comma-separated SageMaker operations to fault (empty: all)
``SHADOWTEST_METRICS_SEED``        seed of the synthetic CloudWatch traffic (0)
``SHADOWTEST_TRAFFIC_PROFILES``    JSON object keyed by model name (see ``testing.metrics``)
``SHADOWTEST_MAX_REQUEST_BYTES``   larger request bodies are refused unread, HTTP 413 (1048576)
``SHADOWTEST_CLOUDWATCH_LAG_SECONDS``  CloudWatch shows a metric minute only this long after it
                                   ends (0)
``SHADOWTEST_PERCENTILES_AVAILABLE``  ``false``: CloudWatch answers no percentile statistics (true)
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FAULT_KINDS: Final = ("throttling", "http500", "http503", "drop", "drop_after")

ENV_PREFIX: Final = "SHADOWTEST_"


@dataclasses.dataclass(frozen=True)
class EmulatorSettings:
    """Knobs of the embedded emulator; replace it with :meth:`replace`, never mutate it.

    :param transition_seconds: duration of each transitional status (Creating, Starting,
        Stopping, Updating).
    :param fault_rate: probability (0..1) that a SageMaker call is answered with a fault.
    :param fault_kinds: faults to draw from: ``throttling`` (HTTP 400 ThrottlingException),
        ``http500``, ``http503``, ``drop`` (connection closed without a response; the call is
        not processed), ``drop_after`` (the call *is* processed, then the connection is closed
        without a response: the answer is lost, so a retried create meets ``ResourceInUse``).
    :param fault_seed: seed of the fault dice; the same seed gives the same sequence.
    :param fault_operations: SageMaker operations eligible for faults; empty means all.
    :param traffic_profiles: synthetic traffic per model name, read by ``testing.metrics``.
    :param metrics_seed: seed of the synthetic metrics.
    :param max_request_bytes: request bodies above this size are refused (HTTP 413) before they
        are read; CloudWatch documents 1 MB for PutMetricData POST requests.
    :param cloudwatch_lag_seconds: publication lag: a minute of the synthetic metrics becomes
        visible this many seconds after it ends (real CloudWatch: about one to three minutes).
    :param percentiles_available: ``False`` makes CloudWatch answer no percentile statistics for
        the synthetic metrics (``ExtendedStatistics`` come back empty, ``pNN`` queries without
        values), as for metrics published without the values percentiles need.
    """

    transition_seconds: float = 1.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("throttling",)
    fault_seed: int = 0
    fault_operations: frozenset[str] = frozenset()
    traffic_profiles: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    metrics_seed: int = 0
    max_request_bytes: int = 1_048_576
    cloudwatch_lag_seconds: float = 0.0
    percentiles_available: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not (isinstance(self.transition_seconds, int | float) and self.transition_seconds >= 0):
            problems.append(f"transition_seconds must be a number >= 0, got {self.transition_seconds!r}")
        if not (isinstance(self.fault_rate, int | float) and 0 <= self.fault_rate <= 1):
            problems.append(f"fault_rate must be within 0..1, got {self.fault_rate!r}")
        kinds = tuple(self.fault_kinds)
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown or not kinds:
            problems.append(f"fault_kinds must be a non-empty subset of {FAULT_KINDS}, got {kinds!r}")
        if isinstance(self.max_request_bytes, bool) or not (
            isinstance(self.max_request_bytes, int) and self.max_request_bytes >= 1
        ):
            problems.append(f"max_request_bytes must be an integer >= 1, got {self.max_request_bytes!r}")
        if not (isinstance(self.cloudwatch_lag_seconds, int | float) and 0 <= self.cloudwatch_lag_seconds < 86_400):
            problems.append(f"cloudwatch_lag_seconds must be within 0..86400, got {self.cloudwatch_lag_seconds!r}")
        if not isinstance(self.percentiles_available, bool):
            problems.append(f"percentiles_available must be true or false, got {self.percentiles_available!r}")
        if problems:
            raise ValueError("; ".join(problems))
        object.__setattr__(self, "cloudwatch_lag_seconds", float(self.cloudwatch_lag_seconds))
        object.__setattr__(self, "transition_seconds", float(self.transition_seconds))
        object.__setattr__(self, "fault_rate", float(self.fault_rate))
        object.__setattr__(self, "fault_kinds", kinds)
        object.__setattr__(self, "fault_operations", frozenset(self.fault_operations))
        object.__setattr__(self, "traffic_profiles", dict(self.traffic_profiles))

    def replace(self, **changes: Any) -> EmulatorSettings:
        """Return a copy with ``changes`` applied (validated); unknown names raise ValueError."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown emulator settings: {', '.join(unknown)}")
        return dataclasses.replace(self, **_coerce(changes))

    def to_json(self) -> dict[str, Any]:
        """Return the settings as plain JSON values."""
        return {
            "transition_seconds": self.transition_seconds,
            "fault_rate": self.fault_rate,
            "fault_kinds": list(self.fault_kinds),
            "fault_seed": self.fault_seed,
            "fault_operations": sorted(self.fault_operations),
            "traffic_profiles": dict(self.traffic_profiles),
            "metrics_seed": self.metrics_seed,
            "max_request_bytes": self.max_request_bytes,
            "cloudwatch_lag_seconds": self.cloudwatch_lag_seconds,
            "percentiles_available": self.percentiles_available,
        }

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, base: EmulatorSettings | None = None
    ) -> EmulatorSettings:
        """Read ``SHADOWTEST_*`` variables on top of ``base`` (defaults)."""
        env = os.environ if environ is None else environ
        changes: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + field.name.upper())
            if raw is not None and raw.strip() != "":
                changes[field.name] = _parse_text(field.name, raw)
        return (base or cls()).replace(**changes)


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


_PARSERS: Final[Mapping[str, Callable[[str], Any]]] = {
    "transition_seconds": float,
    "fault_rate": float,
    "fault_seed": int,
    "metrics_seed": int,
    "fault_kinds": lambda s: tuple(p.strip() for p in s.split(",") if p.strip()),
    "fault_operations": lambda s: frozenset(p.strip() for p in s.split(",") if p.strip()),
    "traffic_profiles": json.loads,
    "max_request_bytes": int,
    "cloudwatch_lag_seconds": float,
    "percentiles_available": _parse_bool,
}


def _parse_text(name: str, raw: str) -> Any:
    try:
        return _PARSERS[name](raw)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}: cannot parse {raw!r}: {exc}") from exc


def _coerce(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Accept JSON shapes (lists, comma strings) for the tuple and set fields."""
    out = dict(changes)
    for name in ("fault_kinds", "fault_operations"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = _PARSERS[name](value)
        elif value is not None:
            out[name] = tuple(value) if name == "fault_kinds" else frozenset(value)
    return out


_lock = threading.Lock()
_current = EmulatorSettings()
_listeners: list[Callable[[EmulatorSettings], None]] = []


def current_settings() -> EmulatorSettings:
    """Return the settings the emulator uses right now (process-wide)."""
    return _current


def set_settings(settings: EmulatorSettings) -> EmulatorSettings:
    """Make ``settings`` current; return the previous value."""
    global _current
    with _lock:
        previous, _current = _current, settings
        listeners = list(_listeners)
    for listener in listeners:
        listener(settings)
    return previous


def update_settings(**changes: Any) -> EmulatorSettings:
    """Apply ``changes`` to the current settings; return the new value."""
    new = current_settings().replace(**changes)
    set_settings(new)
    return new


def on_change(listener: Callable[[EmulatorSettings], None]) -> None:
    """Call ``listener`` with the new settings whenever they change (registered once)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)
