"""Seeded per-minute evidence like the emulator's traffic: lognormal latency, binomial errors."""

from __future__ import annotations

import datetime as dt
import random

from airflow_provider_shadowtest.verdict.evidence import Evidence, VariantSeries, restrict

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
BASE_5XX = 0.005


def _variant(
    rng: random.Random,
    name: str,
    minutes: int,
    per_minute: int,
    *,
    latency_ms: float,
    error_5xx: float,
    percentiles: bool = True,
) -> VariantSeries:
    start = int(T0.timestamp())
    metrics: dict[str, dict[int, float]] = {}
    for i in range(minutes):
        t = start + 60 * i
        values = sorted(latency_ms * 1000 * rng.lognormvariate(0, 0.35) for _ in range(per_minute))
        counts = {
            "Invocations": per_minute,
            "Invocation4XXErrors": sum(rng.random() < 0.005 for _ in range(per_minute)),
            "Invocation5XXErrors": sum(rng.random() < error_5xx for _ in range(per_minute)),
            "InvocationModelErrors": sum(rng.random() < 0.002 for _ in range(per_minute)),
        }
        for key, value in counts.items():
            metrics.setdefault(key, {})[t] = float(value)
        metrics.setdefault("ModelLatency.Average", {})[t] = sum(values) / len(values)
        metrics.setdefault("OverheadLatency.Average", {})[t] = 2000.0 * rng.lognormvariate(0, 0.05)
        if percentiles:
            for p in (50, 90, 99):
                metrics.setdefault(f"ModelLatency.p{p}", {})[t] = values[min(len(values) - 1, p * len(values) // 100)]
    return VariantSeries(name, metrics)


def make_evidence(
    seed: int = 0,
    *,
    minutes: int = 60,
    per_minute: int = 120,
    share: float = 0.5,
    latency_factor: float = 1.0,
    error_5xx: float = BASE_5XX,
    shadow_percentiles: bool = True,
) -> Evidence:
    """Production at ``per_minute`` requests a minute (40 ms, 0.5 % 5XX); the shadow sees ``share`` of them."""
    rng = random.Random(seed)
    production = _variant(rng, "production", minutes, per_minute, latency_ms=40.0, error_5xx=BASE_5XX)
    shadow = _variant(
        rng,
        "shadow",
        minutes,
        max(1, round(per_minute * share)),
        latency_ms=40.0 * latency_factor,
        error_5xx=error_5xx,
        percentiles=shadow_percentiles,
    )
    window = (T0, T0 + dt.timedelta(minutes=minutes))
    return restrict(production, shadow, 60, window, warmup_seconds=300, lag_seconds=180)
