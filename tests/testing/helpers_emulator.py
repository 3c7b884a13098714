"""Shared test helpers: a shape checker (every required field present, types per the model)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import botocore.session

T0 = dt.datetime(2030, 1, 6, 12, 0, 0, tzinfo=dt.timezone.utc)
_MODEL = botocore.session.get_session().get_service_model("sagemaker")


def assert_matches_output(operation: str, response: dict[str, Any]) -> None:
    """Every required member of the output shape is present; every key is a modeled member."""
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    _check(_MODEL.operation_model(operation).output_shape, body, operation)


def _check(shape: Any, value: Any, path: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        missing = [m for m in shape.required_members if m not in value]
        assert not missing, f"{path}: missing required {missing}"
        for key, item in value.items():
            assert key in shape.members, f"{path}: unmodeled {key}"
            _check(shape.members[key], item, f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]")
    elif kind == "timestamp":
        assert isinstance(value, dt.datetime), path
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, f"{path}: {value} not in enum"
    elif kind == "integer":
        assert isinstance(value, int), path
