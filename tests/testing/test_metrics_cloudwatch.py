"""Shadow-test metrics and percentiles through boto3 against moto's CloudWatch (mock_aws, time travel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError
from moto import mock_aws

from airflow_provider_shadowtest.testing import metrics
from airflow_provider_shadowtest.testing.metrics import TrafficWindow, VariantTraffic

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

T0 = datetime(2030, 1, 6, 12, 0, 0)  # naive UTC, as the window source hands it
UTC = timezone.utc
NS = "AWS/SageMaker"
Serve = Callable[..., None]


def _window(
    minutes: float = 10, share: float = 20.0, tags: Mapping[str, Mapping[str, str]] | None = None
) -> TrafficWindow:
    return TrafficWindow(
        endpoint_name="ep",
        experiment_name="exp",
        start=T0,
        end=T0 + timedelta(minutes=minutes),
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", share),
        model_tags=tags or {},
    )


def _dims(variant: str | None) -> list[dict[str, str]]:
    dims = [{"Name": "EndpointName", "Value": "ep"}]
    return [*dims, {"Name": "VariantName", "Value": variant}] if variant else dims


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0.replace(tzinfo=UTC) + timedelta(minutes=30), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cw(clock: time_machine.Traveller) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Serve:
    """Install the metrics with a fake window source; the previous installation comes back after."""
    monkeypatch.setattr(metrics, "_state", metrics._State())

    def install(*windows: TrafficWindow, profiles: Mapping[str, Any] | None = None, seed: int = 11) -> None:
        metrics.install(lambda account, region: list(windows), profiles=profiles or {}, seed=seed)

    return install


def _stats(cw: Any, metric: str, variant: str | None, *, period: int = 60, **kwargs: Any) -> list[dict[str, Any]]:
    if "Statistics" not in kwargs and "ExtendedStatistics" not in kwargs:
        kwargs["Statistics"] = ["Sum"]
    response = cw.get_metric_statistics(
        Namespace=kwargs.pop("Namespace", NS),
        MetricName=metric,
        Dimensions=kwargs.pop("Dimensions", _dims(variant)),
        StartTime=kwargs.pop("StartTime", T0.replace(tzinfo=UTC) - timedelta(hours=1)),
        EndTime=kwargs.pop("EndTime", T0.replace(tzinfo=UTC) + timedelta(hours=1)),
        Period=period,
        **kwargs,
    )
    return sorted(response["Datapoints"], key=lambda p: p["Timestamp"])


def _p50(cw: Any, variant: str) -> float:
    [point] = _stats(cw, "ModelLatency", variant, period=3600, ExtendedStatistics=["p50"])
    return float(point["ExtendedStatistics"]["p50"])


def test_each_variant_gets_a_datapoint_per_minute(cw: Any, serve: Serve) -> None:
    serve(_window())
    prod = _stats(cw, "Invocations", "prod")
    shadow = _stats(cw, "Invocations", "shadow")
    assert [p["Timestamp"].replace(tzinfo=None) for p in prod] == [T0 + timedelta(minutes=i) for i in range(10)]
    assert all(240 < p["Sum"] < 360 for p in prod)  # 5 requests a second
    share = sum(p["Sum"] for p in shadow) / sum(p["Sum"] for p in prod)
    assert 0.17 < share < 0.23
    for metric in ("ModelLatency", "OverheadLatency", "InvocationsPerInstance", "Invocation4XXErrors"):
        assert len(_stats(cw, metric, "shadow")) == 10, metric
    assert {p["Unit"] for p in _stats(cw, "ModelLatency", "prod")} == {"Microseconds"}


def test_percentiles_from_both_apis(cw: Any, serve: Serve) -> None:
    serve(_window())
    [point] = _stats(cw, "ModelLatency", "prod", period=600, ExtendedStatistics=["p50", "p99"])
    [average] = _stats(cw, "ModelLatency", "prod", period=600, Statistics=["Average"])
    p50, p99 = point["ExtendedStatistics"]["p50"], point["ExtendedStatistics"]["p99"]
    assert 36_000 < p50 < 44_000  # default median 40 ms, in microseconds
    assert p99 > 1.5 * p50
    assert average["Average"] > p50  # lognormal
    response = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"q{stat}",
                "MetricStat": {
                    "Metric": {"Namespace": NS, "MetricName": "ModelLatency", "Dimensions": _dims("prod")},
                    "Period": 600,
                    "Stat": stat,
                },
            }
            for stat in ("p99", "p50")
        ],
        StartTime=T0.replace(tzinfo=UTC),
        EndTime=T0.replace(tzinfo=UTC) + timedelta(minutes=10),
    )
    by_id = {r["Id"]: r["Values"] for r in response["MetricDataResults"]}
    assert by_id == {"qp99": [p99], "qp50": [p50]}


@pytest.mark.parametrize(("latency_ms", "low", "high"), [(80.0, 1.8, 2.2), (20.0, 0.45, 0.55), (40.0, 0.95, 1.05)])
def test_candidate_latency_follows_its_profile(
    cw: Any, serve: Serve, latency_ms: float, low: float, high: float
) -> None:
    serve(_window(share=50.0), profiles={"model-b": {"latency_ms": latency_ms}})
    assert low < _p50(cw, "shadow") / _p50(cw, "prod") < high


def test_model_tags_set_the_profile(cw: Any, serve: Serve) -> None:
    tags = {"model-b": {"shadowtest:latency-ms": "80", "shadowtest:error-rate": "10%"}}
    serve(_window(share=50.0, tags=tags), profiles={"model-b": {"latency_ms": 20.0}})
    assert 1.8 < _p50(cw, "shadow") / _p50(cw, "prod") < 2.2
    [shadow] = _stats(cw, "Invocation5XXErrors", "shadow", period=3600, Statistics=["Average", "Sum"])
    [prod] = _stats(cw, "Invocation5XXErrors", "prod", period=3600, Statistics=["Average", "Sum"])
    assert 0.08 < shadow["Average"] < 0.12
    assert prod["Sum"] == 0


def test_same_seed_same_numbers_other_seed_other_numbers(cw: Any, serve: Serve) -> None:
    serve(_window(), seed=11)
    first = _stats(cw, "ModelLatency", "shadow", ExtendedStatistics=["p90"])
    serve(_window(), seed=11)
    assert _stats(cw, "ModelLatency", "shadow", ExtendedStatistics=["p90"]) == first
    serve(_window(), seed=12)
    assert _stats(cw, "ModelLatency", "shadow", ExtendedStatistics=["p90"]) != first


def test_nothing_outside_the_window(cw: Any, serve: Serve) -> None:
    serve(_window())
    start = T0.replace(tzinfo=UTC)
    before: dict[str, Any] = {"StartTime": start - timedelta(hours=1), "EndTime": start}
    after: dict[str, Any] = {"StartTime": start + timedelta(minutes=10), "EndTime": start + timedelta(hours=1)}
    for variant in ("prod", "shadow"):
        assert _stats(cw, "Invocations", variant, **before) == []
        assert _stats(cw, "Invocations", variant, **after) == []


def test_running_window_grows_with_the_clock(cw: Any, serve: Serve, clock: time_machine.Traveller) -> None:
    clock.move_to(T0.replace(tzinfo=UTC) + timedelta(seconds=3))
    serve(_window())  # scheduled until T0 + 10 min, but it is only T0 + 3 s
    [first] = _stats(cw, "Invocations", "prod")
    assert 0 < first["Sum"] < 60
    clock.shift(150)
    points = _stats(cw, "Invocations", "prod")
    assert len(points) == 3
    assert points[0]["Sum"] > first["Sum"]


def test_sagemaker_dimensions_match_exactly(cw: Any, serve: Serve) -> None:
    serve(_window())
    assert _stats(cw, "Invocations", None) == []
    response = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": NS, "MetricName": "Invocations", "Dimensions": _dims(None)},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=T0.replace(tzinfo=UTC),
        EndTime=T0.replace(tzinfo=UTC) + timedelta(hours=1),
    )
    assert response["MetricDataResults"][0]["Values"] == []
    # Other namespaces keep moto's subset matching for GetMetricStatistics.
    cw.put_metric_data(Namespace="Custom", MetricData=[{"MetricName": "m", "Value": 1.0, "Dimensions": _dims("prod")}])
    start = datetime.now(UTC) - timedelta(minutes=5)
    assert len(_stats(cw, "m", None, Namespace="Custom", StartTime=start, EndTime=start + timedelta(hours=1))) == 1


def test_user_metric_percentiles(cw: Any, serve: Serve) -> None:
    serve()
    when = T0.replace(tzinfo=UTC) + timedelta(minutes=2, seconds=5)
    cw.put_metric_data(
        Namespace="Custom",
        MetricData=[{"MetricName": "latency", "Values": [float(v) for v in range(1, 101)], "Timestamp": when}],
    )
    [point] = _stats(cw, "latency", None, Namespace="Custom", Dimensions=[], ExtendedStatistics=["p50", "p99"])
    assert point["ExtendedStatistics"] == {"p50": 50.0, "p99": 99.0}
    assert point["Timestamp"] == T0.replace(tzinfo=UTC) + timedelta(minutes=2)
    response = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {"Namespace": "Custom", "MetricName": "latency"},
                    "Period": 300,
                    "Stat": "p90",
                },
            }
        ],
        StartTime=T0.replace(tzinfo=UTC),
        EndTime=T0.replace(tzinfo=UTC) + timedelta(hours=1),
    )
    assert response["MetricDataResults"][0]["Values"] == [90.0]


def test_unsupported_extended_statistic_is_a_client_error(cw: Any, serve: Serve) -> None:
    serve(_window())
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        _stats(cw, "ModelLatency", "prod", ExtendedStatistics=["p101"])


def test_list_metrics_shows_both_variants(cw: Any, serve: Serve) -> None:
    serve(_window())
    listed = cw.list_metrics(Namespace=NS, MetricName="ModelLatency")["Metrics"]
    variants = sorted(d["Value"] for m in listed for d in m["Dimensions"] if d["Name"] == "VariantName")
    assert variants == ["prod", "shadow"]
