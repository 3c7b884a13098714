"""Hypothesis strategies of requests the emulator must refuse, each with the error it must give.

Three families, for every emulated operation:

- bytes that are not a JSON object (random bytes, truncated JSON) -> ``SerializationException``;
- JSON that is not an object (arrays, strings, numbers, null) -> ``SerializationException``;
- a valid request with one member broken, walked from botocore's model: a value of the wrong
  JSON type -> ``SerializationException``; a missing required member, a string too long or too
  short, a value outside the enum, a number out of range, a list too long or empty ->
  ``ValidationException`` (CloudWatch ``ValidationError``). The message must name the member.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import botocore.session
from hypothesis import strategies as st

T_START = 1_893_456_000  # 2030-01-01, epoch seconds as botocore sends timestamps in JSON
ROLE = "arn:aws:iam::123456789012:role/SageMakerShadowTest"


def _variant(model: str, name: str) -> dict[str, Any]:
    return {
        "ModelName": model,
        "VariantName": name,
        "InfrastructureConfig": {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    }


_SHADOW_CONFIG = {
    "SourceModelVariantName": "AllTraffic",
    "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 50}],
}
_QUERY = {
    "Id": "q",
    "MetricStat": {
        "Metric": {
            "Namespace": "AWS/SageMaker",
            "MetricName": "Invocations",
            "Dimensions": [{"Name": "EndpointName", "Value": "ep"}],
        },
        "Period": 60,
        "Stat": "Sum",
    },
}

#: A valid request per operation, as JSON on the wire: (service, operation) -> body.
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("sagemaker", "CreateInferenceExperiment"): {
        "Name": "exp-new",
        "Type": "ShadowMode",
        "RoleArn": ROLE,
        "EndpointName": "ep",
        "ModelVariants": [_variant("prod-model", "AllTraffic"), _variant("shadow-model", "shadow")],
        "ShadowModeConfig": _SHADOW_CONFIG,
        "Schedule": {"StartTime": T_START, "EndTime": T_START + 3600},
        "Description": "d",
    },
    ("sagemaker", "DescribeInferenceExperiment"): {"Name": "exp"},
    ("sagemaker", "UpdateInferenceExperiment"): {
        "Name": "exp",
        "Description": "d",
        "ModelVariants": [_variant("prod-model", "AllTraffic"), _variant("shadow-model", "shadow")],
        "ShadowModeConfig": _SHADOW_CONFIG,
        "Schedule": {"StartTime": T_START, "EndTime": T_START + 3600},
    },
    ("sagemaker", "StartInferenceExperiment"): {"Name": "exp"},
    ("sagemaker", "StopInferenceExperiment"): {
        "Name": "exp",
        "ModelVariantActions": {"AllTraffic": "Retain", "shadow": "Remove"},
        "DesiredState": "Completed",
        "Reason": "r",
    },
    ("sagemaker", "ListInferenceExperiments"): {
        "NameContains": "exp",
        "Type": "ShadowMode",
        "StatusEquals": "Running",
        "SortBy": "Name",
        "SortOrder": "Ascending",
        "MaxResults": 10,
        "CreationTimeAfter": T_START,
    },
    ("sagemaker", "DeleteInferenceExperiment"): {"Name": "exp"},
    ("sagemaker", "CreateModel"): {
        "ModelName": "model-new",
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
    },
    ("sagemaker", "CreateEndpointConfig"): {
        "EndpointConfigName": "config-new",
        "ProductionVariants": [
            {"VariantName": "v", "ModelName": "prod-model", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
        ],
    },
    ("sagemaker", "CreateEndpoint"): {"EndpointName": "ep-new", "EndpointConfigName": "ep-config"},
    ("sagemaker", "DescribeEndpoint"): {"EndpointName": "ep"},
    ("cloudwatch", "GetMetricData"): {
        "MetricDataQueries": [_QUERY],
        "StartTime": T_START,
        "EndTime": T_START + 3600,
        "MaxDatapoints": 100,
    },
    ("cloudwatch", "GetMetricStatistics"): {
        "Namespace": "AWS/SageMaker",
        "MetricName": "Invocations",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}],
        "StartTime": T_START,
        "EndTime": T_START + 3600,
        "Period": 60,
        "Statistics": ["Sum"],
    },
    ("cloudwatch", "ListMetrics"): {"Namespace": "AWS/SageMaker", "MetricName": "Invocations"},
    ("cloudwatch", "PutMetricData"): {
        "Namespace": "Custom",
        "MetricData": [{"MetricName": "m", "Value": 1.0, "Unit": "Count"}],
    },
}
OPERATIONS = sorted(VALID_BODIES)
SERIALIZATION = "SerializationException"
VALIDATION = {"sagemaker": "ValidationException", "cloudwatch": "ValidationError"}


@dataclass(frozen=True)
class BadRequest:
    """A request and what the emulator must answer: the error code and a word the message names."""

    service: str
    operation: str
    body: bytes
    code: str
    names: str

    def __repr__(self) -> str:
        return (
            f"BadRequest({self.service}.{self.operation}, {self.code}, names={self.names!r}, body={self.body[:200]!r})"
        )


_MODELS = {name: botocore.session.get_session().get_service_model(name) for name in ("sagemaker", "cloudwatch")}


def _input_shape(service: str, operation: str) -> Any:
    return _MODELS[service].operation_model(operation).input_shape


def _is_json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw.decode("utf-8")), dict)
    except ValueError:  # UnicodeDecodeError is a ValueError
        return False


operations = st.sampled_from(OPERATIONS)
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)


@st.composite
def unreadable_bytes(draw: st.DrawFn) -> BadRequest:
    """Random bytes, or a valid body cut short: never a JSON object."""
    service, operation = draw(operations)
    valid = json.dumps(VALID_BODIES[(service, operation)]).encode()
    raw = draw(st.binary(min_size=1, max_size=300) | st.integers(1, len(valid) - 1).map(lambda n: valid[:n]))
    if not raw.strip(b" \t\r\n") or _is_json_object(raw):
        raw = b"\xff" + raw
    return BadRequest(service, operation, raw, SERIALIZATION, "request body")


@st.composite
def non_object_json(draw: st.DrawFn) -> BadRequest:
    """Well-formed JSON whose top level is not an object."""
    service, operation = draw(operations)
    value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    return BadRequest(service, operation, json.dumps(value).encode(), SERIALIZATION, "request body")


# -- one member broken -----------------------------------------------------------------------------
def _sites(shape: Any, value: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Every (path, shape, member name) of a valid body, descending into present values."""
    out: list[tuple[tuple[Any, ...], Any, str]] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                out.append(((*path, name), member, name))
                out.extend(_sites(member, value[name], (*path, name)))
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_sites(shape.member, item, (*path, index)))
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            out.extend(_sites(shape.value, item, (*path, key)))
    return out


_WRONG_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "structure": st.text() | st.integers() | st.lists(st.integers(), max_size=3),
    "map": st.text() | st.integers() | st.lists(st.integers(), max_size=3),
    "list": st.text() | st.integers() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    "string": st.integers() | st.booleans() | st.lists(st.text(max_size=5), max_size=3) | st.just({}),
    "integer": st.text() | st.booleans() | st.floats(0.1, 0.9) | st.lists(st.integers(), max_size=2),
    "long": st.text() | st.booleans() | st.floats(0.1, 0.9),
    "double": st.text() | st.booleans() | st.lists(st.integers(), max_size=2),
    "boolean": st.text() | st.integers() | st.just([]),
    "timestamp": st.text(alphabet="abcxyz -:", min_size=1) | st.booleans() | st.just([]) | st.just({}),
}


def _constraint_breakers(shape: Any, value: Any) -> list[st.SearchStrategy[Any]]:
    """Values of the right type that break one of the shape's constraints."""
    meta, kind = shape.metadata, shape.type_name
    low, high = meta.get("min"), meta.get("max")
    out: list[st.SearchStrategy[Any]] = []
    if kind == "string":
        if shape.enum:
            out.append(st.text(min_size=1, max_size=20).filter(lambda s: s not in shape.enum))
        if high is not None:
            out.append(st.integers(high + 1, high + 50).map(lambda n: "a" * n))
        if low:
            out.append(st.just(""))
    elif kind in ("integer", "long", "double", "float"):
        if high is not None:
            out.append(st.integers(int(high) + 1, int(high) + 1000))
        if low is not None:
            out.append(st.integers(int(low) - 1000, int(low) - 1))
    elif kind == "list":
        if high is not None and high <= 600 and isinstance(value, list) and value:
            out.append(st.just([copy.deepcopy(value[0]) for _ in range(int(high) + 1)]))
        if low:
            out.append(st.just([]))
    return out


def _set(body: Any, path: tuple[Any, ...], value: Any) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _delete(body: Any, path: tuple[Any, ...]) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


def _required(shape_of_parent: Any, name: str) -> bool:
    return name in getattr(shape_of_parent, "required_members", ())


@st.composite
def broken_member(draw: st.DrawFn) -> BadRequest:
    """A valid request with one member of the wrong type, missing, or breaking a constraint."""
    service, operation = draw(operations)
    body = copy.deepcopy(VALID_BODIES[(service, operation)])
    shape = _input_shape(service, operation)
    sites = _sites(shape, body, ())
    path, member, name = draw(st.sampled_from(sites))
    parent = _parent_shape(shape, path)
    choices = ["wrong_type"]
    breakers = _constraint_breakers(member, _get(body, path))
    if breakers:
        choices.append("constraint")
    if _required(parent, name):
        choices.append("missing")
    choice = draw(st.sampled_from(choices))
    if choice == "missing":
        _delete(body, path)
        return BadRequest(service, operation, json.dumps(body).encode(), VALIDATION[service], name)
    if choice == "constraint":
        _set(body, path, draw(st.one_of(breakers)))
        return BadRequest(service, operation, json.dumps(body).encode(), VALIDATION[service], name)
    strategy = _WRONG_TYPES.get(member.type_name, st.integers())
    _set(body, path, draw(strategy.filter(lambda v: v is not None)))
    return BadRequest(service, operation, json.dumps(body).encode(), SERIALIZATION, name)


def _get(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def _parent_shape(shape: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        if shape.type_name == "structure":
            shape = shape.members[key]
        elif shape.type_name == "list":
            shape = shape.member
        elif shape.type_name == "map":
            shape = shape.value
    return shape
