"""Seeded simulated inference traffic, aggregated into per-minute CloudWatch samples (pure).

The endpoint's request stream is simulated once per absolute UTC minute, seeded by
``(seed, stream, minute)``: arrival times (a Poisson process at the production model's
``rps``), a sampling draw, an outcome draw and two standard-normal latency draws per request.
Every variant reads the *same* requests with its own profile (common random numbers): the
shadow variant sees the requests whose sampling draw falls under its share, so an equal
candidate gives near-equal metrics and a slower or more error-prone one differs clearly.

Nothing is stored: a minute is generated when read, so time travel works, and both levels are
cached (bounded LRU), so repeated reads are cheap and a long experiment queried for an hour
only generates that hour. Above :data:`MAX_SIMULATED_PER_MINUTE` requests a minute, latencies
are drawn for a thinned sample of the requests only (percentiles come from the sample), while
every other request still gets its own arrival, sampling and outcome draw
(:func:`minute_outcomes`, vectorized): invocation and error counts are those of the full
stream, binomial as a real endpoint's are, not one draw multiplied. A verdict's confidence
intervals assume exactly that; weighting one draw by the thinning factor would widen the counts'
spread by that factor and make equal models differ by chance. Per minute, latencies keep exact
count, sum, minimum and maximum and a :data:`SKETCH_SIZE`-point quantile sketch, so a cached
minute stays small.

Realism, all seeded and off unless a profile sets it: the production profile's daily curve
moves the request rate (:func:`diurnal_rps`) and its spike minutes, drawn once per endpoint
(:func:`spiked_minute`), slow every variant in the same minutes; each variant's own warm-up
slows its first minutes after deployment.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from airflow_provider_shadowtest.testing.cw_stats import Sample

if TYPE_CHECKING:
    from datetime import datetime

    import numpy as np
    from numpy.typing import NDArray

#: Requests per minute above which latencies are drawn for a thinned sample only.
MAX_SIMULATED_PER_MINUTE = 600

NAMESPACE = "AWS/SageMaker"
INVOCATIONS = "Invocations"
INVOCATIONS_PER_INSTANCE = "InvocationsPerInstance"
MODEL_LATENCY = "ModelLatency"
OVERHEAD_LATENCY = "OverheadLatency"
ERRORS_4XX = "Invocation4XXErrors"
ERRORS_5XX = "Invocation5XXErrors"
MODEL_ERRORS = "InvocationModelErrors"
METRIC_NAMES = (
    INVOCATIONS,
    INVOCATIONS_PER_INSTANCE,
    MODEL_LATENCY,
    OVERHEAD_LATENCY,
    ERRORS_4XX,
    ERRORS_5XX,
    MODEL_ERRORS,
)

#: Latency values kept per variant-minute for percentiles.
SKETCH_SIZE = 100

# (offset in the minute [s], sampling draw, outcome draw, model-latency z, overhead-latency z)
_Request = tuple[float, float, float, float, float]
_Values = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class TrafficProfile:
    """How one model behaves under simulated traffic.

    :param rps: requests per second reaching the endpoint; only the production model's value
        counts (the shadow variant receives its sampling share of that stream).
    :param latency_ms: median ``ModelLatency`` in milliseconds (lognormal).
    :param latency_spread: standard deviation of ``ln(ModelLatency)``; 0 gives a constant latency.
    :param overhead_ms: median ``OverheadLatency`` in milliseconds (lognormal).
    :param overhead_spread: standard deviation of ``ln(OverheadLatency)``.
    :param error_4xx_rate: fraction of requests answered 4XX (no model latency recorded).
    :param error_5xx_rate: fraction of requests answered 5XX.
    :param model_error_rate: fraction of requests counted in ``InvocationModelErrors``.
    :param instance_count: instances behind the variant, for ``InvocationsPerInstance`` and the
        instance metrics.
    :param warmup_seconds: after the variant's deployment its model latency is raised for this
        long (0: no warm-up), easing linearly from ``warmup_latency_factor`` to 1.
    :param warmup_latency_factor: latency multiplier right at deployment.
    :param diurnal_amplitude: the request rate swings by this fraction around ``rps`` over the
        UTC day, highest at ``diurnal_peak_hour_utc`` (0: flat). Production's value counts.
    :param diurnal_peak_hour_utc: hour of the day (UTC) of the highest request rate.
    :param spike_minute_rate: share of minutes with a latency spike; the endpoint's minutes are
        drawn once, so a spike hits production and shadow in the same minutes. Production's
        value counts.
    :param spike_latency_factor: latency multiplier during a spike minute (each variant's own).
    :param idle_cpu_percent: ``CPUUtilization`` of an idle instance.
    :param cpu_percent_per_rps: extra ``CPUUtilization`` per request a second on one instance.
    :param memory_percent: ``MemoryUtilization`` of an idle instance (load adds a little).
    :param disk_percent: ``DiskUtilization``.
    :param gpu_count: GPUs per instance; above 0 the variant also publishes ``GPUUtilization``
        and ``GPUMemoryUtilization``.
    """

    rps: float = 5.0
    latency_ms: float = 40.0
    latency_spread: float = 0.35
    overhead_ms: float = 2.0
    overhead_spread: float = 0.25
    error_4xx_rate: float = 0.0
    error_5xx_rate: float = 0.0
    model_error_rate: float = 0.0
    instance_count: int = 1
    warmup_seconds: float = 0.0
    warmup_latency_factor: float = 2.0
    diurnal_amplitude: float = 0.0
    diurnal_peak_hour_utc: float = 15.0
    spike_minute_rate: float = 0.0
    spike_latency_factor: float = 3.0
    idle_cpu_percent: float = 4.0
    cpu_percent_per_rps: float = 6.0
    memory_percent: float = 35.0
    disk_percent: float = 12.0
    gpu_count: int = 0

    def __post_init__(self) -> None:
        non_negative = (
            "rps",
            "latency_ms",
            "latency_spread",
            "overhead_ms",
            "overhead_spread",
            "warmup_seconds",
            "idle_cpu_percent",
            "cpu_percent_per_rps",
            "memory_percent",
            "disk_percent",
        )
        problems = [
            f"{name} must not be negative"
            for name in non_negative
            if not getattr(self, name) >= 0  # also rejects NaN
        ]
        problems += [
            f"{name} must be at least 1"
            for name in ("warmup_latency_factor", "spike_latency_factor")
            if not getattr(self, name) >= 1
        ]
        problems += [
            f"{name} must be between 0 and 1"
            for name in ("diurnal_amplitude", "spike_minute_rate")
            if not 0 <= getattr(self, name) <= 1
        ]
        if not 0 <= self.diurnal_peak_hour_utc < 24:
            problems.append("diurnal_peak_hour_utc must be within 0..24")
        if self.gpu_count < 0:
            problems.append("gpu_count must not be negative")
        rates = ("error_4xx_rate", "error_5xx_rate", "model_error_rate")
        problems += [f"{name} must be between 0 and 1" for name in rates if not 0 <= getattr(self, name) <= 1]
        if sum(getattr(self, name) for name in rates) > 1:
            problems.append("the error rates must not add up to more than 1")
        if self.instance_count < 1:
            problems.append("instance_count must be at least 1")
        if problems:
            raise ValueError("invalid traffic profile: " + "; ".join(problems))


@dataclass(frozen=True)
class Latencies:
    """The latencies of one variant-minute: exact count, sum and extremes, plus a quantile sketch.

    ``sketch`` holds the sorted values, or above :data:`SKETCH_SIZE` of them that many
    mid-quantiles, each standing for ``count / len(sketch)`` requests: that bounds the memory a
    cached minute takes.
    """

    count: int
    total: float
    minimum: float
    maximum: float
    sketch: tuple[float, ...]

    @classmethod
    def of(cls, raw: list[float], weight: float) -> Latencies | None:
        """Summarize ``raw`` (each standing for ``weight`` requests); ``None`` when empty."""
        if not raw:
            return None
        raw.sort()
        size, mean = len(raw), sum(raw) / len(raw)
        sketch = raw
        if size > SKETCH_SIZE:
            sketch = [raw[(2 * i + 1) * size // (2 * SKETCH_SIZE)] for i in range(SKETCH_SIZE)]
        count = max(1, round(size * weight))
        return cls(count, mean * count, raw[0], raw[-1], tuple(sketch))


@dataclass(frozen=True)
class VariantMinute:
    """What one variant saw within one minute (counts already weighted)."""

    invocations: int
    errors_4xx: int
    errors_5xx: int
    model_errors: int
    model_latency_us: Latencies | None
    overhead_latency_us: Latencies | None


def diurnal_rps(profile: TrafficProfile, minute: int) -> float:
    """The request rate of ``profile`` in an absolute minute, after the daily swing."""
    if profile.diurnal_amplitude <= 0:
        return profile.rps
    hour = (minute % 1440) / 60.0
    swing = math.cos(2 * math.pi * (hour - profile.diurnal_peak_hour_utc) / 24.0)
    return profile.rps * (1.0 + profile.diurnal_amplitude * swing)


def spiked_minute(seed: int, endpoint_name: str, minute: int, profile: TrafficProfile) -> bool:
    """True when the endpoint has a latency spike in this minute (the same minutes for every variant)."""
    if profile.spike_minute_rate <= 0:
        return False
    draw = random.Random(f"shadowtest-spike/{seed}/{endpoint_name}/{minute}").random()
    return draw < profile.spike_minute_rate


def _warmup(profile: TrafficProfile, seconds_since_deployment: float) -> float:
    if profile.warmup_seconds <= 0 or seconds_since_deployment >= profile.warmup_seconds:
        return 1.0
    remaining = 1.0 - max(0.0, seconds_since_deployment) / profile.warmup_seconds
    return 1.0 + (profile.warmup_latency_factor - 1.0) * remaining


def _sampled_rps(rps: float) -> float:
    """The request rate simulated request by request (with latencies): at most the thinning limit."""
    return min(rps, MAX_SIMULATED_PER_MINUTE / 60.0)


@lru_cache(maxsize=256)
def minute_requests(seed: int, stream: str, minute: int, rps: float) -> tuple[float, tuple[_Request, ...]]:
    """Simulate the endpoint's requests of one absolute minute; return ``(weight, requests)``.

    :param minute: minutes since the Unix epoch (UTC).
    """
    rate = _sampled_rps(rps)
    if rate <= 0:
        return 1.0, ()
    rng = random.Random(f"shadowtest/{seed}/{stream}/{minute}")
    requests: list[_Request] = []
    offset = rng.expovariate(rate)
    while offset < 60.0:
        requests.append((offset, rng.random(), rng.random(), rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)))
        offset += rng.expovariate(rate)
    return rps / rate, tuple(requests)


@dataclass(frozen=True)
class Outcomes:
    """The requests of a minute beyond the thinned sample: arrival offset, sampling and outcome draws.

    Arrays of equal length (numpy ``float64``); latencies are not drawn for these requests.
    """

    offsets: NDArray[np.float64]
    sampling: NDArray[np.float64]
    outcome: NDArray[np.float64]

    def tally(
        self, lo_seconds: float, hi_seconds: float, share_percent: float, bounds: tuple[float, float, float]
    ) -> tuple[int, int, int, int]:
        """Count ``(requests, 4XX, 5XX, model errors)`` in ``[lo, hi)`` under the share.

        :param bounds: cumulative outcome bounds ``(p4, p4 + p5, p4 + p5 + pm)``.
        """
        import numpy as np

        keep = (self.offsets >= lo_seconds) & (self.offsets < hi_seconds) & (self.sampling * 100.0 < share_percent)
        below = np.searchsorted(np.sort(self.outcome[keep]), bounds)
        n4, n45, n45m = (int(v) for v in below)
        return int(np.count_nonzero(keep)), n4, n45 - n4, n45m - n45


@lru_cache(maxsize=256)
def minute_outcomes(seed: int, stream: str, minute: int, rps: float) -> Outcomes | None:
    """The requests of an absolute minute that :func:`minute_requests` thinned out; None when none were.

    A Poisson number at ``rps`` less the thinned rate, each with its own uniform arrival,
    sampling and outcome draw, seeded by ``(seed, stream, minute)``.
    """
    rate = _sampled_rps(rps)
    if rps <= rate:
        return None
    import numpy as np

    digest = hashlib.sha256(f"shadowtest-outcomes/{seed}/{stream}/{minute}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    count = int(rng.poisson((rps - rate) * 60.0))
    draws = rng.random((3, count))
    return Outcomes(offsets=draws[0] * 60.0, sampling=draws[1], outcome=draws[2])


@lru_cache(maxsize=32768)
def variant_minute(  # noqa: PLR0917 - positional: a cheap lru_cache key
    seed: int,
    stream: str,
    minute: int,
    rps: float,
    share_percent: float,
    profile: TrafficProfile,
    lo_seconds: float = 0.0,
    hi_seconds: float = 60.0,
    spiked: bool = False,
    deployed_at_seconds: float | None = None,
) -> VariantMinute:
    """Return what a variant with ``profile`` and ``share_percent`` of the stream saw in a minute.

    Only requests with an offset in ``[lo_seconds, hi_seconds)`` count (the window's part of it).

    :param spiked: the minute is a latency spike (``profile.spike_latency_factor`` applies).
    :param deployed_at_seconds: the variant's deployment (Unix seconds), for the warm-up.
    """
    weight, requests = minute_requests(seed, stream, minute, rps)
    p4 = profile.error_4xx_rate
    p5 = p4 + profile.error_5xx_rate
    pm = p5 + profile.model_error_rate
    latency_us, overhead_us = profile.latency_ms * 1000.0, profile.overhead_ms * 1000.0
    if spiked:
        latency_us *= profile.spike_latency_factor
    warming = deployed_at_seconds is not None and profile.warmup_seconds > 0
    minute_seconds = minute * 60.0
    count = e4 = e5 = em = 0
    model: list[float] = []
    overhead: list[float] = []
    for offset, sampling, outcome, z_model, z_overhead in requests:
        if not lo_seconds <= offset < hi_seconds or sampling * 100.0 >= share_percent:
            continue
        count += 1
        overhead.append(overhead_us * math.exp(profile.overhead_spread * z_overhead))
        if outcome < p4:
            e4 += 1
            continue
        factor = _warmup(profile, minute_seconds + offset - deployed_at_seconds) if warming else 1.0  # type: ignore[operator]
        model.append(latency_us * factor * math.exp(profile.latency_spread * z_model))
        if outcome < p5:
            e5 += 1
        elif outcome < pm:
            em += 1
    rest = minute_outcomes(seed, stream, minute, rps) if weight > 1 else None
    if rest is not None:
        n, n4, n5, nm = rest.tally(lo_seconds, hi_seconds, share_percent, (p4, p5, pm))
        count, e4, e5, em = count + n, e4 + n4, e5 + n5, em + nm
    # Each latency drawn stands for its share of the requests that have one.
    model_weight = (count - e4) / len(model) if model else 1.0
    overhead_weight = count / len(overhead) if overhead else 1.0
    return VariantMinute(
        invocations=count,
        errors_4xx=e4,
        errors_5xx=e5,
        model_errors=em,
        model_latency_us=Latencies.of(model, model_weight),
        overhead_latency_us=Latencies.of(overhead, overhead_weight),
    )


def minute_samples(
    seen: VariantMinute,
    metric_name: str,
    dimensions: frozenset[tuple[str, str]],
    timestamp: datetime,
    instance_count: int = 1,
) -> list[Sample]:
    """Return the sample of ``metric_name`` for one variant-minute (none if it saw no requests)."""
    n = seen.invocations
    if n == 0:
        return []

    def sample(unit: str, count: float, total: float, *, low: float, high: float, values: _Values) -> list[Sample]:
        return [Sample(NAMESPACE, metric_name, dimensions, timestamp, unit, count, total, low, high, values)]

    if metric_name == INVOCATIONS:
        return sample("None", n, n, low=1.0, high=1.0, values=((1.0, n),))
    if metric_name == INVOCATIONS_PER_INSTANCE:
        share = 1.0 / instance_count
        return sample("None", n, n * share, low=share, high=share, values=((share, n),))
    latencies = {MODEL_LATENCY: seen.model_latency_us, OVERHEAD_LATENCY: seen.overhead_latency_us}
    if metric_name in latencies:
        summary = latencies[metric_name]
        if summary is None:
            return []
        weight = summary.count / len(summary.sketch)
        values = tuple((value, weight) for value in summary.sketch)
        low, high = summary.minimum, summary.maximum
        return sample("Microseconds", summary.count, summary.total, low=low, high=high, values=values)
    hits = {ERRORS_4XX: seen.errors_4xx, ERRORS_5XX: seen.errors_5xx, MODEL_ERRORS: seen.model_errors}
    if metric_name in hits:
        # SageMaker sends 1 per failing request and 0 otherwise: Average is the error rate.
        k = hits[metric_name]
        low, high = (0.0 if k < n else 1.0), (1.0 if k else 0.0)
        return sample("None", n, k, low=low, high=high, values=((0.0, n - k), (1.0, k)))
    return []
