"""ListInferenceExperiments: filters, sorting and pagination."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_shadowtest.testing import create_endpoint, shadow_test_request
from tests.testing.helpers_emulator import T0, assert_matches_output


def _make(sm: Any, endpoint: Any, clock: Any, count: int = 5) -> None:
    endpoint()
    for i in range(count):
        ep = f"ep{i}"
        create_endpoint(sm, ep, "prod-model")
        start = T0 + dt.timedelta(hours=1) if i % 2 else T0
        sm.create_inference_experiment(
            **shadow_test_request(
                f"exp-{i}{'-blue' if i < 2 else ''}",
                ep,
                "prod-model",
                "shadow-model",
                Schedule={"StartTime": start, "EndTime": start + dt.timedelta(hours=2)},
            )
        )
        clock.shift(60)


def _names(response: dict[str, Any]) -> list[str]:
    return [e["Name"] for e in response["InferenceExperiments"]]


def test_filters_and_sorting(sm: Any, endpoint: Any, clock: Any) -> None:
    _make(sm, endpoint, clock)
    everything = sm.list_inference_experiments(MaxResults=100)
    assert_matches_output("ListInferenceExperiments", everything)
    assert _names(everything) == ["exp-4", "exp-3", "exp-2", "exp-1-blue", "exp-0-blue"]  # newest first
    assert _names(sm.list_inference_experiments(SortBy="Name", SortOrder="Ascending")) == [
        "exp-0-blue",
        "exp-1-blue",
        "exp-2",
        "exp-3",
        "exp-4",
    ]
    assert _names(sm.list_inference_experiments(NameContains="BLUE", SortOrder="Ascending")) == [
        "exp-0-blue",
        "exp-1-blue",
    ]
    assert _names(sm.list_inference_experiments(StatusEquals="Created", SortBy="Name", SortOrder="Ascending")) == [
        "exp-1-blue",
        "exp-3",
    ]
    by_status = sm.list_inference_experiments(SortBy="Status", SortOrder="Ascending")["InferenceExperiments"]
    assert [e["Status"] for e in by_status] == sorted(e["Status"] for e in by_status)
    assert _names(sm.list_inference_experiments(Type="ShadowMode", MaxResults=100)) == _names(everything)
    after = T0 + dt.timedelta(seconds=90)
    before = T0 + dt.timedelta(seconds=200)
    assert _names(sm.list_inference_experiments(CreationTimeAfter=after, CreationTimeBefore=before)) == [
        "exp-3",
        "exp-2",
    ]
    assert _names(sm.list_inference_experiments(LastModifiedTimeAfter=T0 + dt.timedelta(seconds=230))) == ["exp-4"]
    assert _names(sm.list_inference_experiments(LastModifiedTimeBefore=T0 + dt.timedelta(seconds=1))) == ["exp-0-blue"]


def test_pagination(sm: Any, endpoint: Any, clock: Any) -> None:
    _make(sm, endpoint, clock)
    first = sm.list_inference_experiments(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert _names(first) == ["exp-0-blue", "exp-1-blue"]
    second = sm.list_inference_experiments(
        MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"]
    )
    assert _names(second) == ["exp-2", "exp-3"]
    pages = sm.get_paginator("list_inference_experiments").paginate(
        SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    collected = [name for page in pages for name in _names(page)]
    assert collected == ["exp-0-blue", "exp-1-blue", "exp-2", "exp-3", "exp-4"]
    assert "NextToken" not in sm.list_inference_experiments(MaxResults=5)
    assert len(_names(sm.list_inference_experiments())) == 5  # default page size 10
