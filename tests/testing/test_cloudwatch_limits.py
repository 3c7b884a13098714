"""CloudWatch's documented limits and metric math, through boto3 against the emulator (mock_aws)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError

from airflow_provider_shadowtest.testing import metrics
from airflow_provider_shadowtest.testing.metrics import TrafficWindow, VariantTraffic

if TYPE_CHECKING:
    from collections.abc import Iterator

UTC = timezone.utc
T0 = datetime(2030, 1, 6, 12, 0, 0)
NS = "AWS/SageMaker"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0.replace(tzinfo=UTC) + timedelta(minutes=30), tick=False) as traveller:
        yield traveller


@pytest.fixture
def cw(clock: time_machine.Traveller, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from airflow_provider_shadowtest.testing import mock_shadow_tests
    from airflow_provider_shadowtest.testing.install import install

    install()  # first, so the emulator's own metrics installation is not the one patched away below
    monkeypatch.setattr(metrics, "_state", metrics._State())
    window = TrafficWindow(
        endpoint_name="ep",
        experiment_name="exp",
        start=T0,
        end=T0 + timedelta(minutes=20),
        production=VariantTraffic("prod", "model-a", 100.0),
        shadow=VariantTraffic("shadow", "model-b", 50.0),
    )
    with mock_shadow_tests():
        metrics.install(lambda account, region: [window], profiles={"model-b": {"error_5xx_rate": 0.1}}, seed=5)
        yield boto3.client("cloudwatch", region_name="us-east-1")


def _dims(variant: str) -> list[dict[str, str]]:
    return [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": variant}]


def _query(
    query_id: str, metric: str, variant: str, stat: str = "Sum", period: int = 60, **extra: Any
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NS, "MetricName": metric, "Dimensions": _dims(variant)},
            "Period": period,
            "Stat": stat,
        },
        **extra,
    }


def _data(cw: Any, queries: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("StartTime", T0.replace(tzinfo=UTC))
    kwargs.setdefault("EndTime", T0.replace(tzinfo=UTC) + timedelta(minutes=20))
    kwargs.setdefault("ScanBy", "TimestampAscending")
    return cw.get_metric_data(MetricDataQueries=queries, **kwargs)  # type: ignore[no-any-return]


def _statistics(cw: Any, **kwargs: Any) -> Any:
    args: dict[str, Any] = {
        "Namespace": NS,
        "MetricName": "Invocations",
        "Dimensions": _dims("prod"),
        "StartTime": T0.replace(tzinfo=UTC),
        "EndTime": T0.replace(tzinfo=UTC) + timedelta(minutes=20),
        "Period": 60,
        "Statistics": ["Sum"],
    }
    args.update(kwargs)
    return cw.get_metric_statistics(**{k: v for k, v in args.items() if v is not None})


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


# -- GetMetricStatistics ------------------------------------------------------------------------
def test_more_than_1440_datapoints_is_an_invalid_parameter_combination(cw: Any) -> None:
    start = T0.replace(tzinfo=UTC)
    assert _statistics(cw, StartTime=start, EndTime=start + timedelta(minutes=1440))["Datapoints"]
    with pytest.raises(ClientError) as err:
        _statistics(cw, StartTime=start, EndTime=start + timedelta(minutes=1441))
    assert _code(err) == "InvalidParameterCombination"
    assert "1,441" in err.value.response["Error"]["Message"]
    assert "1,440" in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("period", [45, 7, 90, 61])
def test_periods_cloudwatch_does_not_take_are_invalid(cw: Any, period: int) -> None:
    with pytest.raises(ClientError) as err:
        _statistics(cw, Period=period)
    assert _code(err) == "InvalidParameterValue"
    assert "Period" in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("period", [1, 5, 10, 30, 60, 120, 300])
def test_periods_cloudwatch_takes(cw: Any, period: int) -> None:
    _statistics(cw, Period=period, EndTime=T0.replace(tzinfo=UTC) + timedelta(minutes=5))


def test_statistics_and_extended_statistics_together_are_refused(cw: Any) -> None:
    with pytest.raises(ClientError) as err:
        _statistics(cw, Statistics=["Average"], ExtendedStatistics=["p99"])
    assert _code(err) == "InvalidParameterCombination"
    assert "not both" in err.value.response["Error"]["Message"]


def test_data_ages_into_coarser_periods(cw: Any, clock: time_machine.Traveller) -> None:
    """1-minute data for 15 days, then only 5-minute multiples until 63 days, then hours until 455 days."""
    full = {"StartTime": T0.replace(tzinfo=UTC), "EndTime": T0.replace(tzinfo=UTC) + timedelta(hours=1)}
    assert len(_statistics(cw, Period=60, **full)["Datapoints"]) == 20
    clock.move_to(T0.replace(tzinfo=UTC) + timedelta(days=16))
    assert _statistics(cw, Period=60, **full)["Datapoints"] == []
    assert len(_statistics(cw, Period=300, **full)["Datapoints"]) == 4
    clock.move_to(T0.replace(tzinfo=UTC) + timedelta(days=64))
    assert _statistics(cw, Period=300, **full)["Datapoints"] == []
    [hour] = _statistics(cw, Period=3600, **full)["Datapoints"]
    assert hour["Sum"] > 0
    clock.move_to(T0.replace(tzinfo=UTC) + timedelta(days=456))
    assert _statistics(cw, Period=3600, **full)["Datapoints"] == []


# -- GetMetricData --------------------------------------------------------------------------------
def test_max_datapoints_pages_with_next_token(cw: Any) -> None:
    queries = [_query("p", "Invocations", "prod"), _query("s", "Invocations", "shadow")]
    whole = {r["Id"]: r["Values"] for r in _data(cw, queries)["MetricDataResults"]}
    assert len(whole["p"]) == len(whole["s"]) == 20
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        response = _data(cw, queries, MaxDatapoints=15, **({"NextToken": token} if token else {}))
        pages.append(response)
        assert sum(len(r["Values"]) for r in response["MetricDataResults"]) <= 15
        token = response.get("NextToken")
        if not token:
            break
    assert len(pages) == 3  # 40 datapoints, 15 a page
    joined: dict[str, list[float]] = {"p": [], "s": []}
    for page in pages:
        for result in page["MetricDataResults"]:
            joined[result["Id"]].extend(result["Values"])
    assert joined == whole
    assert pages[0]["MetricDataResults"][1]["StatusCode"] == "PartialData"
    assert {r["StatusCode"] for r in pages[-1]["MetricDataResults"]} == {"Complete"}


def test_a_token_of_another_request_is_refused(cw: Any) -> None:
    queries = [_query("p", "Invocations", "prod")]
    token = _data(cw, queries, MaxDatapoints=5)["NextToken"]
    with pytest.raises(ClientError) as err:
        _data(cw, [_query("p", "Invocations", "shadow")], MaxDatapoints=5, NextToken=token)
    assert _code(err) == "InvalidNextToken"
    with pytest.raises(ClientError) as err:
        _data(cw, queries, NextToken="garbage")
    assert _code(err) == "InvalidNextToken"


def test_more_than_500_queries_are_refused(cw: Any) -> None:
    queries = [_query(f"q{i}", "Invocations", "prod") for i in range(501)]
    with pytest.raises(ClientError) as err:
        _data(cw, queries)
    assert _code(err) == "InvalidParameterValue"
    assert "500" in err.value.response["Error"]["Message"]
    assert len(_data(cw, queries[:500])["MetricDataResults"]) == 500


def test_metric_math_error_rate_in_percent(cw: Any) -> None:
    queries = [
        _query("e", "Invocation5XXErrors", "shadow", ReturnData=False),
        _query("n", "Invocations", "shadow", ReturnData=False),
        {"Id": "rate", "Expression": "100*e/n", "Label": "5XX %"},
    ]
    [result] = _data(cw, queries, StartTime=T0.replace(tzinfo=UTC))["MetricDataResults"]
    assert result["Id"] == "rate"
    assert result["Label"] == "5XX %"
    assert len(result["Values"]) == 20
    assert 5 < sum(result["Values"]) / len(result["Values"]) < 15  # the candidate's 10 %
    raw = {
        r["Id"]: r["Values"]
        for r in _data(cw, [_query("e", "Invocation5XXErrors", "shadow"), _query("n", "Invocations", "shadow")])[
            "MetricDataResults"
        ]
    }
    assert result["Values"] == pytest.approx([100 * e / n for e, n in zip(raw["e"], raw["n"], strict=True)])


def test_metric_math_functions_and_metrics(cw: Any) -> None:
    queries = [
        _query("a", "Invocations", "prod", ReturnData=False),
        _query("b", "Invocations", "shadow", ReturnData=False),
        {"Id": "total", "Expression": "SUM([a, b])"},
        {"Id": "mean", "Expression": "AVG(METRICS())"},
        {"Id": "low", "Expression": "MIN([a,b])"},
        {"Id": "high", "Expression": "MAX(METRICS())"},
        {"Id": "centred", "Expression": "a - AVG(a)"},
        {"Id": "both", "Expression": "METRICS()"},
    ]
    results = _data(cw, queries)["MetricDataResults"]
    by_id: dict[str, list[list[float]]] = {}
    for result in results:
        by_id.setdefault(result["Id"], []).append(result["Values"])
    a, b = by_id["both"]
    assert by_id["total"] == [[x + y for x, y in zip(a, b, strict=True)]]
    assert by_id["mean"] == [pytest.approx([(x + y) / 2 for x, y in zip(a, b, strict=True)])]
    assert by_id["low"] == [[min(x, y) for x, y in zip(a, b, strict=True)]]
    assert by_id["high"] == [[max(x, y) for x, y in zip(a, b, strict=True)]]
    assert sum(by_id["centred"][0]) == pytest.approx(0, abs=1e-6)
    assert "a" not in by_id
    assert "b" not in by_id


@pytest.mark.parametrize("expression", ["100*e/", "FOO(e)", "e + nobody", "[e, n] * [e, n]", "e $ n"])
def test_bad_expressions_are_validation_errors(cw: Any, expression: str) -> None:
    queries = [
        _query("e", "Invocation5XXErrors", "shadow", ReturnData=False),
        _query("n", "Invocations", "shadow", ReturnData=False),
        {"Id": "x", "Expression": expression},
    ]
    with pytest.raises(ClientError) as err:
        _data(cw, queries)
    assert _code(err) == "ValidationError"
    assert "expression" in err.value.response["Error"]["Message"].lower()


def test_query_shape_rules(cw: Any) -> None:
    for queries in (
        [_query("a", "Invocations", "prod"), _query("a", "Invocations", "shadow")],
        [_query("Upper", "Invocations", "prod")],
        [{"Id": "x", "Expression": "1", "MetricStat": _query("a", "Invocations", "prod")["MetricStat"]}],
        [_query("a", "Invocations", "prod", ReturnData=False)],
    ):
        with pytest.raises(ClientError) as err:
            _data(cw, queries)
        assert _code(err) == "ValidationError", queries
    with pytest.raises(ClientError) as err:
        _data(cw, [_query("a", "Invocations", "prod", period=45)])
    assert _code(err) == "InvalidParameterValue"
