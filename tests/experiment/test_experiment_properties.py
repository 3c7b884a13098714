"""Properties over generated requests: valid ones pass unchanged, out-of-range sampling never does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_shadowtest.experiment import (
    InvalidExperimentRequest,
    build_create_request,
    validate_create_request,
)
from airflow_provider_shadowtest.experiment.service_model import instance_types
from tests.experiment.shadowtest_requests import ROLE, as_kwargs

UTC = dt.timezone.utc
NAME = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,40}", fullmatch=True)
TAG_TEXT = st.text(st.characters(categories=["L", "N", "Zs"], include_characters="_.:/=+-@"), min_size=1, max_size=40)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    source, shadow = draw(st.lists(NAME, min_size=2, max_size=2, unique=True))

    def variant(name: str) -> dict[str, Any]:
        return {
            "ModelName": draw(NAME),
            "VariantName": name,
            "InfrastructureConfig": {
                "InfrastructureType": "RealTimeInference",
                "RealTimeInferenceConfig": {
                    "InstanceType": draw(st.sampled_from(instance_types())),
                    "InstanceCount": draw(st.integers(0, 20)),
                },
            },
        }

    request: dict[str, Any] = {
        "Name": draw(NAME),
        "Type": "ShadowMode",
        "RoleArn": ROLE,
        "EndpointName": draw(NAME),
        "ModelVariants": [variant(source), variant(shadow)],
        "ShadowModeConfig": {
            "SourceModelVariantName": source,
            "ShadowModelVariants": [
                {"ShadowModelVariantName": shadow, "SamplingPercentage": draw(st.integers(0, 100))}
            ],
        },
    }
    if draw(st.booleans()):
        start = draw(st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2040, 1, 1), timezones=st.just(UTC)))
        length = draw(st.timedeltas(dt.timedelta(seconds=1), dt.timedelta(days=30)))
        request["Schedule"] = {"StartTime": start, "EndTime": start + length}
    if draw(st.booleans()):
        request["Description"] = draw(st.text(st.characters(exclude_characters="\n\r\x85\u2028\u2029"), max_size=80))
    if draw(st.booleans()):
        keys = draw(st.lists(TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:")), max_size=5, unique=True))
        request["Tags"] = [{"Key": k, "Value": draw(TAG_TEXT)} for k in keys]
    return request


@settings(max_examples=150, deadline=None)
@given(requests())
def test_any_valid_request_round_trips_unchanged(request: dict[str, Any]) -> None:
    assert validate_create_request(request) == []
    assert build_create_request(**as_kwargs(request)) == request


@settings(max_examples=100, deadline=None)
@given(requests(), st.one_of(st.integers(max_value=-1), st.integers(min_value=101)))
def test_any_sampling_outside_0_to_100_is_refused(request: dict[str, Any], sampling: int) -> None:
    request["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"] = sampling
    with pytest.raises(InvalidExperimentRequest) as info:
        build_create_request(**as_kwargs(request))
    assert info.value.errors == [
        ("shadow_mode_config.ShadowModelVariants[0].SamplingPercentage", f"must be between 0 and 100, got {sampling}")
    ]


@settings(max_examples=100, deadline=None)
@given(requests(), st.timedeltas(dt.timedelta(days=30, seconds=1), dt.timedelta(days=400)))
def test_any_schedule_longer_than_30_days_is_refused(request: dict[str, Any], length: dt.timedelta) -> None:
    start = dt.datetime(2030, 1, 1, tzinfo=UTC)
    request["Schedule"] = {"StartTime": start, "EndTime": start + length}
    assert [p for p, _ in validate_create_request(request, path_style="api")] == ["Schedule.EndTime"]
