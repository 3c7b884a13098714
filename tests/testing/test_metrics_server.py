"""The shadow-test metrics and percentiles served over HTTP by moto's threaded server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from airflow_provider_shadowtest.testing import metrics
from airflow_provider_shadowtest.testing.metrics import TrafficWindow, VariantTraffic

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_metrics_and_percentiles_over_http(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(timezone.utc)
    window = TrafficWindow(
        endpoint_name="ep",
        experiment_name="exp",
        start=now.replace(tzinfo=None) - timedelta(minutes=5),
        end=now.replace(tzinfo=None) + timedelta(minutes=5),  # still running: data stops at now
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", 50.0),
        model_tags={"model-b": {"shadowtest:latency-ms": "120"}},
    )
    monkeypatch.setattr(metrics, "_state", metrics._State())
    metrics.install(lambda account, region: [window], profiles={}, seed=3)
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=server_url)

    def p50_p99(variant: str, dimensions: list[Any] | None = None) -> list[dict[str, Any]]:
        response = cw.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            Dimensions=dimensions
            or [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": variant}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=7200,
            ExtendedStatistics=["p50", "p99"],
        )
        return [point["ExtendedStatistics"] for point in response["Datapoints"]]

    [prod] = p50_p99("prod")
    [shadow] = p50_p99("shadow")
    assert prod["p99"] > prod["p50"]
    assert 2.5 < shadow["p50"] / prod["p50"] < 3.5
    assert p50_p99("prod", [{"Name": "EndpointName", "Value": "ep"}]) == []
    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "p99",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": "ModelLatency",
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": "ep"},
                            {"Name": "VariantName", "Value": "prod"},
                        ],
                    },
                    "Period": 7200,
                    "Stat": "p99",
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
    )
    assert result["MetricDataResults"][0]["Values"] == [prod["p99"]]
