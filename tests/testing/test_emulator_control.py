"""Faults, request counts, runtime settings, the HTTP control routes, the CLI and moto's own operations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from airflow_provider_shadowtest.testing import EmulatorSettings, create_endpoint, create_model, shadow_test_request
from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.settings import current_settings
from tests.testing.helpers_emulator import assert_matches_output


def test_faults_at_the_configured_rate(emulator: Any) -> None:
    calls = 500 if emulator.mode == "mock" else 200
    kinds = ("throttling", "http500", "http503", "drop")
    emulator.handle.configure(fault_rate=0.3, fault_seed=7, fault_kinds=kinds)
    sm = emulator.client(retries=1)
    seen: dict[str, int] = {}
    for _ in range(calls):
        try:
            sm.list_inference_experiments()
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            seen[code] = seen.get(code, 0) + 1
        except ConnectionClosedError:
            seen["drop"] = seen.get("drop", 0) + 1
    failed = sum(seen.values())
    assert 0.22 * calls < failed < 0.38 * calls
    assert set(seen) == {"ThrottlingException", "InternalFailure", "ServiceUnavailable", "drop"}
    assert emulator.handle.stats() == {"ListInferenceExperiments": calls}
    assert emulator.handle.fault_stats() == {"ListInferenceExperiments": failed}


def test_faults_are_seeded_and_limited_to_operations(emulator: Any) -> None:
    sm = emulator.client(retries=1)

    def outcomes() -> list[bool]:
        emulator.handle.configure(fault_rate=0.5, fault_seed=3, fault_operations=["ListInferenceExperiments"])
        result = []
        for _ in range(30):
            try:
                sm.list_inference_experiments()
                result.append(True)
            except ClientError:
                result.append(False)
        return result

    first = outcomes()
    assert first == outcomes()
    assert set(first) == {True, False}  # faults were injected, not only seeded
    emulator.handle.configure(fault_rate=0.5, fault_seed=3, fault_operations=["ListInferenceExperiments"])
    for _ in range(30):
        sm.list_models()  # not in fault_operations: never faulted
    assert "ListModels" not in emulator.handle.fault_stats()
    assert emulator.handle.stats()["ListModels"] == 30
    emulator.handle.configure(fault_rate=0.0)


def test_throttling_is_retried_by_botocore(emulator: Any) -> None:
    emulator.handle.configure(fault_rate=0.3, fault_seed=1)
    sm = emulator.client(retries=10)
    for _ in range(4):
        sm.list_inference_experiments()
    stats = emulator.handle.stats()["ListInferenceExperiments"]
    faults = emulator.handle.fault_stats()["ListInferenceExperiments"]
    assert faults >= 1  # some calls were throttled, and retried
    assert stats == 4 + faults


def _create_request(name: str = "exp") -> dict[str, Any]:
    return shadow_test_request(name, "ep", "prod-model", "shadow-model")


def test_drop_after_processes_the_call_then_loses_the_answer(emulator: Any, endpoint: Any) -> None:
    endpoint()
    emulator.handle.configure(fault_rate=1.0, fault_kinds="drop_after", fault_operations=["CreateInferenceExperiment"])
    sm = emulator.client(retries=1)
    with pytest.raises(ConnectionClosedError):
        sm.create_inference_experiment(**_create_request())
    # the client saw only a closed connection, yet SageMaker made the experiment
    assert [e["Name"] for e in sm.list_inference_experiments()["InferenceExperiments"]] == ["exp"]
    assert sm.describe_inference_experiment(Name="exp")["Status"] in ("Creating", "Created")
    assert emulator.handle.stats()["CreateInferenceExperiment"] == 1
    assert emulator.handle.fault_stats() == {"CreateInferenceExperiment": 1}
    assert COUNTERS.fault_kinds() == {"drop_after": 1}
    if emulator.mode == "server":
        assert emulator.http("GET", "/_shadowtest/fault-kinds") == {"CreateInferenceExperiment": {"drop_after": 1}}


def test_drop_after_makes_a_retried_create_meet_resource_in_use(emulator: Any, endpoint: Any) -> None:
    endpoint()
    # seed 4 at rate 0.5: the first draw faults, the second does not
    emulator.handle.configure(
        fault_rate=0.5, fault_seed=4, fault_kinds=["drop_after"], fault_operations=["CreateInferenceExperiment"]
    )
    sm = emulator.client(retries=3)
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_inference_experiment(**_create_request())
    assert emulator.handle.stats()["CreateInferenceExperiment"] == 2  # botocore retried the lost answer
    assert emulator.handle.fault_stats() == {"CreateInferenceExperiment": 1}
    assert [e["Name"] for e in sm.list_inference_experiments()["InferenceExperiments"]] == ["exp"]


def test_exact_request_counts(emulator: Any, endpoint: Any) -> None:
    sm = emulator.client()
    endpoint()
    emulator.handle.reset_stats()
    sm.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "shadow-model"))
    for _ in range(3):
        sm.describe_inference_experiment(Name="exp")
    cw = emulator.client("cloudwatch")
    cw.list_metrics(Namespace="AWS/SageMaker")
    cw.put_metric_data(Namespace="Custom", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert emulator.handle.stats() == {
        "CreateInferenceExperiment": 1,
        "DescribeInferenceExperiment": 3,
        "ListMetrics": 1,
        "PutMetricData": 1,
    }
    assert emulator.handle.fault_stats() == {}
    if emulator.mode == "server":
        assert emulator.http("GET", "/_shadowtest/stats") == emulator.handle.stats()
        assert emulator.http("GET", "/_shadowtest/faults") == {}
        assert emulator.http("POST", "/_shadowtest/reset") == {"reset": True}
        assert emulator.http("GET", "/_shadowtest/stats") == {}


def test_settings_routes(emulator: Any) -> None:
    if emulator.mode != "server":
        pytest.skip("HTTP routes exist in server mode only")
    assert emulator.http("GET", "/_shadowtest/settings")["transition_seconds"] == 1.0
    changed = emulator.http("POST", "/_shadowtest/settings", {"fault_rate": 0.25, "fault_kinds": "http503,drop"})
    assert changed["fault_rate"] == 0.25
    assert current_settings().fault_kinds == ("http503", "drop")
    assert emulator.http("POST", "/_shadowtest/settings", {"fault_rate": 2})["status"] == 400
    assert emulator.http("GET", "/_shadowtest/nothing")["status"] == 404
    assert emulator.http("GET", "/_shadowtest/health") == {"ok": True}


def test_moto_reset_wipes_experiments(emulator: Any, endpoint: Any) -> None:
    if emulator.mode != "server":
        pytest.skip("moto-api reset over HTTP")
    sm = emulator.client()
    endpoint()
    sm.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "shadow-model"))
    emulator.http("POST", "/moto-api/reset")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_inference_experiment(Name="exp")


def test_moto_endpoint_operations_still_work(sm: Any) -> None:
    model_arn = create_model(sm, "m1", tags={"team": "ml"})
    assert sm.describe_model(ModelName="m1")["ModelArn"] == model_arn
    create_model(sm, "m2")
    sm.create_endpoint_config(
        EndpointConfigName="cfg",
        ProductionVariants=[
            {"VariantName": "v1", "ModelName": "m1", "InstanceType": "ml.m6i.xlarge", "InitialInstanceCount": 1}
        ],
        ShadowProductionVariants=[
            {"VariantName": "v2", "ModelName": "m2", "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 1}
        ],
    )
    config = sm.describe_endpoint_config(EndpointConfigName="cfg")
    assert [v["ModelName"] for v in config["ShadowProductionVariants"]] == ["m2"]
    sm.create_endpoint(EndpointName="e1", EndpointConfigName="cfg")
    described = sm.describe_endpoint(EndpointName="e1")
    assert described["EndpointStatus"] == "InService"
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["v2"]
    arn = create_endpoint(sm, "e2", "m1", instance_type="ml.m5.large")
    assert arn.endswith(":endpoint/e2")
    assert {e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]} == {"e1", "e2"}
    with pytest.raises(ClientError) as err:
        sm.create_endpoint_config(
            EndpointConfigName="bad",
            ProductionVariants=[{"VariantName": "v", "ModelName": "m1", "InstanceType": "ml.nope.xlarge"}],
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    sm.delete_endpoint(EndpointName="e2")
    # e1 already hosts its one shadow variant: no room for an experiment's
    with pytest.raises(ClientError) as err:
        sm.create_inference_experiment(**shadow_test_request("exp", "e1", "m1", "m2", production_variant="v1"))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "endpoint e1 already has a shadow variant (v2)" in err.value.response["Error"]["Message"]
    create_endpoint(sm, "e3", "m1", variant_name="v1")
    result = sm.create_inference_experiment(**shadow_test_request("exp", "e3", "m1", "m2", production_variant="v1"))
    assert_matches_output("CreateInferenceExperiment", result)


def test_settings_from_env_and_validation() -> None:
    env = {
        "SHADOWTEST_TRANSITION_SECONDS": "0.5",
        "SHADOWTEST_FAULT_RATE": "0.1",
        "SHADOWTEST_FAULT_KINDS": "throttling, drop",
        "SHADOWTEST_FAULT_SEED": "9",
        "SHADOWTEST_FAULT_OPERATIONS": "DescribeInferenceExperiment",
        "SHADOWTEST_METRICS_SEED": "4",
        "SHADOWTEST_TRAFFIC_PROFILES": '{"m": {"latency_ms": 20}}',
    }
    settings = EmulatorSettings.from_env(env)
    assert settings == EmulatorSettings(
        transition_seconds=0.5,
        fault_rate=0.1,
        fault_kinds=("throttling", "drop"),
        fault_seed=9,
        fault_operations=frozenset({"DescribeInferenceExperiment"}),
        traffic_profiles={"m": {"latency_ms": 20}},
        metrics_seed=4,
    )
    assert EmulatorSettings.from_env({}) == EmulatorSettings()
    for bad in ({"fault_rate": 1.5}, {"fault_kinds": ("boom",)}, {"transition_seconds": -1}, {"nope": 1}):
        with pytest.raises(ValueError, match=r"fault_rate|fault_kinds|transition_seconds|unknown"):
            EmulatorSettings().replace(**bad)
    assert EmulatorSettings().replace(fault_kinds="http500").to_json()["fault_kinds"] == ["http500"]


def test_pytest_fixture(shadow_tests: Any) -> None:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    assert sm.list_inference_experiments()["InferenceExperiments"] == []
    assert shadow_tests.stats() == {"ListInferenceExperiments": 1}
    assert shadow_tests.settings.transition_seconds == 1.0


def test_cli_serves_and_prints_its_port(tmp_path: Any) -> None:
    env = dict(os.environ, SHADOWTEST_TRANSITION_SECONDS="0", SHADOWTEST_FAULT_SEED="5")
    log = tmp_path / "requests.log"
    with (
        (tmp_path / "stderr.txt").open("w") as stderr,
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_provider_shadowtest.testing.server",
                "--port",
                "0",
                "--log-file",
                str(log),
                "--fault-rate",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        ) as proc,
    ):
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("listening on http://127.0.0.1:"), line
            url = line.removeprefix("listening on ")
            sm = boto3.client("sagemaker", region_name="us-east-1", endpoint_url=url)
            create_endpoint(sm, "ep", "prod-model")
            create_model(sm, "shadow-model")
            sm.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "shadow-model"))
            assert sm.describe_inference_experiment(Name="exp")["Status"] == "Running"
            with urllib.request.urlopen(f"{url}/_shadowtest/settings", timeout=10) as resp:
                settings = json.loads(resp.read())
            assert (settings["transition_seconds"], settings["fault_seed"]) == (0.0, 5)
            with urllib.request.urlopen(f"{url}/_shadowtest/stats", timeout=10) as resp:
                assert json.loads(resp.read())["CreateInferenceExperiment"] == 1
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    assert proc.returncode == 0, (tmp_path / "stderr.txt").read_text()
    assert "GET /_shadowtest/stats" in log.read_text()
