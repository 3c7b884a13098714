"""Build the exact CreateInferenceExperiment request from DAG arguments, or say everything wrong with them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
from airflow_provider_shadowtest.experiment import service_model
from airflow_provider_shadowtest.experiment.schedule import normalize_schedule
from airflow_provider_shadowtest.experiment.shapecheck import render_path, snake_case
from airflow_provider_shadowtest.experiment.short_form import (
    FULL_FORM_ARGUMENTS,
    SHORT_FORM_ARGUMENTS,
    short_form_fields,
    short_form_path,
)
from airflow_provider_shadowtest.experiment.validate import check_operation
from airflow_provider_shadowtest.parsing import describe_value, parse_datetime, parse_literal

if TYPE_CHECKING:
    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription
    from airflow_provider_shadowtest.experiment.service_model import Shape

__all__ = ["CONVENIENCE_ARGUMENTS", "build_create_request", "is_short_form", "short_form_problems"]

OPERATION = "CreateInferenceExperiment"
DEFAULT_TYPE = "ShadowMode"
#: Arguments that are not API fields: they resolve into ``Schedule`` (``now`` is for tests).
CONVENIENCE_ARGUMENTS = ("start_time", "end_time", "duration", "now")

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def build_create_request(**kwargs: Any) -> dict[str, Any]:
    """Return the exact CreateInferenceExperiment request for these arguments.

    Arguments are the API's top-level fields in snake_case: ``name``, ``endpoint_name``,
    ``role_arn``, ``model_variants``, ``shadow_mode_config``, ``schedule``, ``description``,
    ``data_storage_config``, ``kms_key``, ``tags`` and ``type`` (default ``"ShadowMode"``).
    Nested values keep the API's shape, so the request syntax of boto3's documentation can be
    pasted in as it is. What templates render is accepted too:

    - a list or dict field (``model_variants``, ``shadow_mode_config``, ``schedule``,
      ``data_storage_config``, ``tags``) may be a string holding its JSON (or the Python literal
      Jinja renders for a dict or list);
    - an integer field (``InstanceCount``, ``SamplingPercentage``) may be an integer string
      (``"50"``) or a whole float; ``"5.5"``, ``5.5``, ``True``, ``""`` and None are refused;
    - ``tags`` may be a ``{key: value}`` mapping or the API's ``[{"Key": ..., "Value": ...}]``;
    - None for an optional argument means "not given"; for a required one it is reported as
      required.

    The schedule: ``schedule={"StartTime": ..., "EndTime": ...}``, or ``start_time``,
    ``end_time`` and ``duration``; a duration without a start starts at ``now`` (default: the
    current UTC time, to the second). Times are datetimes or ISO-8601 strings, naive ones taken
    as UTC; durations are timedeltas, seconds or ISO-8601 durations (``"PT1H"``, ``"P7D"``). See
    :mod:`airflow_provider_shadowtest.experiment.schedule`. The request holds aware UTC datetimes.

    The short form: ``endpoint_name`` and ``shadow_model_name`` (+ ``shadow_variant_name``,
    ``sampling_percentage`` (default 100), ``shadow_instance_type``, ``shadow_instance_count``)
    instead of ``model_variants`` and ``shadow_mode_config``, with ``endpoint_description``: the
    endpoint as read (an :class:`~airflow_provider_shadowtest.experiment.endpoint.EndpointDescription`).
    Its single production variant (name, model, instance type and count) becomes the source
    variant; the shadow runs on the same instance settings unless given; without
    ``shadow_variant_name`` the shadow variant's name is derived from ``name`` (see
    :func:`~airflow_provider_shadowtest.experiment.short_form.derive_shadow_variant_name`).
    Problems are named after the short-form arguments. Mixing both forms is an error.

    :raises InvalidExperimentRequest: listing every problem, each with its field path, e.g.
        ``shadow_mode_config.ShadowModelVariants[0].SamplingPercentage``. Nothing is sent to AWS.
    """
    shape = service_model.input_shape(OPERATION)
    arguments = {snake_case(api): api for api in shape.members}
    problems: list[tuple[str, str]] = []
    endpoint: EndpointDescription | None = kwargs.pop("endpoint_description", None)
    short: dict[str, Any] = {k: kwargs.pop(k) for k in SHORT_FORM_ARGUMENTS if k in kwargs}
    short_form = is_short_form(short)
    if short_form:
        problems.extend(_short_form_into(kwargs, short, endpoint))
    for key in kwargs:
        if key not in arguments and key not in CONVENIENCE_ARGUMENTS:
            known = [*arguments, *CONVENIENCE_ARGUMENTS[:3], *SHORT_FORM_ARGUMENTS]
            problems.append((key, _unknown_argument(key, known)))
    if kwargs.get("type") is None:
        kwargs["type"] = DEFAULT_TYPE

    request: dict[str, Any] = {}
    for argument, api in arguments.items():
        value = kwargs.get(argument)
        if value is None:
            continue
        member = shape.members[api]
        if isinstance(value, str) and member.type in ("structure", "list", "map"):
            try:
                value = parse_literal(value)
            except ValueError as exc:
                problems.append((argument, f"{exc}, got {describe_value(value)}"))
                continue
        if api == "Tags" and isinstance(value, Mapping):
            value = [{"Key": k, "Value": v} for k, v in value.items()]
        request[api] = _coerce(value, member)

    schedule = request.pop("Schedule", None)
    sources: Mapping[str, str] = {}
    if schedule is not None and not isinstance(schedule, Mapping):
        problems.append(
            ("schedule", f"expected an object with keys StartTime, EndTime, got {describe_value(schedule)}")
        )
        schedule = None
    try:
        resolved = normalize_schedule(
            schedule,
            start_time=kwargs.get("start_time"),
            end_time=kwargs.get("end_time"),
            duration=kwargs.get("duration"),
            now=kwargs.get("now"),
        )
    except InvalidExperimentRequest as exc:
        problems.extend(exc.errors)
    else:
        sources = resolved.sources
        if resolved.schedule is not None:
            request["Schedule"] = resolved.schedule
    request = {api: request[api] for api in shape.members if api in request}

    reported = {path for path, _ in problems}
    for path, message in check_operation(OPERATION, request):
        if path[:1] == ("Schedule",) and len(path) == 2 and str(path[1]) in sources:
            origin = sources[str(path[1])]
            text = origin if origin != "now" else "duration"
            if text != f"schedule.{path[1]}":
                problems.append((text, message))
                continue
        rendered = render_path(path, "snake")
        if short_form:
            rendered = short_form_path(rendered, str(kwargs.get("endpoint_name")))
        if not any(rendered == r or rendered.startswith((f"{r}.", f"{r}[")) for r in reported):
            problems.append((rendered, message))
    if problems:
        raise InvalidExperimentRequest(problems)
    return request


def is_short_form(arguments: Mapping[str, Any]) -> bool:
    """Whether any short-form argument is given (not None, not an empty rendered string)."""
    return any(arguments.get(k) not in (None, "") for k in SHORT_FORM_ARGUMENTS)


def _short_form_into(
    kwargs: dict[str, Any], short: Mapping[str, Any], endpoint: EndpointDescription | None
) -> list[tuple[str, str]]:
    """Put the short form's ModelVariants and ShadowModeConfig into ``kwargs``; return its problems."""
    given = [k for k in SHORT_FORM_ARGUMENTS if short.get(k) not in (None, "")]
    mixed = [k for k in FULL_FORM_ARGUMENTS if kwargs.get(k) not in (None, "")]
    if mixed:
        message = (
            f"the short form ({', '.join(given)}) and the full form ({', '.join(mixed)}) cannot be mixed: "
            "give shadow_model_name (the production variant is read from the endpoint) or "
            "model_variants and shadow_mode_config"
        )
        return [(field, message) for field in (*given[:1], *mixed)]
    if short.get("shadow_model_name") in (None, ""):
        return [("shadow_model_name", f"required by the short form (given: {', '.join(given)})")]
    if endpoint is None:
        return [("endpoint_description", "the short form needs the endpoint as read (EndpointDescription)")]
    from airflow_provider_shadowtest.experiment.preflight import single_production_variant

    production, problem = single_production_variant(endpoint)
    if production is None:
        return [("endpoint_name", problem)]
    kwargs.update(
        {
            snake_case(k): v
            for k, v in short_form_fields(
                experiment_name=kwargs.get("name"), production=production, endpoint=endpoint, **short
            ).items()
        }
    )
    return []


def short_form_problems(**kwargs: Any) -> list[tuple[str, str]]:
    """Check the short form's arguments before the endpoint is read (no I/O): every problem, or ``[]``.

    The request is built against a stand-in production variant, and problems about that
    stand-in are left out: what the endpoint holds is checked once it has been read.
    """
    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription

    shadow_type = kwargs.get("shadow_instance_type")
    stand_in = {
        "VariantName": "stand-in-production-variant-for-validation",
        "ModelName": "stand-in-production-model",
        # A type every botocore since the floor (1.37) lists: older models lack ml.m5.large.
        "InstanceType": shadow_type if isinstance(shadow_type, str) and shadow_type else "ml.m5.xlarge",
        "InitialInstanceCount": 1,
    }
    endpoint = EndpointDescription(
        name=str(kwargs.get("endpoint_name")), endpoint={}, config={"ProductionVariants": [stand_in]}
    )
    try:
        build_create_request(**kwargs, endpoint_description=endpoint)
    except InvalidExperimentRequest as err:
        return [(path, message) for path, message in err.errors if not path.startswith("endpoint_name (")]
    return []


def _unknown_argument(key: str, known: list[str]) -> str:
    import difflib

    folded = snake_case(key)
    close = [folded] if folded in known else difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
    return f"unknown argument; {hint}"


def coerce_member(operation: str, member: str, value: Any) -> Any:
    """Convert a rendered ``member`` of ``operation``'s request to the API's types (``"1"`` -> 1).

    A string holding JSON or a Python literal is parsed first; what cannot be converted is left
    as it is, for validation to name.
    """
    if isinstance(value, str):
        value = parse_literal(value)
    return _coerce(value, service_model.input_shape(operation).members[member])


def _coerce(value: Any, shape: Shape) -> Any:
    """Convert what templates render into the API's types, leaving anything else for validation."""
    kind = shape.type
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members
        return {k: _coerce(v, members[k]) if k in members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, (list, tuple)):
        return [_coerce(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, Mapping):
        return {k: _coerce(v, shape.value) for k, v in value.items()}
    if kind in ("integer", "long") and not isinstance(value, bool):
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
    if kind == "timestamp" and value is not None:
        try:
            return parse_datetime(value)
        except ValueError:
            return value
    return value
