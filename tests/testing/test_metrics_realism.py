"""Emulator realism: warm-up, daily load curve, shared spikes, instance metrics, lag, no percentiles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from statistics import median
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine

from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.testing.metrics import TrafficWindow, VariantTraffic, window_samples
from airflow_provider_shadowtest.testing.traffic import TrafficProfile, diurnal_rps

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from airflow_provider_shadowtest.testing.cw_stats import Sample

UTC = timezone.utc
T0 = datetime(2030, 1, 6, 12, 0, 0)
INSTANCE_NS = "/aws/sagemaker/Endpoints"


def _window(minutes: float = 60, share: float = 100.0) -> TrafficWindow:
    return TrafficWindow(
        endpoint_name="ep",
        experiment_name="exp",
        start=T0,
        end=T0 + timedelta(minutes=minutes),
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", share),
    )


def _per_minute(samples: list[Sample], variant: str) -> dict[datetime, float]:
    """Mean value per minute of one variant."""
    return {
        s.timestamp: s.sum / s.sample_count
        for s in samples
        if ("VariantName", variant) in s.dimensions and s.sample_count
    }


def _samples(metric: str, profiles: Mapping[str, Any], minutes: float = 60, **kwargs: Any) -> list[Sample]:
    return window_samples(_window(minutes), metric, profiles=profiles, seed=3, now=T0 + timedelta(days=2), **kwargs)


def test_warm_up_slows_the_first_minutes_of_the_shadow_only() -> None:
    warm = {"model-b": {"warmup_seconds": 600, "warmup_latency_factor": 3.0}}
    cold = _per_minute(_samples("ModelLatency", {}), "shadow")
    warming = _per_minute(_samples("ModelLatency", warm), "shadow")
    first = [warming[T0 + timedelta(minutes=i)] / cold[T0 + timedelta(minutes=i)] for i in range(2)]
    assert all(2.4 < ratio < 3.1 for ratio in first)  # close to 3x right after deployment
    later = [warming[T0 + timedelta(minutes=i)] / cold[T0 + timedelta(minutes=i)] for i in range(10, 60)]
    assert later == pytest.approx([1.0] * 50)
    production = _per_minute(_samples("ModelLatency", warm), "prod")
    assert production == _per_minute(_samples("ModelLatency", {}), "prod")


def test_the_daily_curve_moves_the_request_rate() -> None:
    profile = TrafficProfile(rps=10.0, diurnal_amplitude=0.5, diurnal_peak_hour_utc=15.0)
    peak_minute = int((datetime(2030, 1, 6, 15) - datetime(1970, 1, 1)).total_seconds() // 60)
    assert diurnal_rps(profile, peak_minute) == pytest.approx(15.0)
    assert diurnal_rps(profile, peak_minute + 12 * 60) == pytest.approx(5.0)
    window = TrafficWindow(
        endpoint_name="ep",
        experiment_name="exp",
        start=datetime(2030, 1, 6, 0, 0),
        end=datetime(2030, 1, 7, 0, 0),
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", 10.0),
    )
    profiles = {"*": {"rps": 10.0, "diurnal_amplitude": 0.5}}
    counts = _per_minute_sums(window_samples(window, "Invocations", profiles=profiles, seed=1, now=window.end), "prod")
    by_hour = [sum(v for t, v in counts.items() if t.hour == hour) for hour in range(24)]
    assert by_hour.index(max(by_hour)) in (14, 15, 16)
    assert by_hour.index(min(by_hour)) in (2, 3, 4)
    assert max(by_hour) > 2.5 * min(by_hour)


def _per_minute_sums(samples: list[Sample], variant: str) -> dict[datetime, float]:
    return {s.timestamp: s.sum for s in samples if ("VariantName", variant) in s.dimensions}


def test_spikes_hit_both_variants_in_the_same_minutes() -> None:
    profiles = {"model-a": {"spike_minute_rate": 0.1, "spike_latency_factor": 4.0}}
    calm = _samples("ModelLatency", {})
    spiky = _samples("ModelLatency", profiles)
    ratios = {
        variant: {t: v / _per_minute(calm, variant)[t] for t, v in _per_minute(spiky, variant).items()}
        for variant in ("prod", "shadow")
    }
    spiked = {variant: {t for t, r in ratio.items() if r > 2} for variant, ratio in ratios.items()}
    assert 2 <= len(spiked["prod"]) <= 15  # about 6 of 60 minutes
    assert spiked["prod"] == spiked["shadow"]
    assert all(r == pytest.approx(1.0) for t, r in ratios["prod"].items() if t not in spiked["prod"])


def test_instance_metrics_follow_load_and_instance_count() -> None:
    def cpu(profiles: Mapping[str, Any]) -> float:
        values = _per_minute(_samples("CPUUtilization", profiles), "prod")
        return median(values.values())

    idle = cpu({"*": {"rps": 0.5}})
    busy = cpu({"*": {"rps": 8.0}})
    spread = cpu({"*": {"rps": 8.0, "instance_count": 4}})
    assert idle < spread < busy
    assert busy == pytest.approx(4.0 + 6.0 * 8.0, rel=0.15)
    memory = _samples("MemoryUtilization", {"*": {"instance_count": 3}})
    assert {s.sample_count for s in memory} == {3.0}  # one value per instance
    assert {s.unit for s in memory} == {"Percent"}
    assert _samples("GPUUtilization", {}) == []
    assert _samples("GPUUtilization", {"*": {"gpu_count": 1}})


@pytest.fixture
def sagemaker() -> Iterator[tuple[Any, Any, Any]]:
    profiles = {"prod-model": {"rps": 2.0}, "shadow-model": {"latency_ms": 60.0}}
    with (
        time_machine.travel(T0.replace(tzinfo=UTC), tick=False) as clock,
        mock_shadow_tests(transition_seconds=0.0, traffic_profiles=profiles) as emulator,
    ):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        for model in ("prod-model", "shadow-model"):
            create_model(sm, model)
        create_endpoint(sm, "ep", "prod-model")
        yield sm, cw, (clock, emulator)


def _invocations(cw: Any, variant: str, start: datetime, end: datetime, *, period: int = 60) -> list[dict[str, Any]]:
    response = cw.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": variant}],
        StartTime=start.replace(tzinfo=UTC),
        EndTime=end.replace(tzinfo=UTC),
        Period=period,
        Statistics=["Sum"],
    )
    return sorted(response["Datapoints"], key=lambda p: p["Timestamp"])


def test_production_publishes_with_or_without_an_experiment(sagemaker: tuple[Any, Any, Any]) -> None:
    sm, cw, (clock, _) = sagemaker
    clock.shift(20 * 60)
    before = _invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=20))
    assert len(before) == 20  # no experiment yet, the endpoint serves
    assert all(80 < p["Sum"] < 170 for p in before)  # 2 requests a second
    assert _invocations(cw, "shadow", T0, T0 + timedelta(minutes=20)) == []
    start = T0 + timedelta(minutes=20)
    request = shadow_test_request("exp", "ep", "prod-model", "shadow-model")
    request["Schedule"] = {
        "StartTime": start.replace(tzinfo=UTC),
        "EndTime": (start + timedelta(minutes=10)).replace(tzinfo=UTC),
    }
    sm.create_inference_experiment(**request)
    clock.shift(30 * 60)  # the experiment ran 10 minutes and ended 10 minutes ago
    production = _invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=50))
    shadow = _invocations(cw, "shadow", T0, T0 + timedelta(minutes=50))
    assert len(production) == 50  # before, during and after the experiment
    assert all(60 < p["Sum"] < 190 for p in production)  # never counted twice
    assert [p["Timestamp"].replace(tzinfo=None) for p in shadow] == [start + timedelta(minutes=i) for i in range(10)]
    [whole] = _invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=60), period=3600)
    assert whole["Sum"] == sum(p["Sum"] for p in production)


def test_no_profile_no_endpoint_traffic() -> None:
    with (
        time_machine.travel(T0.replace(tzinfo=UTC), tick=False) as clock,
        mock_shadow_tests(transition_seconds=0.0),
    ):
        sm = boto3.client("sagemaker", region_name="us-east-1")
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        create_model(sm, "prod-model")
        create_endpoint(sm, "ep", "prod-model")
        clock.shift(10 * 60)
        assert _invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=10)) == []


def test_publication_lag_hides_the_newest_minutes(sagemaker: tuple[Any, Any, Any]) -> None:
    _, cw, (clock, emulator) = sagemaker
    clock.shift(10 * 60)
    assert len(_invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=10))) == 10
    emulator.configure(cloudwatch_lag_seconds=180)
    assert len(_invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=10))) == 7
    clock.shift(180)
    assert len(_invocations(cw, "AllTraffic", T0, T0 + timedelta(minutes=10))) == 10


def test_percentiles_can_be_switched_off(sagemaker: tuple[Any, Any, Any]) -> None:
    _, cw, (clock, emulator) = sagemaker
    clock.shift(10 * 60)
    query: dict[str, Any] = {
        "Namespace": "AWS/SageMaker",
        "MetricName": "ModelLatency",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "StartTime": T0.replace(tzinfo=UTC),
        "EndTime": (T0 + timedelta(minutes=10)).replace(tzinfo=UTC),
        "Period": 600,
    }
    [point] = cw.get_metric_statistics(ExtendedStatistics=["p99"], **query)["Datapoints"]
    assert point["ExtendedStatistics"]["p99"] > 0
    emulator.configure(percentiles_available=False)
    [point] = cw.get_metric_statistics(ExtendedStatistics=["p99"], **query)["Datapoints"]
    assert point.get("ExtendedStatistics", {}) == {}
    [average] = cw.get_metric_statistics(Statistics=["Average", "SampleCount"], **query)["Datapoints"]
    assert average["Average"] > 0  # the other statistics stay


def test_instance_metrics_are_listed_and_served(sagemaker: tuple[Any, Any, Any]) -> None:
    _, cw, (clock, _) = sagemaker
    clock.shift(10 * 60)
    listed = cw.list_metrics(Namespace=INSTANCE_NS)["Metrics"]
    assert sorted({m["MetricName"] for m in listed}) == ["CPUUtilization", "DiskUtilization", "MemoryUtilization"]
    points = cw.get_metric_statistics(
        Namespace=INSTANCE_NS,
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        StartTime=T0.replace(tzinfo=UTC),
        EndTime=(T0 + timedelta(minutes=10)).replace(tzinfo=UTC),
        Period=60,
        Statistics=["Average"],
    )["Datapoints"]
    assert len(points) == 10
    assert all(5 < p["Average"] < 40 for p in points)
