"""Spread of the emulator's error counts, and its cost, with latencies thinned vs every request simulated.

Above 600 requests a minute the emulator draws latencies for a thinned sample only
(``airflow_provider_shadowtest.testing.traffic.MAX_SIMULATED_PER_MINUTE``); every request still
gets its own outcome draw, so error counts should spread as if every request were simulated. This
script measures both sides in one run, under the same conditions:

- **spread**: an equal candidate at a 50 % share beside production (40 requests/s, 0.5 % 4XX),
  ``--windows`` windows of 7 minutes. Per window the two-proportion z of the shadow's 4XX rate
  against production's, with the pooled (independent-samples) standard error a verdict uses; the
  standard deviation of z over the windows. The shadow reads a subset of production's requests,
  so both sides should be below 1 (conservative) and close to each other; a weighted thinned
  draw would be above 1.
- **cost**: wall time to generate one hour of both variants at ``--rps`` (default 1,000/s), cold
  caches, thinned vs every request simulated.

    python benchmarks/bench_emulator_counts.py [--windows 300] [--rps 1000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from airflow_provider_shadowtest.testing import traffic
from airflow_provider_shadowtest.testing.traffic import TrafficProfile, variant_minute

if TYPE_CHECKING:
    from collections.abc import Iterator

FIRST_MINUTE = 29_000_000  # minutes since the epoch (2025)
PRODUCTION = TrafficProfile(rps=40.0, error_4xx_rate=0.005, error_5xx_rate=0.002, model_error_rate=0.001)
CANDIDATE = TrafficProfile(
    rps=40.0, latency_ms=30.0, error_4xx_rate=0.005, error_5xx_rate=0.002, model_error_rate=0.001
)


@contextmanager
def simulated_per_minute(limit: int) -> Iterator[None]:
    """Set the thinning limit for the block, with cold caches on both sides."""
    saved = traffic.MAX_SIMULATED_PER_MINUTE
    traffic.MAX_SIMULATED_PER_MINUTE = limit
    for cached in (traffic.minute_requests, traffic.minute_outcomes, traffic.variant_minute):
        cached.cache_clear()
    try:
        yield
    finally:
        traffic.MAX_SIMULATED_PER_MINUTE = saved


def z_spread(windows: int, minutes: int = 7) -> float:
    """Standard deviation over ``windows`` of the shadow-vs-production 4XX z (pooled standard error)."""
    zs = []
    for window in range(windows):
        prod_n = prod_e = shadow_n = shadow_e = 0
        for minute in range(FIRST_MINUTE + window * minutes, FIRST_MINUTE + (window + 1) * minutes):
            prod = variant_minute(1, "ep/exp", minute, 40.0, 100.0, PRODUCTION)
            shadow = variant_minute(1, "ep/exp", minute, 40.0, 50.0, CANDIDATE)
            prod_n, prod_e = prod_n + prod.invocations, prod_e + prod.errors_4xx
            shadow_n, shadow_e = shadow_n + shadow.invocations, shadow_e + shadow.errors_4xx
        pooled = (prod_e + shadow_e) / (prod_n + shadow_n)
        se = math.sqrt(pooled * (1 - pooled) * (1 / prod_n + 1 / shadow_n))
        zs.append((shadow_e / shadow_n - prod_e / prod_n) / se)
    return statistics.pstdev(zs)


def hour_seconds(rps: float) -> float:
    """Wall time to generate one hour of production and a 50 % shadow at ``rps``."""
    profile = TrafficProfile(rps=rps, error_4xx_rate=0.01)
    started = time.perf_counter()
    for minute in range(FIRST_MINUTE, FIRST_MINUTE + 60):
        variant_minute(1, "ep/cost", minute, rps, 100.0, profile)
        variant_minute(1, "ep/cost", minute, rps, 50.0, profile)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=300)
    parser.add_argument("--rps", type=float, default=1000.0)
    args = parser.parse_args()
    thinned_limit = traffic.MAX_SIMULATED_PER_MINUTE
    full_limit = int(max(args.rps, 40.0) * 60 * 2)  # well above any Poisson draw at that rate
    rows = []
    for label, limit in (("thinned latencies", thinned_limit), ("every request simulated", full_limit)):
        with simulated_per_minute(limit):
            spread = z_spread(args.windows)
        with simulated_per_minute(limit):
            seconds = hour_seconds(args.rps)
        rows.append((label, spread, seconds))
    print(f"equal candidate, 40 requests/s, 50 % share, {args.windows} windows of 7 minutes;")
    print(f"cost: one hour of both variants at {args.rps:,.0f} requests/s, cold caches")
    print(f"{'simulation':<26}{'sd of 4XX z':>12}{'cost [s]':>10}")
    for label, spread, seconds in rows:
        print(f"{label:<26}{spread:>12.2f}{seconds:>10.2f}")
    (_, thin_sd, thin_s), (_, full_sd, full_s) = rows
    print(f"spread ratio thinned/full: {thin_sd / full_sd:.2f}; cost ratio full/thinned: {full_s / thin_s:.1f}x")


if __name__ == "__main__":
    main()
