"""Synthetic per-minute series shaped like CloudWatch's (shared by report tests and the benchmark)."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def synthetic_series(minutes: int, requests_per_second: float = 5.0, seed: int = 7) -> dict[str, Any]:
    """Both variants' per-minute metrics: a diurnal load, lognormal latency noise, rare errors, a warm-up."""
    rng = random.Random(seed)
    series: dict[str, Any] = {}
    # The shadow variant sees a 50 % sample of production's requests.
    for role, share, latency_us, error_rate in (("production", 1.0, 40_000.0, 0.002), ("shadow", 0.5, 37_000.0, 0.003)):
        metrics: dict[str, list[list[Any]]] = {}
        for minute in range(minutes):
            at = iso(START + dt.timedelta(minutes=minute))
            load = share * requests_per_second * 60 * (1 + 0.4 * math.sin(2 * math.pi * minute / 1440))
            invocations = max(1, round(rng.gauss(load, math.sqrt(load))))
            warm = 1.6 if minute < 5 else 1.0
            p50 = latency_us * warm * math.exp(rng.gauss(0, 0.08))
            values = {
                "ModelLatency.p50": p50,
                "ModelLatency.p90": p50 * 1.5,
                "ModelLatency.p99": p50 * 2.3 * math.exp(rng.gauss(0, 0.1)),
                "ModelLatency.average": p50 * 1.15,
                "OverheadLatency": rng.uniform(1_500, 4_000),
                "Invocations": invocations,
                "Invocation4XXErrors": sum(rng.random() < 0.001 for _ in range(invocations)),
                "Invocation5XXErrors": sum(rng.random() < error_rate for _ in range(invocations)),
                "InvocationModelErrors": 0,
                "CPUUtilization": 15 + 20 * load / 420 + rng.uniform(-2, 2),
                "MemoryUtilization": 38 + rng.uniform(-1, 1),
            }
            for key, value in values.items():
                metrics.setdefault(key, []).append([at, round(value, 2)])
        series[role] = metrics
    return series


def _interval(estimate: float, low: float, high: float) -> dict[str, Any]:
    return {"estimate": estimate, "low": low, "high": high, "confidence_percent": 95.0, "method": "test", "n": 300}


def synthetic_verdict(minutes: int, **series_kwargs: Any) -> dict[str, Any]:
    """A verdict in the statistical judge's JSON shape; its series include the warm-up and the lag."""
    warmup_seconds, lag_seconds = 300.0, 180.0
    start = START + dt.timedelta(seconds=warmup_seconds)
    end = START + dt.timedelta(minutes=minutes) - dt.timedelta(seconds=lag_seconds)
    return {
        "decision": "PROMOTE",
        "reasons": ["every critical check shows any regression within its allowed increase at 95 % confidence"],
        "notes": ["ModelLatency.p90 was not checked"],
        "confidence_percent": 95.0,
        "experiment_name": "fraud-model-v7-shadow",
        "endpoint_name": "fraud-scoring",
        "variants": {"production": "production-v6", "shadow": "shadow-v7"},
        "window": {
            "start": iso(start),
            "end": iso(end),
            "period_seconds": 60,
            "warmup_seconds": warmup_seconds,
            "lag_seconds": lag_seconds,
            "judged_seconds": (end - start).total_seconds(),
        },
        "checks": [
            {
                "name": "latency_p99",
                "label": "Model latency p99",
                "outcome": "within",
                "critical": True,
                "must_have_data": True,
                "metric": "ModelLatency.p99",
                "unit": "ms",
                "production": 92.117,
                "shadow": 85.402,
                "change": -7.29,
                "interval": _interval(-7.29, -9.8, -4.6),
                "allowed_increase": 10.0,
                "allowed_increase_unit": "percent",
                "reason": "upper bound -4.6 % below +10 %",
            },
            {
                "name": "error_rate_5xx",
                "label": "5XX error rate",
                "outcome": "within",
                "critical": True,
                "must_have_data": True,
                "metric": "Invocation5XXErrors",
                "unit": "percent",
                "production": 0.2,
                "shadow": 0.31,
                "change": 0.11,
                "interval": _interval(0.11, -0.05, 0.27),
                "allowed_increase": 0.5,
                "allowed_increase_unit": "percentage_points",
                "reason": "upper bound +0.27 pp below +0.5 pp",
            },
        ],
        "sequential": {"look": 3, "planned_looks": 6, "decided_early": True, "instance_hours_saved": 1.5},
        "looks": [{"at": iso(START + dt.timedelta(minutes=minutes // 2)), "decision": "INCONCLUSIVE"}],
        "decided_at": iso(end - dt.timedelta(minutes=1)),
        "series": synthetic_series(minutes, **series_kwargs),
    }
