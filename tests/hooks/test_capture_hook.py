"""CaptureHook against the emulator: both variants' captures streamed from S3, paired and judged."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine

from airflow_provider_shadowtest.hooks.capture import CaptureHook, CaptureNotConfiguredError, split_destination
from airflow_provider_shadowtest.testing import create_endpoint, create_model, mock_shadow_tests, shadow_test_request
from airflow_provider_shadowtest.verdict.capture import FAIL, INCONCLUSIVE, PASS, CaptureComparisonSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

T0 = dt.datetime(2030, 1, 6, 12, 0, tzinfo=dt.timezone.utc)
REGION = "us-east-1"
LABEL = CaptureComparisonSettings.from_mapping({"output": {"kind": "label", "json_path": "$.predicted_label"}})
STORAGE = {"Destination": "s3://captures/shadow-tests", "ContentType": {"CsvContentTypes": ["text/csv"]}}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with time_machine.travel(T0, tick=False) as clock, mock_shadow_tests(transition_seconds=0):
        yield clock


def _experiment(clock: Any, candidate_tags: dict[str, str], *, bucket: bool = True, storage: Any = STORAGE) -> Any:
    sm = boto3.client("sagemaker", region_name=REGION)
    if bucket:
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="captures")
    create_model(sm, "prod-model")
    create_model(sm, "candidate", tags=candidate_tags)
    create_endpoint(sm, "ep", "prod-model")
    extra = {"DataStorageConfig": storage} if storage else {}
    sm.create_inference_experiment(
        **shadow_test_request(
            "exp",
            "ep",
            "prod-model",
            "candidate",
            sampling_percent=50,
            Schedule={"StartTime": T0, "EndTime": T0 + dt.timedelta(hours=1)},
            **extra,
        )
    )
    clock.move_to(T0 + dt.timedelta(hours=2))
    return sm.describe_inference_experiment(Name="exp")


def _decisions(result: Any) -> dict[str, str]:
    return {c["name"]: c["decision"] for c in result.checks}


def test_an_agreeing_candidate_passes_and_a_disagreeing_one_fails(world: Any) -> None:
    experiment = _experiment(world, {"shadowtest:disagreement-rate": "10%"})
    hook = CaptureHook(aws_conn_id=None, region_name=REGION)
    bad = hook.compare_experiment(experiment, LABEL)
    assert _decisions(bad) == {"capture_pairing": PASS, "label_agreement": FAIL}
    pairing = bad.details["pairing"]
    assert pairing["by_method"]["inference_id"] > 0
    assert pairing["by_method"]["input"] > 0
    assert bad.details["records"]["shadow"]["objects"] >= 12  # 5-minute objects over an hour


def test_equal_models_pass(world: Any) -> None:
    experiment = _experiment(world, {})
    result = CaptureHook(aws_conn_id=None, region_name=REGION).compare_experiment(experiment, LABEL)
    assert _decisions(result) == {"capture_pairing": PASS, "label_agreement": PASS}
    assert result.details["labels"]["agreement_percent"] < 100  # score noise flips a few labels near 0.5


def test_missing_bucket_is_reported_and_inconclusive(world: Any) -> None:
    experiment = _experiment(world, {}, bucket=False)
    result = CaptureHook(aws_conn_id=None, region_name=REGION).compare_experiment(experiment, LABEL)
    assert _decisions(result) == {"capture_pairing": INCONCLUSIVE, "label_agreement": INCONCLUSIVE}
    counts = result.details["problems"]["production"]["counts"]
    assert counts["missing_prefix"] == 1
    assert counts["read_error"] >= 1  # NoSuchBucket, with its code
    assert "NoSuchBucket" in " ".join(result.details["problems"]["production"]["examples"])


def test_malformed_objects_are_counted(world: Any) -> None:
    experiment = _experiment(world, {})
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(
        Bucket="captures",
        Key="shadow-tests/ep/shadow/2030/01/06/12/zz-broken.jsonl",
        Body=b'{"truncated": \n\n{"captureData": {}}\n',
    )
    result = CaptureHook(aws_conn_id=None, region_name=REGION).compare_experiment(experiment, LABEL)
    counts = result.details["problems"]["shadow"]["counts"]
    assert counts == {"malformed_line": 1, "missing_field": 1}
    assert _decisions(result)["label_agreement"] == PASS


def test_experiment_without_capture_is_a_clear_error(world: Any) -> None:
    experiment = _experiment(world, {}, storage=None)
    with pytest.raises(CaptureNotConfiguredError, match="DataStorageConfig"):
        CaptureHook(aws_conn_id=None, region_name=REGION).compare_experiment(experiment, LABEL)


def test_split_destination() -> None:
    assert split_destination("s3://bucket/a/b/") == ("bucket", "a/b")
    assert split_destination("s3://bucket") == ("bucket", "")
    assert split_destination("https://bucket.s3.us-east-1.amazonaws.com/p") == ("bucket", "p")
    assert split_destination("https://s3.us-east-1.amazonaws.com/bucket/p/q") == ("bucket", "p/q")
    with pytest.raises(CaptureNotConfiguredError, match="Destination"):
        split_destination("ftp://x")


def test_large_objects_are_streamed_line_by_line_with_the_same_result(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = _experiment(world, {"shadowtest:disagreement-rate": "3%"})
    hook = CaptureHook(aws_conn_id=None, region_name=REGION)
    whole = hook.compare_experiment(experiment, LABEL)
    streamed_lines: list[str] = []
    original = CaptureHook.iter_lines

    def spy(self: CaptureHook, bucket: str, key: str) -> Any:
        streamed_lines.append(key)
        return original(self, bucket, key)

    monkeypatch.setattr("airflow_provider_shadowtest.hooks.capture.WHOLE_OBJECT_BYTES", 0)
    monkeypatch.setattr(CaptureHook, "iter_lines", spy)
    streamed = hook.compare_experiment(experiment, LABEL)
    assert len(streamed_lines) == whole.details["records"]["shadow"]["objects"] * 2
    assert streamed.checks == whole.checks
    assert streamed.details["labels"] == whole.details["labels"]
