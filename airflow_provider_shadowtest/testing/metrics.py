"""Per-variant CloudWatch metrics of running shadow tests, served from moto's CloudWatch.

While an inference experiment runs, both variants publish, in namespace ``AWS/SageMaker``
with dimensions ``EndpointName`` and ``VariantName`` at 1-minute resolution:
``Invocations``, ``InvocationsPerInstance``, ``ModelLatency`` and ``OverheadLatency``
(microseconds), ``Invocation4XXErrors``, ``Invocation5XXErrors``, ``InvocationModelErrors``.
The data is simulated (see :mod:`.traffic`) when CloudWatch is queried, deterministically from
the seed, the experiment and the minute, so reads are reproducible and follow time travel.

Each model's :class:`TrafficProfile` is layered, later wins:

1. the defaults of :class:`TrafficProfile`;
2. emulator settings ``traffic_profiles``: model name (or ``"*"`` for every model) to a
   :class:`TrafficProfile` or a dict of some of its fields;
3. the SageMaker model's tags, see :data:`TAG_FIELDS`: ``shadowtest:latency-ms=80`` on the
   candidate model makes it twice as slow as the default production model. Rates take a
   fraction (``0.02``) or a percentage (``2%``). Unparsable tag values are ignored.
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.testing import cloudwatch_ext
from airflow_provider_shadowtest.testing.traffic import (
    METRIC_NAMES,
    NAMESPACE,
    TrafficProfile,
    minute_samples,
    variant_minute,
)

if TYPE_CHECKING:
    from airflow_provider_shadowtest.testing.cw_stats import Sample

__all__ = [
    "DEFAULT_SEED",
    "METRIC_NAMES",
    "NAMESPACE",
    "TAG_FIELDS",
    "TrafficProfile",
    "TrafficWindow",
    "VariantTraffic",
    "install",
    "resolve_profile",
    "window_samples",
]

log = logging.getLogger(__name__)

DEFAULT_SEED = 0
SOURCE_NAME = "shadowtest-traffic"

#: SageMaker model tag key -> :class:`TrafficProfile` field it sets.
TAG_FIELDS: Mapping[str, str] = {
    "shadowtest:rps": "rps",
    "shadowtest:latency-ms": "latency_ms",
    "shadowtest:latency-spread": "latency_spread",
    "shadowtest:overhead-ms": "overhead_ms",
    "shadowtest:error-rate": "error_5xx_rate",
    "shadowtest:4xx-rate": "error_4xx_rate",
    "shadowtest:model-error-rate": "model_error_rate",
}
_RATE_FIELDS = frozenset({"error_4xx_rate", "error_5xx_rate", "model_error_rate"})
_EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class VariantTraffic:
    """A variant of the experiment: production has ``share_percent`` 100, shadow its SamplingPercentage."""

    variant_name: str
    model_name: str
    share_percent: float


@dataclass(frozen=True)
class TrafficWindow:
    """The time an experiment has run (naive UTC); ``end`` is its end, stop time, or now while running."""

    endpoint_name: str
    experiment_name: str
    start: datetime
    end: datetime
    production: VariantTraffic
    shadow: VariantTraffic
    model_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


WindowSource = Callable[[str, str], list[TrafficWindow]]


@dataclass
class _State:
    window_source: WindowSource | None = None
    profiles: Mapping[str, Any] | None = None
    seed: int | None = None


_state = _State()


def install(
    window_source: WindowSource,
    *,
    profiles: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> None:
    """Serve the traffic of ``window_source(account_id, region)``'s windows from moto's CloudWatch.

    Idempotent; a later call replaces the window source. Also installs :mod:`.cloudwatch_ext`.

    :param profiles: traffic profiles by model name; default: the emulator settings'.
    :param seed: the metrics seed; default: the emulator settings' ``metrics_seed``.
    """
    _state.window_source, _state.profiles, _state.seed = window_source, profiles, seed
    cloudwatch_ext.install()
    cloudwatch_ext.register_source(SOURCE_NAME, _serve, _list)


def profile_from_mapping(values: Mapping[str, Any], base: TrafficProfile | None = None) -> TrafficProfile:
    """Return ``base`` with the fields in ``values`` replaced; raise ``ValueError`` on unknown fields."""
    known = {f.name for f in fields(TrafficProfile)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown traffic profile fields {unknown}; known: {sorted(known)}")
    return replace(base or TrafficProfile(), **values)


def profile_from_tags(tags: Mapping[str, str], base: TrafficProfile | None = None) -> TrafficProfile:
    """Return ``base`` with the fields set by ``shadowtest:`` tags (see :data:`TAG_FIELDS`)."""
    profile = base or TrafficProfile()
    for key, name in TAG_FIELDS.items():
        if key not in tags:
            continue
        text = tags[key].strip()
        try:
            value: float = float(text.rstrip("%")) / 100 if text.endswith("%") else float(text)
            if not math.isfinite(value):
                raise ValueError(text)
            changes: dict[str, Any] = {name: value}
            profile = replace(profile, **changes)
        except ValueError as error:
            log.warning("ignoring tag %s=%r: %s", key, tags[key], error)
    return profile


def resolve_profile(
    model_name: str,
    tags: Mapping[str, str] | None = None,
    profiles: Mapping[str, Any] | None = None,
) -> TrafficProfile:
    """Return a model's profile: defaults, then ``profiles["*"]``, ``profiles[model_name]``, then tags."""
    profile = TrafficProfile()
    for key in ("*", model_name):
        configured = (profiles or {}).get(key)
        if isinstance(configured, TrafficProfile):
            profile = configured
        elif isinstance(configured, Mapping):
            profile = profile_from_mapping(configured, profile)
        elif configured is not None:
            raise TypeError(f"traffic profile for {key!r} must be a TrafficProfile or a mapping")
    return profile_from_tags(tags or {}, profile)


def window_samples(
    window: TrafficWindow,
    metric_name: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    profiles: Mapping[str, Any] | None = None,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
) -> list[Sample]:
    """Return the per-minute samples of both variants of ``window`` (naive UTC throughout).

    :param metric_name: one metric, or ``None`` for all of :data:`METRIC_NAMES`.
    :param start: the earliest minute timestamp wanted.
    :param end: minute timestamps must be before this.
    :param now: data stops here (default: the current time, as moved by time travel).
    """
    if now is None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
    window_end = min(window.end, now)
    if window_end <= window.start:
        return []
    first = _minute_index(window.start)
    if start is not None:
        first = max(first, math.ceil((start - _EPOCH).total_seconds() / 60))
    last = _minute_index(window_end - timedelta(microseconds=1))
    if end is not None:
        last = min(last, _minute_index(end - timedelta(microseconds=1)))
    names = METRIC_NAMES if metric_name is None else (metric_name,)
    production = window.production
    prod_profile = resolve_profile(production.model_name, window.model_tags.get(production.model_name), profiles)
    stream = f"{window.endpoint_name}/{window.experiment_name}"
    samples: list[Sample] = []
    for minute in range(first, last + 1):
        minute_start = _EPOCH + timedelta(minutes=minute)
        lo = max(0.0, (window.start - minute_start).total_seconds())
        hi = min(60.0, (window_end - minute_start).total_seconds())
        for variant in (window.production, window.shadow):
            profile = (
                prod_profile
                if variant is production
                else resolve_profile(variant.model_name, window.model_tags.get(variant.model_name), profiles)
            )
            seen = variant_minute(seed, stream, minute, prod_profile.rps, variant.share_percent, profile, lo, hi)
            dimensions = frozenset({("EndpointName", window.endpoint_name), ("VariantName", variant.variant_name)})
            for name in names:
                samples.extend(minute_samples(seen, name, dimensions, minute_start, profile.instance_count))
    return samples


def _minute_index(moment: datetime) -> int:
    return math.floor((moment - _EPOCH).total_seconds() / 60)


def _settings() -> tuple[Mapping[str, Any], int]:
    """Read ``traffic_profiles`` and ``metrics_seed`` from the emulator settings, if there are any."""
    name = "airflow_provider_shadowtest.testing.settings"
    try:
        module: Any = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return {}, DEFAULT_SEED
    current = module.current_settings()
    return current.traffic_profiles or {}, int(current.metrics_seed)


def _serve(  # noqa: PLR0917 - a cloudwatch_ext.SampleSource
    account_id: str, region: str, namespace: str, metric_name: str, start: datetime, end: datetime
) -> list[Sample]:
    source = _state.window_source
    if source is None or namespace != NAMESPACE or metric_name not in METRIC_NAMES:
        return []
    profiles, seed = _state.profiles, _state.seed
    if profiles is None or seed is None:
        configured_profiles, configured_seed = _settings()
        profiles = configured_profiles if profiles is None else profiles
        seed = configured_seed if seed is None else seed
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    samples: list[Sample] = []
    for window in source(account_id, region):
        samples.extend(window_samples(window, metric_name, start, end, profiles=profiles, seed=seed, now=now))
    return samples


def _list(account_id: str, region: str) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """The metrics of the windows that have data, as CloudWatch lists those of the last 2 weeks."""
    source = _state.window_source
    if source is None:
        return []
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    listed: list[tuple[str, str, frozenset[tuple[str, str]]]] = []
    for window in source(account_id, region):
        if min(window.end, now) <= window.start or window.end < now - timedelta(days=14):
            continue
        for variant in (window.production, window.shadow):
            dimensions = frozenset({("EndpointName", window.endpoint_name), ("VariantName", variant.variant_name)})
            listed.extend((NAMESPACE, name, dimensions) for name in METRIC_NAMES)
    return listed
