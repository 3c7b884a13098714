"""The emulator's data capture: SageMaker's record format and key layout, lazily written, seeded."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine

from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.testing.capture import CaptureProfile, CaptureStream, capture_lines

if TYPE_CHECKING:
    from collections.abc import Iterator

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
REGION = "us-east-1"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with time_machine.travel(T0, tick=False) as clock, mock_shadow_tests(transition_seconds=0):
        sm, s3 = boto3.client("sagemaker", region_name=REGION), boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="captures")
        create_model(sm, "prod-model")
        create_model(sm, "candidate")
        create_endpoint(sm, "ep", "prod-model")
        yield clock, sm, s3


def _keys(s3: Any) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="captures")
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_captures_follow_sagemakers_layout_and_format(clients: Any) -> None:
    clock, sm, s3 = clients
    storage = {"Destination": "s3://captures/dc", "ContentType": {"CsvContentTypes": ["text/csv"]}}
    sm.create_inference_experiment(
        **shadow_test_request("exp", "ep", "prod-model", "candidate", DataStorageConfig=storage)
    )
    assert _keys(s3) == []  # nothing before time passes
    clock.shift(20 * 60)
    keys = _keys(s3)
    layout = re.compile(r"^dc/ep/(AllTraffic|shadow)/2030/01/06/12/\d\d-\d\d-\d{3}-[0-9a-f-]{36}\.jsonl$")
    assert keys
    assert all(layout.match(k) for k in keys), keys
    assert {k.split("/")[2] for k in keys} == {"AllTraffic", "shadow"}
    body = s3.get_object(Bucket="captures", Key=keys[0])["Body"].read().decode()
    record = json.loads(body.splitlines()[0])
    assert record["eventVersion"] == "0"
    assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
    output = record["captureData"]["endpointOutput"]
    assert output["encoding"] == "BASE64"  # application/json is not in the configured lists
    assert set(json.loads(base64.b64decode(output["data"]))) == {"predicted_label", "score"}
    assert re.match(r"^2030-01-06T12:\d\d:\d\dZ$", record["eventMetadata"]["inferenceTime"])
    # a later list writes only what is new: no record twice
    clock.shift(10 * 60)
    later = _keys(s3)
    assert set(keys) < set(later)
    events = [
        json.loads(line)["eventMetadata"]["eventId"]
        for key in later
        for line in s3.get_object(Bucket="captures", Key=key)["Body"].read().decode().splitlines()
    ]
    assert len(events) == len(set(events))


def test_shadow_share_follows_sampling_and_disagreement_follows_the_profile() -> None:
    stream = CaptureStream(
        bucket="b",
        prefix="",
        endpoint_name="ep",
        stream="ep/exp",
        production_variant="p",
        shadow_variant="s",
        shadow_percent=25.0,
        rps=5.0,
        shadow=CaptureProfile(disagreement_rate=0.2),
    )
    start = dt.datetime(2030, 1, 6, 12)
    lines = list(capture_lines(stream, 7, start, start + dt.timedelta(minutes=30)))
    production = [json.loads(line) for side, _, line in lines if side == 0]
    shadow = [json.loads(line) for side, _, line in lines if side == 1]
    assert 0.20 < len(shadow) / len(production) < 0.30
    by_input = {r["captureData"]["endpointInput"]["data"]: r for r in production}

    def label(r: dict[str, Any]) -> int:
        return int(json.loads(base64.b64decode(r["captureData"]["endpointOutput"]["data"]))["predicted_label"])

    disagree = sum(label(r) != label(by_input[r["captureData"]["endpointInput"]["data"]]) for r in shadow)
    assert 0.14 < disagree / len(shadow) < 0.26
    assert lines == list(capture_lines(stream, 7, start, start + dt.timedelta(minutes=30)))  # seeded
    assert lines != list(capture_lines(stream, 8, start, start + dt.timedelta(minutes=30)))


def test_no_capture_without_data_storage_config(clients: Any) -> None:
    clock, sm, s3 = clients
    sm.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "candidate"))
    clock.shift(30 * 60)
    assert _keys(s3) == []


def test_captures_are_written_in_both_modes(emulator: Any, clock: Any, sm: Any, endpoint: Any) -> None:
    """In-process and over HTTP (the server's own S3 listing writes them)."""
    endpoint("ep")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="captures")
    sm.create_inference_experiment(
        **shadow_test_request(
            "exp", "ep", "prod-model", "shadow-model", DataStorageConfig={"Destination": "s3://captures"}
        )
    )
    clock.shift(12 * 60)
    keys = _keys(s3)
    assert {k.split("/")[1] for k in keys} == {"AllTraffic", "shadow"}
    assert all(k.startswith("ep/") for k in keys)


def test_capture_profiles_layer_settings_environment_and_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_shadowtest.testing.capture import resolve_capture_profile, set_capture_profiles

    monkeypatch.setenv("SHADOWTEST_CAPTURE_PROFILES", '{"*": {"score_noise": 0.02}, "cand": {"score_shift": 0.1}}')
    assert resolve_capture_profile("cand") == CaptureProfile(score_noise=0.02, score_shift=0.1)
    tags = {"shadowtest:disagreement-rate": "10%", "shadowtest:score-shift": "oops"}
    assert resolve_capture_profile("cand", tags) == CaptureProfile(
        score_noise=0.02, score_shift=0.1, disagreement_rate=0.1
    )
    set_capture_profiles({"cand": {"disagreement_rate": 0.5}})
    try:
        assert resolve_capture_profile("cand").disagreement_rate == 0.5
        assert resolve_capture_profile("cand").score_shift == 0.0  # the environment no longer counts
    finally:
        set_capture_profiles(None)
    with pytest.raises(ValueError, match="disagreement_rate"):
        CaptureProfile(disagreement_rate=2)
