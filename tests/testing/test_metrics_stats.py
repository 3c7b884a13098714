"""Pure parts of the emulator's CloudWatch metrics: statistics, profiles, simulated traffic."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

import pytest

from airflow_provider_shadowtest.testing.cw_stats import (
    Bucket,
    Sample,
    align_start,
    bucketize,
    dimensions_match,
    naive_utc,
    parse_percentile,
)
from airflow_provider_shadowtest.testing.metrics import (
    TrafficProfile,
    TrafficWindow,
    VariantTraffic,
    resolve_profile,
    window_samples,
)
from airflow_provider_shadowtest.testing.traffic import SKETCH_SIZE, variant_minute

T0 = datetime(2030, 1, 6, 12, 0, 0)
DIMS = frozenset({("EndpointName", "ep"), ("VariantName", "prod")})


def _window(minutes: float = 10, share: float = 20.0, name: str = "exp") -> TrafficWindow:
    return TrafficWindow(
        endpoint_name="ep",
        experiment_name=name,
        start=T0,
        end=T0 + timedelta(minutes=minutes),
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", share),
    )


def _values(samples: list[Sample], variant: str) -> list[float]:
    return [v for s in samples if ("VariantName", variant) in s.dimensions for v, _ in s.values or ()]


def test_percentile_is_nearest_rank_over_weighted_values() -> None:
    bucket = Bucket(T0)
    for value in range(1, 101):
        bucket.add(Sample.single("N", "m", DIMS, timestamp=T0, value=float(value)))
    assert bucket.statistic("p50") == 50.0
    assert bucket.statistic("p99") == 99.0
    assert bucket.statistic("p100") == 100.0
    assert bucket.statistic("Average") == 50.5
    weighted = Bucket(T0, values=[(1.0, 9.0), (10.0, 1.0)])
    assert weighted.percentile(90) == 1.0
    assert weighted.percentile(95) == 10.0


def test_statistic_sets_have_no_percentile_unless_constant() -> None:
    bucket = Bucket(T0)
    bucket.add(Sample("N", "m", DIMS, T0, None, 3.0, 6.0, 1.0, 3.0))
    assert bucket.statistic("Sum") == 6.0
    assert bucket.statistic("p50") is None
    bucket.add(Sample("N", "m", DIMS, T0, None, 2.0, 10.0, 5.0, 5.0))
    assert bucket.statistic("p99") == 5.0


@pytest.mark.parametrize("name", ["p101", "P50", "tm99", "pfoo", "Median"])
def test_unsupported_statistics_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="unsupported statistic"):
        parse_percentile(name)


def test_periods_align_like_cloudwatch() -> None:
    assert align_start(T0 + timedelta(seconds=754), 300) == T0 + timedelta(seconds=720)
    assert align_start(T0 + timedelta(seconds=14), 10) == T0 + timedelta(seconds=10)
    samples = [Sample.single("N", "m", DIMS, timestamp=T0 + timedelta(seconds=s), value=1.0) for s in (0, 59, 60, 200)]
    buckets = bucketize(samples, T0 + timedelta(seconds=30), T0 + timedelta(seconds=200), 60)
    assert [(b.timestamp, b.sample_count) for b in buckets] == [(T0, 2.0), (T0 + timedelta(minutes=1), 1.0)]


def test_dimension_matching_exact_and_subset() -> None:
    assert dimensions_match(DIMS, [("EndpointName", "ep"), ("VariantName", "prod")], exact=True)
    assert not dimensions_match(DIMS, [("EndpointName", "ep")], exact=True)
    assert dimensions_match(DIMS, [("EndpointName", "ep")], exact=False)
    assert dimensions_match(DIMS, [("EndpointName", None)], exact=False)
    assert not dimensions_match(DIMS, [("EndpointName", "other")], exact=False)


def test_naive_utc_converts_aware_values() -> None:
    from datetime import timezone

    aware = datetime(2030, 1, 6, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert naive_utc(aware) == T0
    assert naive_utc(T0) is T0


def test_profile_layers_defaults_settings_and_tags() -> None:
    profiles = {"*": {"rps": 8.0}, "model-b": {"latency_ms": 60.0}}
    tags = {"shadowtest:latency-ms": "90", "shadowtest:error-rate": "2%", "shadowtest:rps": "oops"}
    profile = resolve_profile("model-b", tags, profiles)
    assert profile == TrafficProfile(rps=8.0, latency_ms=90.0, error_5xx_rate=0.02)
    assert resolve_profile("model-a", None, {"model-a": TrafficProfile(latency_ms=5.0)}).latency_ms == 5.0
    with pytest.raises(ValueError, match="unknown traffic profile fields"):
        resolve_profile("m", None, {"m": {"latency": 3}})
    with pytest.raises(ValueError, match="error rates"):
        TrafficProfile(error_4xx_rate=0.6, error_5xx_rate=0.6)


def test_same_seed_same_numbers_other_seed_other_numbers() -> None:
    now = T0 + timedelta(hours=1)
    first = window_samples(_window(), "ModelLatency", seed=7, now=now)
    again = window_samples(_window(), "ModelLatency", seed=7, now=now)
    other = window_samples(_window(), "ModelLatency", seed=8, now=now)
    assert first == again
    assert _values(first, "prod") != _values(other, "prod")


def test_equal_candidate_sees_a_subset_of_the_same_requests() -> None:
    samples = window_samples(_window(share=50.0), "ModelLatency", now=T0 + timedelta(hours=1))
    prod, shadow = _values(samples, "prod"), _values(samples, "shadow")
    assert abs(statistics.median(shadow) / statistics.median(prod) - 1) < 0.05


def test_data_ends_at_now_and_at_the_window_end() -> None:
    running = window_samples(_window(), "Invocations", now=T0 + timedelta(seconds=150))
    assert {s.timestamp for s in running} == {T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)}
    done = window_samples(_window(minutes=1.5), "Invocations", now=T0 + timedelta(hours=1))
    assert max(s.timestamp for s in done) == T0 + timedelta(minutes=1)
    assert window_samples(_window(), "Invocations", now=T0) == []


def test_a_range_of_a_long_window_generates_only_that_range() -> None:
    week = _window(minutes=7 * 24 * 60, name="week")
    variant_minute.cache_clear()
    start = T0 + timedelta(days=3)
    samples = window_samples(week, "Invocations", start, start + timedelta(hours=1), now=T0 + timedelta(days=8))
    assert len({s.timestamp for s in samples}) == 60
    assert variant_minute.cache_info().currsize == 120


def test_high_rates_are_thinned_but_counted() -> None:
    profiles = {"model-a": {"rps": 100.0}}
    samples = window_samples(_window(minutes=1), "Invocations", profiles=profiles, now=T0 + timedelta(hours=1))
    prod = next(s for s in samples if ("VariantName", "prod") in s.dimensions)
    assert 5400 < prod.sum < 6600
    latency = window_samples(_window(minutes=1), "ModelLatency", profiles=profiles, now=T0 + timedelta(hours=1))
    assert all(len(s.values or ()) <= SKETCH_SIZE for s in latency)


def test_thinned_streams_count_errors_like_a_real_endpoint() -> None:
    """Above the thinning rate, counts spread binomially, as CloudWatch's would: not one draw times a weight.

    At 40 requests a second (four times the thinned rate) a minute's 4XX count has the binomial
    variance n p (1 - p) and the request count a Poisson one; a weighted thinned draw would make
    both about four times larger, and a verdict's intervals too narrow by half.
    """
    profile = TrafficProfile(rps=40.0, error_4xx_rate=0.05)
    minutes = [variant_minute(3, "ep/exp", 29_000_000 + m, 40.0, 100.0, profile) for m in range(300)]
    invocations = [seen.invocations for seen in minutes]
    errors = [seen.errors_4xx for seen in minutes]
    mean_n = statistics.fmean(invocations)
    assert 2300 < mean_n < 2500
    assert 0.6 < statistics.variance(invocations) / mean_n < 1.6  # Poisson: about 1
    binomial = mean_n * 0.05 * 0.95
    assert 0.6 < statistics.variance(errors) / binomial < 1.6  # binomial: about 1; weighted: about 4
    for seen in minutes[:20]:  # latencies stand for every request that has one
        assert seen.model_latency_us is not None
        assert seen.model_latency_us.count == seen.invocations - seen.errors_4xx
