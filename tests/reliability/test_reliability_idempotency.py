"""A retried create never makes a second experiment: killed tasks, changed configs, botocore retries.

All three run against the emulator served over HTTP from a thread of this process, so a task
in a subprocess and the retry here see the same SageMaker state and the same request counts.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_shadowtest.exceptions import ExperimentConfigMismatch
from airflow_provider_shadowtest.operators.inference_experiment import CreateInferenceExperimentOperator
from airflow_provider_shadowtest.testing import EmulatorServer, create_endpoint, create_model
from airflow_provider_shadowtest.testing.faults import DropConnection

if TYPE_CHECKING:
    from collections.abc import Iterator

ENDPOINT = "idempotency-endpoint"
NAME = "retried-shadow-test"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerShadowTest"
#: Exit code of the first try, killed right after CreateInferenceExperiment returned.
KILLED = 17
#: A scheduled start the emulator accepts (within a year), the same for every try.
START = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).replace(second=0, microsecond=0).isoformat()

#: The first try of the task, in its own process: it dies as soon as the create call returned.
FIRST_TRY = textwrap.dedent(
    """
    import json, os, sys
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
    from airflow_provider_shadowtest.operators.inference_experiment import CreateInferenceExperimentOperator

    real_create = InferenceExperimentHook.create_inference_experiment

    def create_then_die(self, request):
        response = real_create(self, request)
        print("created", response["InferenceExperimentArn"], flush=True)
        os._exit(KILLED)

    InferenceExperimentHook.create_inference_experiment = create_then_die

    class TaskInstance:
        def xcom_push(self, key, value):
            pass

    operator = CreateInferenceExperimentOperator(task_id="create", **json.loads(sys.argv[1]))
    operator.execute({"ti": TaskInstance()})
    print("the task was not killed", flush=True)
    """
).replace("KILLED", str(KILLED))


class _TaskInstance:
    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer("127.0.0.1", 0, transition_seconds=0.2) as emulator:
        yield emulator


@pytest.fixture
def emulator(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Fresh state, zeroed counts, the endpoint, and ``aws_default`` pointing at the server."""
    with urllib.request.urlopen(urllib.request.Request(f"{server.url}/moto-api/reset", data=b"", method="POST")):
        pass
    connection = {"conn_type": "aws", "extra": {"endpoint_url": server.url, "region_name": "us-east-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    client = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=server.url)
    create_endpoint(client, ENDPOINT, "prod-model", variant_name="production")
    create_model(client, "shadow-model")
    server.reset_stats()
    return server


@pytest.fixture
def sagemaker(emulator: EmulatorServer) -> Any:
    return boto3.client("sagemaker", region_name="us-east-1", endpoint_url=emulator.url)


def _arguments(sampling: int = 50, instance_type: str = "ml.m5.xlarge") -> dict[str, Any]:
    def variant(model: str, name: str) -> dict[str, Any]:
        return {
            "ModelName": model,
            "VariantName": name,
            "InfrastructureConfig": {
                "InfrastructureType": "RealTimeInference",
                "RealTimeInferenceConfig": {"InstanceType": instance_type, "InstanceCount": 1},
            },
        }

    return {
        "name": NAME,
        "endpoint_name": ENDPOINT,
        "role_arn": ROLE_ARN,
        "model_variants": [variant("prod-model", "production"), variant("shadow-model", "shadow")],
        "shadow_mode_config": {
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": sampling}],
        },
        "start_time": START,
        "duration": "P1D",
        "deferrable": False,
        "poke_interval": 0.1,
    }


def _try(**changes: Any) -> dict[str, Any]:
    """One in-process try of the create task."""
    operator = CreateInferenceExperimentOperator(task_id="create", **{**_arguments(), **changes})
    context: Any = {"ti": _TaskInstance()}
    return operator.execute(context)


def _experiments(sagemaker: Any) -> list[str]:
    return [e["Name"] for e in sagemaker.list_inference_experiments()["InferenceExperiments"]]


def test_task_killed_right_after_the_create_call_is_retried_green_reusing_the_experiment(
    emulator: EmulatorServer, sagemaker: Any
) -> None:
    first = subprocess.run(
        [sys.executable, "-c", FIRST_TRY, json.dumps(_arguments())],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first.returncode == KILLED, first.stdout[-2000:] + first.stderr[-2000:]
    assert "created arn:aws:sagemaker:" in first.stdout
    created_arn = first.stdout.split("created ", 1)[1].split()[0]
    assert _experiments(sagemaker) == [NAME]

    retry = _try()

    assert retry["reused"] is True
    assert retry["arn"] == created_arn
    assert _experiments(sagemaker) == [NAME]
    assert emulator.stats()["CreateInferenceExperiment"] == 1


def test_a_changed_config_under_the_same_name_fails_naming_each_difference(
    emulator: EmulatorServer, sagemaker: Any
) -> None:
    _try()

    with pytest.raises(ExperimentConfigMismatch) as raised:
        _try(**_arguments(sampling=40, instance_type="ml.c5.xlarge"))

    message = str(raised.value)
    assert NAME in message
    assert any("SamplingPercentage" in d and "50" in d and "40" in d for d in raised.value.differences), message
    assert any("InstanceType" in d and "ml.c5.xlarge" in d for d in raised.value.differences), message
    assert all(d in message for d in raised.value.differences)
    assert _experiments(sagemaker) == [NAME]
    assert emulator.stats()["CreateInferenceExperiment"] == 1
    kept = sagemaker.describe_inference_experiment(Name=NAME)["ShadowModeConfig"]
    assert kept["ShadowModelVariants"][0]["SamplingPercentage"] == 50


def test_botocore_retrying_a_create_whose_first_attempt_succeeded_gives_one_experiment(
    emulator: EmulatorServer, sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator's own "drop" fault closes the connection *before* processing; here the first
    # attempt is processed and only its answer is lost, so botocore's retry meets ResourceInUse.
    processed = SageMakerResponse.create_inference_experiment  # type: ignore[attr-defined]  # added by install()
    dropped: list[str] = []

    def create_then_drop_the_answer(self: Any) -> Any:
        result = processed(self)
        if not dropped:
            dropped.append("first attempt")
            raise DropConnection("CreateInferenceExperiment")
        return result

    monkeypatch.setattr(SageMakerResponse, "create_inference_experiment", create_then_drop_the_answer)

    result = _try()

    assert dropped == ["first attempt"]
    assert emulator.stats()["CreateInferenceExperiment"] == 2  # botocore did retry
    assert _experiments(sagemaker) == [NAME]
    assert result["name"] == NAME
    assert result["status"] in ("Creating", "Created")
