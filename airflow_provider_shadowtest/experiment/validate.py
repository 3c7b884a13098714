"""Validate API-shaped Create/Update/StopInferenceExperiment requests, as SageMaker would.

Two layers: every constraint of the service model (:mod:`.shapecheck`), then the rules the model
leaves implicit (variant cross-references, schedule order and length, tag keys). Each function
returns every problem as ``(field_path, message)`` and ``[]`` for a valid request; nothing is
sent anywhere. Timestamps may be datetimes (naive = UTC), ISO-8601 strings or epoch seconds, as
botocore accepts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_shadowtest.experiment import service_model
from airflow_provider_shadowtest.experiment.lifecycle import MAX_DURATION
from airflow_provider_shadowtest.experiment.schedule import parse_datetime
from airflow_provider_shadowtest.experiment.shapecheck import (
    Path,
    PathStyle,
    Problem,
    check,
    render_path,
)
from airflow_provider_shadowtest.jsonsafe import to_utc_iso

__all__ = [
    "check_operation",
    "validate_create_request",
    "validate_stop_request",
    "validate_update_request",
]

#: AWS reserves tag keys starting with this prefix (in any case).
RESERVED_TAG_PREFIX = "aws:"


def validate_create_request(request: Mapping[str, Any], *, path_style: PathStyle = "snake") -> list[tuple[str, str]]:
    """Return every problem of a CreateInferenceExperiment request (``[]`` when valid).

    :param request: the API-shaped request (PascalCase keys), already normalized.
    :param path_style: ``"snake"`` names top-level fields as ``build_create_request``'s
        arguments (``shadow_mode_config.ShadowModelVariants[0].SamplingPercentage``); ``"api"``
        as the API (``ShadowModeConfig.ShadowModelVariants[0].SamplingPercentage``).
    """
    return _render(check_operation("CreateInferenceExperiment", request), path_style)


def validate_update_request(request: Mapping[str, Any], *, path_style: PathStyle = "snake") -> list[tuple[str, str]]:
    """Return every problem of an UpdateInferenceExperiment request (``[]`` when valid).

    Which fields the experiment's current status lets change is a lifecycle rule, checked by
    :func:`~airflow_provider_shadowtest.experiment.lifecycle.update_violations`, not here.
    """
    return _render(check_operation("UpdateInferenceExperiment", request), path_style)


def validate_stop_request(request: Mapping[str, Any], *, path_style: PathStyle = "snake") -> list[tuple[str, str]]:
    """Return every problem of a StopInferenceExperiment request (``[]`` when valid)."""
    return _render(check_operation("StopInferenceExperiment", request), path_style)


def _render(problems: list[Problem], style: PathStyle) -> list[tuple[str, str]]:
    return [(render_path(path, style), message) for path, message in problems]


def check_operation(operation: str, request: Any) -> list[Problem]:
    """Return the problems of an operation's request, with unrendered paths."""
    problems: list[Problem] = []
    check(request, service_model.input_shape(operation), (), problems)
    if not isinstance(request, Mapping):
        return problems
    if operation in ("CreateInferenceExperiment", "UpdateInferenceExperiment"):
        _check_variant_names(request.get("ModelVariants"), ("ModelVariants",), problems)
        _check_shadow_mode(request, problems)
        _check_schedule(request.get("Schedule"), problems)
    if operation == "CreateInferenceExperiment":
        _check_tags(request.get("Tags"), problems)
    if operation == "StopInferenceExperiment":
        _check_variant_names(request.get("DesiredModelVariants"), ("DesiredModelVariants",), problems)
    return problems


def _variant_names(variants: Any) -> list[tuple[int, str]]:
    if not isinstance(variants, (list, tuple)):
        return []
    return [
        (i, v["VariantName"])
        for i, v in enumerate(variants)
        if isinstance(v, Mapping) and isinstance(v.get("VariantName"), str)
    ]


def _check_variant_names(variants: Any, path: Path, problems: list[Problem]) -> None:
    seen: dict[str, int] = {}
    for i, name in _variant_names(variants):
        if name in seen:
            problems.append(
                (
                    (*path, i, "VariantName"),
                    f"{name!r} is also the name of entry [{seen[name]}]; variant names must be distinct",
                )
            )
        else:
            seen[name] = i


def _check_shadow_mode(request: Mapping[str, Any], problems: list[Problem]) -> None:
    config = request.get("ShadowModeConfig")
    if not isinstance(config, Mapping):
        return
    # An update may change the shadow configuration alone: membership is then checked by the
    # service against the experiment's current variants.
    variants = request.get("ModelVariants")
    named = _variant_names(variants)
    listed = {name for _, name in named}
    # Compare only with a complete list: an entry without a name is reported already.
    check_listed = bool(named) and isinstance(variants, (list, tuple)) and len(named) == len(variants)
    source = config.get("SourceModelVariantName")
    where = "not the VariantName of any model variant"
    if check_listed and isinstance(source, str) and source and source not in listed:
        problems.append((("ShadowModeConfig", "SourceModelVariantName"), f"{source!r} is {where} ({_names(listed)})"))
    shadows = config.get("ShadowModelVariants")
    if not isinstance(shadows, (list, tuple)):
        return
    for i, shadow in enumerate(shadows):
        if not isinstance(shadow, Mapping):
            continue
        name = shadow.get("ShadowModelVariantName")
        path = ("ShadowModeConfig", "ShadowModelVariants", i, "ShadowModelVariantName")
        if not isinstance(name, str) or not name:
            continue
        if name == source:
            problems.append(
                (path, f"{name!r} is also the SourceModelVariantName; the shadow variant must be another variant")
            )
        elif check_listed and name not in listed:
            problems.append((path, f"{name!r} is {where} ({_names(listed)})"))


def _names(names: set[str]) -> str:
    return "listed: " + ", ".join(repr(n) for n in sorted(names)) if names else "none listed"


def _check_schedule(schedule: Any, problems: list[Problem]) -> None:
    if not isinstance(schedule, Mapping):
        return
    try:
        start = parse_datetime(schedule.get("StartTime"), epoch_seconds=True)
        end = parse_datetime(schedule.get("EndTime"), epoch_seconds=True)
    except ValueError:
        return  # a missing or malformed time: nothing to compare (the shape check reports it)
    path: Path = ("Schedule", "EndTime")
    if end <= start:
        problems.append((path, f"must be after the start time {to_utc_iso(start)}, got {to_utc_iso(end)}"))
    elif end - start > MAX_DURATION:
        problems.append(
            (path, f"must be at most {MAX_DURATION.days} days after the start time, got {_days(end - start)}")
        )


def _days(delta: Any) -> str:
    return f"{delta.total_seconds() / 86400:g} days"


def _check_tags(tags: Any, problems: list[Problem]) -> None:
    if not isinstance(tags, (list, tuple)):
        return
    seen: dict[str, int] = {}
    for i, tag in enumerate(tags):
        key = tag.get("Key") if isinstance(tag, Mapping) else None
        if not isinstance(key, str):
            continue
        path = ("Tags", i, "Key")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            problems.append((path, f"must not start with {RESERVED_TAG_PREFIX!r} (reserved by AWS), got {key!r}"))
        if key in seen:
            problems.append((path, f"{key!r} is also the key of tag [{seen[key]}]; tag keys must be unique"))
        else:
            seen[key] = i
