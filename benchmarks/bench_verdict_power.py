"""Decision rates of the fixed-threshold judge and the statistical judge, side by side, over many seeds.

Traffic follows the emulator's model (``airflow_provider_shadowtest.testing.traffic``): Poisson
arrivals at the production rate, the shadow variant sees the requests whose sampling draw falls
under its share, each request has one outcome draw (4XX, 5XX, model error or success, by the
profile's rates) and lognormal ``ModelLatency`` (median 40 ms, spread 0.35) and
``OverheadLatency``. With ``--draws independent`` (default) the shadow has its own draws (two
models answer the same request with their own noise: the harder, realistic case); ``--draws
shared`` reads the same draws for both variants, as the emulator does (common random numbers:
at a 100 % share an equal candidate is then identical to production, and a +10 % one is exactly
at the allowance with no noise at all). Production has non-zero baseline error rates.

Per window the per-minute series CloudWatch would return are built and judged by
``verdict.judge.judge`` (new) and ``verdict.evaluate.evaluate`` (old, whole-window point
estimates against fixed thresholds), both with the default thresholds. The continuous part judges
the same traffic every ``check_interval`` with ``verdict.sequential.look``.

    python benchmarks/bench_verdict_power.py [--quick] [--seeds 200] [--draws shared|independent] [--share 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from typing import Any

import numpy as np

from airflow_provider_shadowtest.testing.traffic import TrafficProfile
from airflow_provider_shadowtest.verdict import Decision, VariantMetrics, evaluate
from airflow_provider_shadowtest.verdict.evidence import VariantSeries, restrict
from airflow_provider_shadowtest.verdict.judge import judge
from airflow_provider_shadowtest.verdict.sequential import SequentialPlan, look
from airflow_provider_shadowtest.verdict.settings import settings_from_thresholds

T0 = 1_900_000_020  # a whole minute (epoch seconds)
#: The shadow's SamplingPercentage; 100 as AWS recommends before promoting (``--share`` changes it).
SHARE_PERCENT = 100.0
PRODUCTION = TrafficProfile(error_4xx_rate=0.005, error_5xx_rate=0.005, model_error_rate=0.002)
CASES: dict[str, tuple[TrafficProfile, bool]] = {  # name -> (candidate, is worse)
    "equal": (PRODUCTION, False),
    "+25% latency": (dataclasses.replace(PRODUCTION, latency_ms=50.0), True),
    "+1pp 5XX": (dataclasses.replace(PRODUCTION, error_5xx_rate=0.015), True),
    "+10% latency": (dataclasses.replace(PRODUCTION, latency_ms=44.0), True),
}
WINDOWS = [(10, 1.0), (10, 5.0), (30, 1.0), (30, 2.0), (30, 5.0), (120, 1.0), (120, 5.0)]
PERCENTILES = (0.5, 0.9, 0.99)
GOAL_WINDOW = (30, 2.0)  # detection goal: 30 minutes at 2 requests/s
SETTINGS = settings_from_thresholds()


@dataclasses.dataclass
class Requests:
    minute: np.ndarray[Any, Any]
    outcome: np.ndarray[Any, Any]
    z_model: np.ndarray[Any, Any]
    z_overhead: np.ndarray[Any, Any]


def simulate(
    rng: np.random.Generator, minutes: int, rps: float, shared: bool, share_percent: float = SHARE_PERCENT
) -> tuple[Requests, Requests]:
    """The production variant's requests and the shadow's sample of them."""
    counts = rng.poisson(rps * 60.0, minutes)
    n = int(counts.sum())
    minute = np.repeat(np.arange(minutes), counts)
    production = Requests(minute, rng.random(n), rng.standard_normal(n), rng.standard_normal(n))
    sampled = rng.random(n) * 100.0 < share_percent
    if shared:
        shadow = Requests(
            minute[sampled], production.outcome[sampled], production.z_model[sampled], production.z_overhead[sampled]
        )
    else:
        k = int(sampled.sum())
        shadow = Requests(minute[sampled], rng.random(k), rng.standard_normal(k), rng.standard_normal(k))
    return production, shadow


def _per_minute_quantiles(minute: np.ndarray[Any, Any], values: np.ndarray[Any, Any], minutes: int) -> dict[str, Any]:
    order = np.lexsort((values, minute))
    ordered, mins = values[order], minute[order]
    counts = np.bincount(mins, minlength=minutes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out: dict[str, Any] = {"count": counts, "sum": np.bincount(minute, weights=values, minlength=minutes)}
    has = counts > 0
    for q in PERCENTILES:
        pos = starts + q * np.maximum(counts - 1, 0)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(np.ceil(pos).astype(int), np.maximum(starts + counts - 1, 0))
        lo, hi = np.minimum(lo, len(ordered) - 1), np.minimum(hi, len(ordered) - 1)
        frac = pos - np.floor(pos)
        value = ordered[lo] * (1 - frac) + ordered[hi] * frac if len(ordered) else np.zeros(minutes)
        out[f"p{round(q * 100)}"] = np.where(has, value, np.nan)
    return out


def observe(
    requests: Requests, profile: TrafficProfile, minutes: int, name: str
) -> tuple[VariantSeries, VariantMetrics]:
    """The per-minute series CloudWatch would hold, and the whole-window summary the old judge read."""
    p4 = profile.error_4xx_rate
    p5 = p4 + profile.error_5xx_rate
    pm = p5 + profile.model_error_rate
    o = requests.outcome
    served = o >= p4
    latency = profile.latency_ms * 1000.0 * np.exp(profile.latency_spread * requests.z_model[served])
    overhead = profile.overhead_ms * 1000.0 * np.exp(profile.overhead_spread * requests.z_overhead)
    counts = {
        "Invocations": np.bincount(requests.minute, minlength=minutes),
        "Invocation4XXErrors": np.bincount(requests.minute, weights=o < p4, minlength=minutes),
        "Invocation5XXErrors": np.bincount(requests.minute, weights=(o >= p4) & (o < p5), minlength=minutes),
        "InvocationModelErrors": np.bincount(requests.minute, weights=(o >= p5) & (o < pm), minlength=minutes),
    }
    model = _per_minute_quantiles(requests.minute[served], latency, minutes)
    over_sum = np.bincount(requests.minute, weights=overhead, minlength=minutes)
    metrics: dict[str, dict[int, float]] = {}
    invocations = counts["Invocations"]
    for key, values in counts.items():
        metrics[key] = {T0 + 60 * i: float(v) for i, v in enumerate(values) if invocations[i] > 0}
    mc = model["count"]
    metrics["ModelLatency.Average"] = {T0 + 60 * i: float(model["sum"][i] / c) for i, c in enumerate(mc) if c > 0}
    for q in PERCENTILES:
        key = f"p{round(q * 100)}"
        metrics[f"ModelLatency.{key}"] = {T0 + 60 * i: float(model[key][i]) for i, c in enumerate(mc) if c > 0}
    metrics["OverheadLatency.Average"] = {
        T0 + 60 * i: float(over_sum[i] / c) for i, c in enumerate(invocations) if c > 0
    }
    summary: dict[str, float | None] = {k: float(v.sum()) for k, v in counts.items()}
    summary["ModelLatency.Average"] = float(latency.mean()) if latency.size else None
    for q in PERCENTILES:
        summary[f"ModelLatency.p{round(q * 100)}"] = float(np.quantile(latency, q)) if latency.size else None
    return VariantSeries(name, metrics), VariantMetrics.from_summary(name, summary)


def _when(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(T0 + seconds, tz=dt.timezone.utc)


def run_window(seed: int, case: str, minutes: int, rps: float, shared: bool) -> tuple[Decision, Decision]:
    rng = np.random.default_rng([seed, minutes, round(rps * 10), list(CASES).index(case)])
    candidate, _ = CASES[case]
    prod_req, shadow_req = simulate(rng, minutes, rps, shared, SHARE_PERCENT)
    prod_series, prod_summary = observe(prod_req, PRODUCTION, minutes, "production")
    shadow_series, shadow_summary = observe(shadow_req, candidate, minutes, "shadow")
    old = evaluate(prod_summary, shadow_summary).decision
    evidence = restrict(prod_series, shadow_series, 60, (_when(0), _when(60 * minutes)))
    return old, judge(evidence, SETTINGS).decision


def run_continuous(seed: int, case: str, plan: SequentialPlan, rps: float, shared: bool) -> tuple[Decision, int]:
    """Look every check interval; return the decision and the judged minutes it took."""
    minutes = round(plan.observation_seconds / 60)
    step = round(plan.check_interval_seconds / 60)
    rng = np.random.default_rng([seed, 7, round(rps * 10), list(CASES).index(case)])
    candidate, _ = CASES[case]
    prod_req, shadow_req = simulate(rng, minutes, rps, shared, SHARE_PERCENT)
    prod_series, _ = observe(prod_req, PRODUCTION, minutes, "production")
    shadow_series, _ = observe(shadow_req, candidate, minutes, "shadow")
    previous = 0.0
    for number, upto in enumerate(range(step, minutes + 1, step), start=1):
        evidence = restrict(prod_series, shadow_series, 60, (_when(0), _when(60 * upto)))
        result = look(evidence, SETTINGS, plan, look_number=number, previous_fraction=previous, shadow_instance_count=1)
        if result.decision is not None:
            return result.decision, upto
        previous = result.fraction
    return Decision.INCONCLUSIVE, minutes


def _rates(decisions: list[Decision]) -> dict[Decision, float]:
    return {d: 100.0 * sum(x is d for x in decisions) / len(decisions) for d in Decision}


def main(argv: list[str] | None = None) -> int:
    global SHARE_PERCENT  # one knob for every simulation of the run
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=150, help="runs per case and window (default 150)")
    parser.add_argument("--quick", action="store_true", help="40 seeds: a rough table in a fraction of the time")
    parser.add_argument("--draws", choices=("shared", "independent"), default="independent")
    parser.add_argument("--share", type=float, default=SHARE_PERCENT, help="shadow sampling percent (default 100)")
    args = parser.parse_args(argv)
    seeds = 40 if args.quick else args.seeds
    shared = args.draws == "shared"
    SHARE_PERCENT = args.share
    began = time.monotonic()
    print(
        f"{seeds} seeds per cell; shadow share {SHARE_PERCENT:g} %; draws {args.draws}; production baseline "
        f"4XX {PRODUCTION.error_4xx_rate:.1%}, 5XX {PRODUCTION.error_5xx_rate:.1%}, "
        f"model errors {PRODUCTION.model_error_rate:.1%}; latency 40 ms, spread 0.35; "
        f"new judge at {SETTINGS.confidence_percent:g} % confidence, default thresholds"
    )
    print()
    print("| case | window | traffic | old P / R / I % | new P / R / I % | old wrong % | new wrong % |")
    print("|:--|--:|--:|--:|--:|--:|--:|")
    failures: list[str] = []
    for case, (_, worse) in CASES.items():
        wrong = Decision.PROMOTE if worse else Decision.REJECT
        for minutes, rps in WINDOWS:
            # The goal cell gets 4x the seeds: a 95 % goal needs a tighter estimate than +-2 points.
            count = 4 * seeds if (minutes, rps) == GOAL_WINDOW else seeds
            pairs = [run_window(seed, case, minutes, rps, shared) for seed in range(count)]
            old, new = _rates([p[0] for p in pairs]), _rates([p[1] for p in pairs])
            cells = [
                f"{r[Decision.PROMOTE]:.0f} / {r[Decision.REJECT]:.0f} / {r[Decision.INCONCLUSIVE]:.0f}"
                for r in (old, new)
            ]
            print(
                f"| {case} | {minutes} min | {rps:g}/s{' *' if count != seeds else ''} | {cells[0]} | {cells[1]} | "
                f"{old[wrong]:.1f} | {new[wrong]:.1f} |",
                flush=True,
            )
            if new[wrong] > 2.0:
                failures.append(f"{case} {minutes} min {rps:g}/s: wrong {new[wrong]:.1f} % > 2 %")
            if (minutes, rps) == GOAL_WINDOW and case in ("+25% latency", "+1pp 5XX") and new[Decision.REJECT] < 95.0:
                failures.append(f"{case} 30 min 2/s: detected {new[Decision.REJECT]:.1f} % < 95 %")
    print()
    plan = SequentialPlan(observation_seconds=3600, check_interval_seconds=120)
    print(
        f"Continuous mode: 2 requests/s, observation {plan.observation_seconds:g} s, a look every "
        f"{plan.check_interval_seconds:g} s ({plan.planned_looks} looks), {plan.spending} spending"
    )
    print()
    print("| case | PROMOTE % | REJECT % | INCONCLUSIVE % | decided within 10 min % | median minutes to decide |")
    print("|:--|--:|--:|--:|--:|--:|")
    five = dataclasses.replace(PRODUCTION, error_5xx_rate=0.05)
    CASES["5% 5XX"] = (five, True)
    for case in ("equal", "5% 5XX"):
        results = [run_continuous(seed, case, plan, 2.0, shared) for seed in range(seeds)]
        rates = _rates([r[0] for r in results])
        decided = [m for d, m in results if d is not Decision.INCONCLUSIVE]
        within = 100.0 * sum(m <= 10 for d, m in results if d is not Decision.INCONCLUSIVE) / len(results)
        median = float(np.median(decided)) if decided else float("nan")
        print(
            f"| {case} | {rates[Decision.PROMOTE]:.1f} | {rates[Decision.REJECT]:.1f} | "
            f"{rates[Decision.INCONCLUSIVE]:.1f} | {within:.1f} | {median:.0f} |",
            flush=True,
        )
        if case == "equal" and rates[Decision.REJECT] > 2.0:
            failures.append(f"continuous equal: false REJECT {rates[Decision.REJECT]:.1f} % > 2 %")
        if case == "5% 5XX":
            rejected_in_time = 100.0 * sum(d is Decision.REJECT and m <= 10 for d, m in results) / len(results)
            if rejected_in_time < 95.0:
                failures.append(f"continuous 5% 5XX: REJECT within 10 min in {rejected_in_time:.1f} % < 95 %")
    print()
    print(f"runtime {time.monotonic() - began:.0f} s")
    for failure in failures:
        print(f"GOAL MISSED: {failure}")
    print("all goals met" if not failures else f"{len(failures)} goals missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
