"""Check a request against the service model's constraints, the way SageMaker reports them.

The emulator's own checker (not the client's ``experiment.shapecheck``): it reads the shapes
through ``experiment.service_model`` (data from botocore) and words each problem as SageMaker's
ValidationException does: ``Value 'x' at 'name' failed to satisfy constraint: Member must ...``.
botocore checks only required keys, types and minimums on the client side; this adds maximums,
patterns, enums and list sizes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.experiment import service_model

if TYPE_CHECKING:
    from airflow_provider_shadowtest.experiment.service_model import Shape

#: Lower bounds the model leaves out but that the API's meaning implies. CHOSEN: a negative
#: SamplingPercentage (the model states only a maximum of 100) is refused.
IMPLICIT_MIN: Mapping[str, int] = {"Percentage": 0}


def operation_problems(operation: str, request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(member path, message)`` for every constraint of ``operation``'s input the request breaks."""
    problems: list[tuple[str, str]] = []
    _check(request, service_model.input_shape(operation), "", problems)
    return problems


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _show(value: Any) -> str:
    if isinstance(value, Mapping | list):
        return "[...]" if isinstance(value, list) else "{...}"
    return str(value)


def _check(value: Any, shape: Shape, path: str, problems: list[tuple[str, str]]) -> None:
    kind = shape.type
    if value is None:
        return
    if kind == "structure":
        if not isinstance(value, Mapping):
            problems.append((path, "Member must be a structure"))
            return
        for name in shape.required:
            if value.get(name) is None:
                problems.append((_join(path, name), "Member must not be null"))
        members = shape.members
        for name, member_value in value.items():
            if name in members:
                _check(member_value, members[name], _join(path, name), problems)
            else:
                problems.append((_join(path, name), "Unknown member"))
    elif kind == "list":
        if not isinstance(value, list):
            problems.append((path, "Member must be a list"))
            return
        _size(value, len(value), shape, path, problems)
        for i, item in enumerate(value):
            _check(item, shape.member, f"{path}.{i + 1}.member", problems)
    elif kind == "map":
        if not isinstance(value, Mapping):
            problems.append((path, "Member must be a map"))
            return
        _size(value, len(value), shape, path, problems)
        for key, item in value.items():
            _check(key, shape.key, f"{path}.{key}.key", problems)
            _check(item, shape.value, f"{path}.{key}.value", problems)
    elif kind == "string":
        _string(value, shape, path, problems)
    elif kind in ("integer", "long"):
        _number(value, shape, path, problems)
    elif kind == "timestamp" and not isinstance(value, dt.datetime | int | float | str):
        problems.append((path, "Member must be a timestamp"))


def _fail(value: Any, constraint: str) -> str:
    return f"Value '{_show(value)}' failed to satisfy constraint: Member must {constraint}"


def _size(value: Any, size: int, shape: Shape, path: str, problems: list[tuple[str, str]]) -> None:
    if shape.min is not None and size < shape.min:
        problems.append(
            (
                path,
                _fail(_show(value), f"have length greater than or equal to {shape.min}"),
            )
        )
    if shape.max is not None and size > shape.max:
        problems.append(
            (
                path,
                _fail(_show(value), f"have length less than or equal to {shape.max}"),
            )
        )


def _string(value: Any, shape: Shape, path: str, problems: list[tuple[str, str]]) -> None:
    if not isinstance(value, str):
        problems.append((path, _fail(_show(value), "be a string")))
        return
    _size(value, len(value.encode("utf-16-le")) // 2, shape, path, problems)
    if shape.enum and value not in shape.enum:
        problems.append(
            (
                path,
                _fail(value, f"satisfy enum value set: [{', '.join(shape.enum)}]"),
            )
        )
    pattern = shape.pattern
    if pattern is not None and not pattern.fullmatch(value):
        problems.append(
            (
                path,
                _fail(value, f"satisfy regular expression pattern: {pattern.source}"),
            )
        )


def _number(value: Any, shape: Shape, path: str, problems: list[tuple[str, str]]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((path, _fail(value, "be an integer")))
        return
    low = shape.min if shape.min is not None else IMPLICIT_MIN.get(shape.name)
    if low is not None and value < low:
        problems.append(
            (
                path,
                _fail(value, f"have value greater than or equal to {low}"),
            )
        )
    if shape.max is not None and value > shape.max:
        problems.append(
            (
                path,
                _fail(value, f"have value less than or equal to {shape.max}"),
            )
        )
