"""Bad input never reaches SageMaker: a corpus of invalid create requests, each rejected by the operator.

Every case goes through ``CreateInferenceExperimentOperator``: template fields are rendered
from DAG params (so the type confusions Jinja produces are covered), then ``execute`` runs
against the in-process emulator. Each must raise ``InvalidExperimentRequest`` naming the
field path, and the emulator must have received no request at all.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.operators.inference_experiment import CreateInferenceExperimentOperator
from airflow_provider_shadowtest.testing import EmulatorHandle, create_endpoint, create_model, mock_shadow_tests

ENDPOINT = "bad-input-endpoint"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerShadowTest"
START = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=1)
RT = "model_variants[0].InfrastructureConfig.RealTimeInferenceConfig"
SHADOW = "shadow_mode_config.ShadowModelVariants[0]"
#: What DAG params hold; the templated cases render these.
PARAMS: dict[str, Any] = {"abc": "abc", "empty": "", "half": "5.5", "minus": "-1", "big": "101"}

Arguments = dict[str, Any]
Mutation = Callable[[Arguments], None]


def _variant(model: str, name: str) -> dict[str, Any]:
    return {
        "ModelName": model,
        "VariantName": name,
        "InfrastructureConfig": {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        },
    }


def _valid_arguments() -> Arguments:
    return {
        "name": "valid-shadow-test",
        "endpoint_name": ENDPOINT,
        "role_arn": ROLE_ARN,
        "model_variants": [_variant("prod-model", "production"), _variant("shadow-model", "shadow")],
        "shadow_mode_config": {
            "SourceModelVariantName": "production",
            "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 50}],
        },
        "start_time": START,
        "duration": "PT2H",
    }


def top(key: str, value: Any) -> Mutation:
    def mutate(arguments: Arguments) -> None:
        arguments[key] = value

    return mutate


def nested(*path: str | int, value: Any) -> Mutation:
    """Set the value at ``path`` inside the arguments (first element: the argument)."""

    def mutate(arguments: Arguments) -> None:
        target: Any = arguments
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def rt(key: str, value: Any) -> Mutation:
    return nested("model_variants", 0, "InfrastructureConfig", "RealTimeInferenceConfig", key, value=value)


def sampling(value: Any) -> Mutation:
    return nested("shadow_mode_config", "ShadowModelVariants", 0, "SamplingPercentage", value=value)


def schedule(start: str, end: str) -> Mutation:
    def mutate(arguments: Arguments) -> None:
        arguments.update(start_time=None, duration=None, schedule={"StartTime": start, "EndTime": end})

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(arguments: Arguments) -> None:
        for mutation in mutations:
            mutation(arguments)

    return mutate


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    path: str

    def arguments(self) -> Arguments:
        arguments = copy.deepcopy(_valid_arguments())
        self.mutate(arguments)
        return arguments


CASES = [
    # -- name ----------------------------------------------------------------------------------
    Case("name-none", top("name", None), "name"),
    Case("name-empty", top("name", ""), "name"),
    Case("name-empty-from-template", top("name", "{{ params.empty }}"), "name"),
    Case("name-121-chars", top("name", "n" * 121), "name"),
    Case("name-underscore", top("name", "my_experiment"), "name"),
    Case("name-leading-dash", top("name", "-experiment"), "name"),
    Case("name-int", top("name", 5), "name"),
    Case("name-dict", top("name", {"name": "x"}), "name"),
    # -- endpoint, role, type ------------------------------------------------------------------
    Case("endpoint-none", top("endpoint_name", None), "endpoint_name"),
    Case("endpoint-64-chars", top("endpoint_name", "e" * 64), "endpoint_name"),
    Case("endpoint-dot", top("endpoint_name", "my.endpoint"), "endpoint_name"),
    Case("endpoint-list", top("endpoint_name", [ENDPOINT]), "endpoint_name"),
    Case("role-empty", top("role_arn", ""), "role_arn"),
    Case("role-not-iam", top("role_arn", "arn:aws:s3::123456789012:role/x"), "role_arn"),
    Case("role-list", top("role_arn", [ROLE_ARN]), "role_arn"),
    Case("type-bad-enum", top("type", "ABTest"), "type"),
    Case("type-bool", top("type", True), "type"),
    # -- model variants ------------------------------------------------------------------------
    Case("variants-dict-not-list", top("model_variants", {"ModelName": "prod-model"}), "model_variants"),
    Case("variants-empty", top("model_variants", []), "model_variants"),
    Case(
        "variants-three",
        top("model_variants", [_variant("a", "production"), _variant("b", "shadow"), _variant("c", "third")]),
        "model_variants",
    ),
    Case("variants-nested-list", top("model_variants", [[_variant("a", "production")]]), "model_variants[0]"),
    Case("variants-item-string", nested("model_variants", 0, value="prod-model"), "model_variants[0]"),
    Case("variants-not-json", top("model_variants", "production and shadow"), "model_variants"),
    Case("variants-json-number", top("model_variants", "5"), "model_variants"),
    Case(
        "model-name-underscore",
        nested("model_variants", 0, "ModelName", value="model_1"),
        "model_variants[0].ModelName",
    ),
    Case(
        "model-name-64-chars", nested("model_variants", 1, "ModelName", value="m" * 64), "model_variants[1].ModelName"
    ),
    Case("variant-name-none", nested("model_variants", 0, "VariantName", value=None), "model_variants[0].VariantName"),
    Case(
        "infrastructure-none",
        nested("model_variants", 0, "InfrastructureConfig", value=None),
        "model_variants[0].InfrastructureConfig",
    ),
    Case(
        "infrastructure-list",
        nested("model_variants", 0, "InfrastructureConfig", value=[{"InfrastructureType": "RealTimeInference"}]),
        "model_variants[0].InfrastructureConfig",
    ),
    Case(
        "infrastructure-type-bad-enum",
        nested("model_variants", 0, "InfrastructureConfig", "InfrastructureType", value="RealTime"),
        "model_variants[0].InfrastructureConfig.InfrastructureType",
    ),
    Case("instance-type-unknown", rt("InstanceType", "ml.m5.huge"), f"{RT}.InstanceType"),
    Case("instance-type-empty-from-template", rt("InstanceType", "{{ params.empty }}"), f"{RT}.InstanceType"),
    Case("instance-count-negative", rt("InstanceCount", -1), f"{RT}.InstanceCount"),
    Case("instance-count-abc-from-template", rt("InstanceCount", "{{ params.abc }}"), f"{RT}.InstanceCount"),
    Case("instance-count-empty-from-template", rt("InstanceCount", "{{ params.empty }}"), f"{RT}.InstanceCount"),
    Case("instance-count-none", rt("InstanceCount", None), f"{RT}.InstanceCount"),
    Case("instance-count-bool", rt("InstanceCount", True), f"{RT}.InstanceCount"),
    Case("instance-count-fraction", rt("InstanceCount", 1.5), f"{RT}.InstanceCount"),
    Case("instance-count-fraction-string", rt("InstanceCount", "{{ params.half }}"), f"{RT}.InstanceCount"),
    Case("instance-count-list", rt("InstanceCount", [1]), f"{RT}.InstanceCount"),
    Case(
        "duplicate-variant-names",
        nested("model_variants", 1, "VariantName", value="production"),
        "model_variants[1].VariantName",
    ),
    # -- shadow mode config --------------------------------------------------------------------
    Case(
        "shadow-config-list-not-dict",
        top("shadow_mode_config", [{"SourceModelVariantName": "x"}]),
        "shadow_mode_config",
    ),
    Case("shadow-config-not-json", top("shadow_mode_config", "{shadow: 50}"), "shadow_mode_config"),
    Case("shadow-config-unknown-key", nested("shadow_mode_config", "Sampling", value=5), "shadow_mode_config.Sampling"),
    Case(
        "source-not-a-variant",
        nested("shadow_mode_config", "SourceModelVariantName", value="prod"),
        "shadow_mode_config.SourceModelVariantName",
    ),
    Case(
        "source-none",
        nested("shadow_mode_config", "SourceModelVariantName", value=None),
        "shadow_mode_config.SourceModelVariantName",
    ),
    Case(
        "shadow-equals-source",
        nested("shadow_mode_config", "ShadowModelVariants", 0, "ShadowModelVariantName", value="production"),
        f"{SHADOW}.ShadowModelVariantName",
    ),
    Case(
        "shadow-not-in-model-variants",
        nested("shadow_mode_config", "ShadowModelVariants", 0, "ShadowModelVariantName", value="candidate"),
        f"{SHADOW}.ShadowModelVariantName",
    ),
    Case(
        "shadow-variants-empty",
        nested("shadow_mode_config", "ShadowModelVariants", value=[]),
        "shadow_mode_config.ShadowModelVariants",
    ),
    Case(
        "shadow-variants-two",
        nested(
            "shadow_mode_config",
            "ShadowModelVariants",
            value=[{"ShadowModelVariantName": "shadow", "SamplingPercentage": 5}] * 2,
        ),
        "shadow_mode_config.ShadowModelVariants",
    ),
    Case(
        "shadow-variants-dict-not-list",
        nested("shadow_mode_config", "ShadowModelVariants", value={"ShadowModelVariantName": "shadow"}),
        "shadow_mode_config.ShadowModelVariants",
    ),
    Case("sampling-minus-1", sampling(-1), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-minus-1-from-template", sampling("{{ params.minus }}"), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-101", sampling(101), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-101-from-template", sampling("{{ params.big }}"), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-5.5-string", sampling("{{ params.half }}"), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-5.5-float", sampling(5.5), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-abc", sampling("{{ params.abc }}"), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-empty-string", sampling("{{ params.empty }}"), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-none", sampling(None), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-bool", sampling(True), f"{SHADOW}.SamplingPercentage"),
    Case("sampling-nested-list", sampling([50]), f"{SHADOW}.SamplingPercentage"),
    # -- schedule ------------------------------------------------------------------------------
    Case("duration-31-days", top("duration", "P31D"), "duration"),
    Case("duration-abc", top("duration", "{{ params.abc }}"), "duration"),
    Case("start-abc", top("start_time", "{{ params.abc }}"), "start_time"),
    Case(
        "end-before-start",
        both(top("duration", None), top("end_time", START - dt.timedelta(hours=1))),
        "end_time",
    ),
    Case("schedule-end-before-start", schedule("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z"), "schedule.EndTime"),
    Case("schedule-31-days", schedule("2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"), "schedule.EndTime"),
    Case("schedule-not-json", both(schedule("", ""), top("schedule", "tomorrow")), "schedule"),
    Case("schedule-list", both(schedule("", ""), top("schedule", ["2030-01-01T00:00:00Z"])), "schedule"),
    # -- description, KMS key, data capture ----------------------------------------------------
    Case("description-1025-chars", top("description", "d" * 1025), "description"),
    Case("kms-key-2049-chars", top("kms_key", "k" * 2049), "kms_key"),
    Case(
        "capture-destination-http",
        top("data_storage_config", {"Destination": "http://bucket/p"}),
        "data_storage_config.Destination",
    ),
    Case("capture-destination-missing", top("data_storage_config", {"KmsKey": "k"}), "data_storage_config.Destination"),
    Case(
        "capture-csv-types-empty",
        top("data_storage_config", {"Destination": "s3://bucket/p", "ContentType": {"CsvContentTypes": []}}),
        "data_storage_config.ContentType.CsvContentTypes",
    ),
    # -- tags ----------------------------------------------------------------------------------
    Case("tags-51", top("tags", {f"key-{i}": "v" for i in range(51)}), "tags"),
    Case("tag-aws-prefix", top("tags", {"aws:owner": "me"}), "tags[0].Key"),
    Case(
        "tag-keys-duplicate", top("tags", [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]), "tags[1].Key"
    ),
    Case("tag-key-empty", top("tags", {"": "v"}), "tags[0].Key"),
    Case("tag-key-129-chars", top("tags", {"k" * 129: "v"}), "tags[0].Key"),
    Case("tag-value-none", top("tags", {"team": None}), "tags[0].Value"),
    Case("tags-list-of-strings", top("tags", ["team"]), "tags[0]"),
    Case("tags-not-json", top("tags", "team=ml"), "tags"),
    # -- the operator's own arguments ----------------------------------------------------------
    Case("if-exists-bad", top("if_exists", "overwrite"), "if_exists"),
    Case("wait-for-bad", top("wait_for", "forever"), "wait_for"),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    """The in-process emulator with the endpoint a valid request would use."""
    with mock_shadow_tests(transition_seconds=0.1) as handle:
        client = boto3.client("sagemaker", region_name="us-east-1")
        create_endpoint(client, ENDPOINT, "prod-model", variant_name="production")
        create_model(client, "shadow-model")
        yield handle


class _TaskInstance:
    """Just enough of a task instance for execute(): it keeps what the operator pushes to XCom."""

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def _run(arguments: Arguments) -> dict[str, Any]:
    operator = CreateInferenceExperimentOperator(task_id="create", aws_conn_id=None, deferrable=False, **arguments)
    context: Any = {"params": dict(PARAMS), "ti": _TaskInstance()}
    operator.render_template_fields(context)
    return operator.execute(context)


def test_corpus_covers_at_least_60_distinct_cases() -> None:
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_invalid_request_is_rejected_before_any_sagemaker_call(case: Case, emulator: EmulatorHandle) -> None:
    emulator.reset_stats()

    with pytest.raises(InvalidExperimentRequest) as raised:
        _run(case.arguments())

    paths = [path for path, _ in raised.value.errors]
    assert case.path in paths
    assert f"{case.path}: " in str(raised.value)
    assert emulator.stats() == {}


def test_the_valid_request_the_corpus_mutates_does_reach_the_emulator(emulator: EmulatorHandle) -> None:
    """Positive control: the same harness counts SageMaker calls when the request is valid."""
    emulator.reset_stats()

    result = _run({**_valid_arguments(), "name": "control-{{ params.abc }}"})

    assert result["name"] == "control-abc"
    assert emulator.stats().get("CreateInferenceExperiment") == 1
