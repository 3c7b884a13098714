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
from airflow_provider_shadowtest.testing.endpoint_traffic import ProductionWindow, endpoint_windows, production_samples
from airflow_provider_shadowtest.testing.instance_metrics import (
    INSTANCE_METRIC_NAMES,
    INSTANCE_NAMESPACE,
    instance_samples,
    published,
)
from airflow_provider_shadowtest.testing.traffic import (
    METRIC_NAMES,
    NAMESPACE,
    TrafficProfile,
    diurnal_rps,
    minute_samples,
    spiked_minute,
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
    #: when production was deployed, for its warm-up (unknown: no warm-up)
    production_deployed_at: datetime | None = None


WindowSource = Callable[[str, str], list[TrafficWindow]]


@dataclass
class _State:
    window_source: WindowSource | None = None
    profiles: Mapping[str, Any] | None = None
    seed: int | None = None
    #: serve the endpoints' own production traffic (read from moto's SageMaker backend)
    endpoints: bool = True


_state = _State()


def install(
    window_source: WindowSource,
    *,
    profiles: Mapping[str, Any] | None = None,
    seed: int | None = None,
    endpoints: bool = True,
) -> None:
    """Serve the traffic of ``window_source(account_id, region)``'s windows from moto's CloudWatch.

    Idempotent; a later call replaces the window source. Also installs :mod:`.cloudwatch_ext`.

    :param profiles: traffic profiles by model name; default: the emulator settings'.
    :param seed: the metrics seed; default: the emulator settings' ``metrics_seed``.
    :param endpoints: also serve every endpoint's production traffic outside experiments (see
        :mod:`.endpoint_traffic`); needs moto's SageMaker.
    """
    _state.window_source, _state.profiles, _state.seed = window_source, profiles, seed
    _state.endpoints = endpoints
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

    :param metric_name: one metric (traffic or instance), or ``None`` for all of :data:`METRIC_NAMES`.
    :param start: the earliest minute timestamp wanted.
    :param end: minute timestamps must be before this.
    :param now: data stops here (default: the current time, as moved by time travel).
    """
    if now is None:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
    names = METRIC_NAMES if metric_name is None else (metric_name,)
    production = window.production
    prod_profile = resolve_profile(production.model_name, window.model_tags.get(production.model_name), profiles)
    shadow_profile = resolve_profile(
        window.shadow.model_name, window.model_tags.get(window.shadow.model_name), profiles
    )
    stream = f"{window.endpoint_name}/{window.experiment_name}"
    samples: list[Sample] = []
    for minute, lo, hi in minute_spans(window.start, min(window.end, now), start, end):
        for variant, profile, deployed in (
            (production, prod_profile, window.production_deployed_at),
            (window.shadow, shadow_profile, window.start),
        ):
            samples.extend(
                variant_samples(
                    VariantSpan(window.endpoint_name, variant.variant_name, stream, variant.share_percent, deployed),
                    profile,
                    prod_profile,
                    names,
                    minute,
                    (lo, hi),
                    seed,
                )
            )
    return samples


@dataclass(frozen=True)
class VariantSpan:
    """Who publishes: the endpoint and variant, the request stream read, the share and deployment."""

    endpoint_name: str
    variant_name: str
    stream: str
    share_percent: float
    deployed_at: datetime | None = None


def minute_spans(
    first: datetime, last: datetime, start: datetime | None = None, end: datetime | None = None
) -> list[tuple[int, float, float]]:
    """The minutes of ``[first, last)`` within ``[start, end)``: ``(minute index, lo seconds, hi seconds)``."""
    if last <= first:
        return []
    low = _minute_index(first)
    if start is not None:
        low = max(low, math.ceil((start - _EPOCH).total_seconds() / 60))
    high = _minute_index(last - timedelta(microseconds=1))
    if end is not None:
        high = min(high, _minute_index(end - timedelta(microseconds=1)))
    spans = []
    for minute in range(low, high + 1):
        minute_start = _EPOCH + timedelta(minutes=minute)
        lo = max(0.0, (first - minute_start).total_seconds())
        hi = min(60.0, (last - minute_start).total_seconds())
        if hi > lo:
            spans.append((minute, lo, hi))
    return spans


def variant_samples(  # noqa: PLR0917 - one variant-minute, all of it
    span: VariantSpan,
    profile: TrafficProfile,
    prod_profile: TrafficProfile,
    names: tuple[str, ...],
    minute: int,
    seconds: tuple[float, float],
    seed: int,
) -> list[Sample]:
    """The samples of ``names`` one variant publishes for (part of) one minute.

    The request rate, its daily swing and the spike minutes are the endpoint's, so they come
    from the production profile; latency, errors, warm-up and instances are the variant's own.
    """
    rps = diurnal_rps(prod_profile, minute)
    spiked = spiked_minute(seed, span.endpoint_name, minute, prod_profile)
    deployed = None if span.deployed_at is None else (span.deployed_at - _EPOCH).total_seconds()
    lo, hi = seconds
    seen = variant_minute(seed, span.stream, minute, rps, span.share_percent, profile, lo, hi, spiked, deployed)
    dimensions = frozenset({("EndpointName", span.endpoint_name), ("VariantName", span.variant_name)})
    minute_start = _EPOCH + timedelta(minutes=minute)
    samples: list[Sample] = []
    for name in names:
        if name in INSTANCE_METRIC_NAMES:
            key = f"{seed}/{span.endpoint_name}/{span.variant_name}/{minute}/{lo}"
            samples.extend(
                instance_samples(
                    name,
                    profile=profile,
                    invocations=round(seen.invocations * 60.0 / (hi - lo)),
                    dimensions=dimensions,
                    timestamp=minute_start,
                    seed_key=key,
                )
            )
        else:
            samples.extend(minute_samples(seen, name, dimensions, minute_start, profile.instance_count))
    return samples


def _minute_index(moment: datetime) -> int:
    return math.floor((moment - _EPOCH).total_seconds() / 60)


@dataclass(frozen=True)
class _Read:
    """What a read of the synthetic metrics depends on, from the emulator settings when it has any."""

    profiles: Mapping[str, Any]
    seed: int
    lag_seconds: float = 0.0
    percentiles: bool = True


def _settings() -> _Read:
    """Read the profiles, seed, lag and percentile switch from the emulator settings, if there are any."""
    name = "airflow_provider_shadowtest.testing.settings"
    try:
        module: Any = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return _Read({}, DEFAULT_SEED)
    current = module.current_settings()
    return _Read(
        current.traffic_profiles or {},
        int(current.metrics_seed),
        float(current.cloudwatch_lag_seconds),
        bool(current.percentiles_available),
    )


def _read() -> _Read:
    configured = _settings()
    profiles = configured.profiles if _state.profiles is None else _state.profiles
    seed = configured.seed if _state.seed is None else _state.seed
    return replace(configured, profiles=profiles, seed=seed)


def _serve(  # noqa: PLR0917 - a cloudwatch_ext.SampleSource
    account_id: str, region: str, namespace: str, metric_name: str, start: datetime, end: datetime
) -> list[Sample]:
    source = _state.window_source
    traffic = namespace == NAMESPACE and metric_name in METRIC_NAMES
    instance = namespace == INSTANCE_NAMESPACE and metric_name in INSTANCE_METRIC_NAMES
    if source is None or not (traffic or instance):
        return []
    read = _read()
    # publication lag: the newest seconds are not visible yet
    now = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=read.lag_seconds)
    samples: list[Sample] = []
    windows = source(account_id, region)
    for window in windows:
        samples.extend(window_samples(window, metric_name, start, end, profiles=read.profiles, seed=read.seed, now=now))
    for production in _endpoint_windows(account_id, region, read.profiles):
        excluded = [(w.start, min(w.end, now)) for w in windows if w.endpoint_name == production.endpoint_name]
        samples.extend(
            production_samples(
                production, excluded, (metric_name,), start, end, profiles=read.profiles, seed=read.seed, now=now
            )
        )
    if not read.percentiles:
        samples = [replace(sample, values=None, percentiles=False) for sample in samples]
    return samples


def _endpoint_windows(account_id: str, region: str, profiles: Mapping[str, Any]) -> list[ProductionWindow]:
    """The endpoints' own production windows, when the endpoint source is on (the emulator's default)."""
    if not _state.endpoints:
        return []
    return endpoint_windows(account_id, region, profiles)


def _list(account_id: str, region: str) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """The metrics of the windows that have data, as CloudWatch lists those of the last 2 weeks."""
    source = _state.window_source
    if source is None:
        return []
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    read = _read()
    listed: list[tuple[str, str, frozenset[tuple[str, str]]]] = []

    def add(endpoint_name: str, variant_name: str, model_name: str, tags: Mapping[str, str] | None) -> None:
        dimensions = frozenset({("EndpointName", endpoint_name), ("VariantName", variant_name)})
        listed.extend((NAMESPACE, name, dimensions) for name in METRIC_NAMES)
        profile = resolve_profile(model_name, tags, read.profiles)
        listed.extend((INSTANCE_NAMESPACE, name, dimensions) for name in published(profile))

    for window in source(account_id, region):
        if min(window.end, now) <= window.start or window.end < now - timedelta(days=14):
            continue
        for variant in (window.production, window.shadow):
            add(
                window.endpoint_name,
                variant.variant_name,
                variant.model_name,
                window.model_tags.get(variant.model_name),
            )
    for production in _endpoint_windows(account_id, region, read.profiles):
        if production.end is None or production.end >= now - timedelta(days=14):
            add(production.endpoint_name, production.variant_name, production.model_name, production.model_tags)
    return sorted(set(listed))
