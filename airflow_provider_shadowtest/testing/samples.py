"""One variant's samples for (part of) one minute: traffic metrics and instance metrics (pure).

The building block of :mod:`.metrics` (experiment windows) and :mod:`.endpoint_traffic` (an
endpoint's own production traffic): which minutes a span of time touches, and what a variant
publishes for each, with the endpoint's request rate, daily curve and spike minutes taken from
the production profile and latency, errors, warm-up and instances from the variant's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from airflow_provider_shadowtest.testing.instance_metrics import INSTANCE_METRIC_NAMES, instance_samples
from airflow_provider_shadowtest.testing.traffic import diurnal_rps, minute_samples, spiked_minute, variant_minute

if TYPE_CHECKING:
    from airflow_provider_shadowtest.testing.cw_stats import Sample
    from airflow_provider_shadowtest.testing.traffic import TrafficProfile

_EPOCH = datetime(1970, 1, 1)


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
