"""Pure helpers behind the lifecycle operators: Update and Stop requests, XCom summaries.

No Airflow, boto3 or I/O: each function takes the operator's arguments and a
DescribeInferenceExperiment result, and returns the request to send or the value to return.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, Final

from airflow_provider_shadowtest.experiment import lifecycle
from airflow_provider_shadowtest.jsonsafe import json_safe, to_utc_iso
from airflow_provider_shadowtest.parsing import parse_literal, parse_time

PROMOTE: Final = "Promote"
REMOVE: Final = "Remove"
RETAIN: Final = "Retain"
VARIANT_ACTIONS: Final = frozenset({PROMOTE, REMOVE, RETAIN})
DESIRED_STATES: Final = frozenset({lifecycle.COMPLETED, lifecycle.CANCELLED})

#: Operator argument for each dotted UpdateInferenceExperiment path, to name fields in errors.
UPDATE_ARGUMENTS: Final[Mapping[str, str]] = {
    "Schedule.StartTime": "start_time",
    "Schedule.EndTime": "end_time",
    "Description": "description",
    "ModelVariants": "model_variants",
    "ShadowModeConfig": "model_variants",
    "ShadowModeConfig.SamplingPercentage": "sampling_percent",
    "DataStorageConfig": "data_storage_config",
}

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def structured(field: str, value: Any, *, member: str | None = None) -> Any:
    """Return a list or dict argument, parsing the string a template rendered it to (JSON or literal).

    With ``member`` (an UpdateInferenceExperiment request member), numbers rendered as strings
    are converted as the create request does (``"InstanceCount": "1"`` -> 1).

    :raises ValueError: naming ``field`` when a string holds neither.
    """
    # The request model (and its validation) loads when a task runs, not when a DAG file imports
    # the operators, which import this module.
    from airflow_provider_shadowtest.experiment.request import coerce_member

    try:
        if member is not None:
            return coerce_member("UpdateInferenceExperiment", member, value)
        return parse_literal(value) if isinstance(value, str) else value
    except ValueError as err:
        raise ValueError(f"{field}: {err}") from None


def integer(field: str, value: Any) -> int:
    """Return an integer argument, accepting the integer string a template renders.

    :raises ValueError: naming ``field``.
    """
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{field}: expected an integer, got {value!r}")


def variant_roles(described: Mapping[str, Any]) -> tuple[str, str]:
    """Return ``(production_variant, shadow_variant)`` names from a Describe result."""
    cfg = described.get("ShadowModeConfig") or {}
    shadows = cfg.get("ShadowModelVariants") or [{}]
    return str(cfg.get("SourceModelVariantName", "")), str(shadows[0].get("ShadowModelVariantName", ""))


def variant_model(described: Mapping[str, Any], variant_name: str) -> str | None:
    """Return the model name behind ``variant_name`` in a Describe result."""
    for variant in described.get("ModelVariants") or []:
        if variant.get("VariantName") == variant_name:
            return str(variant.get("ModelName"))
    return None


def build_update_request(
    described: Mapping[str, Any],
    *,
    start_time: Any = None,
    end_time: Any = None,
    description: str | None = None,
    sampling_percent: int | str | None = None,
    model_variants: list[dict[str, Any]] | str | None = None,
) -> dict[str, Any]:
    """Build an UpdateInferenceExperiment request from the operator's arguments.

    The Schedule holds only the times given (a Running experiment refuses any StartTime), and a
    sampling change re-sends the current ShadowModeConfig with only the percentage replaced,
    because the API replaces that structure rather than merging it.

    :raises ValueError: naming the argument, when nothing is to be updated or a value is malformed.
    """
    request: dict[str, Any] = {"Name": described["Name"]}
    schedule: dict[str, Any] = {}
    if start_time is not None:
        schedule["StartTime"] = parse_time("start_time", start_time)
    if end_time is not None:
        schedule["EndTime"] = parse_time("end_time", end_time)
    if schedule:
        request["Schedule"] = schedule
    if description is not None:
        request["Description"] = description
    if model_variants is not None:
        request["ModelVariants"] = structured("model_variants", model_variants, member="ModelVariants")
    if sampling_percent is not None:
        sampling_percent = integer("sampling_percent", sampling_percent)
        cfg = dict(described.get("ShadowModeConfig") or {})
        cfg["ShadowModelVariants"] = [
            {**shadow, "SamplingPercentage": sampling_percent} for shadow in cfg.get("ShadowModelVariants") or []
        ]
        request["ShadowModeConfig"] = cfg
    if len(request) == 1:
        raise ValueError(
            "nothing to update: give at least one of start_time, end_time, description, "
            "sampling_percent, model_variants"
        )
    return request


def only_changed(request: Mapping[str, Any], changed: list[str]) -> dict[str, Any]:
    """Keep ``Name`` and the parts of an update request that change something (see ``changed_update_fields``).

    A field given with its current value is not sent: a Running experiment refuses a StartTime
    even when it equals the current one.
    """
    kept: dict[str, Any] = {"Name": request["Name"]}
    schedule = {k: v for k, v in (request.get("Schedule") or {}).items() if f"Schedule.{k}" in changed}
    if schedule:
        kept["Schedule"] = schedule
    for key in ("Description", "ModelVariants", "DataStorageConfig", "ShadowModeConfig"):
        if key in request and any(path == key or path.startswith(f"{key}.") for path in changed):
            kept[key] = request[key]
    return kept


def update_violation_errors(status: str, changed: list[str]) -> list[tuple[str, str]]:
    """Return ``(argument (API path), message)`` for each change the status forbids."""
    return [
        (f"{UPDATE_ARGUMENTS.get(path, path)} ({path})", message)
        for path, message in lifecycle.update_violations(status, changed)
    ]


def model_variant_actions_for(
    described: Mapping[str, Any],
    *,
    promote: bool,
    model_variant_actions: Mapping[str, str] | str | None,
) -> dict[str, str]:
    """Return the StopInferenceExperiment ``ModelVariantActions``.

    ``promote=True`` promotes the shadow variant, which replaces the production variant (so
    production gets ``Remove``); ``promote=False`` retains production and removes the shadow.
    Explicit ``model_variant_actions`` are used as given (checked against the experiment).

    :raises ValueError: naming the argument, for a conflict or a variant the experiment lacks.
    """
    production, shadow = variant_roles(described)
    model_variant_actions = structured("model_variant_actions", model_variant_actions)
    if model_variant_actions:
        if not isinstance(model_variant_actions, dict):
            raise ValueError("model_variant_actions: expected {variant name: Promote|Remove|Retain}")
        if promote:
            raise ValueError("promote: give either promote=True or model_variant_actions, not both")
        actions = {str(k): str(v) for k, v in model_variant_actions.items()}
        known = {str(v.get("VariantName")) for v in described.get("ModelVariants") or []} | {
            production,
            shadow,
        }
        problems = [
            f"model_variant_actions.{name}: the experiment has no such variant (variants: {sorted(known)})"
            for name in actions
            if name not in known
        ]
        problems += [
            f"model_variant_actions.{name}: {action!r} is not one of {sorted(VARIANT_ACTIONS)}"
            for name, action in actions.items()
            if action not in VARIANT_ACTIONS
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return actions
    if promote:
        return {shadow: PROMOTE, production: REMOVE}
    return {production: RETAIN, shadow: REMOVE}


def build_stop_request(
    described: Mapping[str, Any],
    *,
    promote: bool = False,
    model_variant_actions: Mapping[str, str] | str | None = None,
    desired_state: str | None = None,
    reason: str | None = None,
    desired_model_variants: list[dict[str, Any]] | str | None = None,
) -> dict[str, Any]:
    """Build a StopInferenceExperiment request from the operator's arguments and a Describe result.

    :raises ValueError: naming the argument (see :func:`model_variant_actions_for`).
    """
    request: dict[str, Any] = {
        "Name": described["Name"],
        "ModelVariantActions": model_variant_actions_for(
            described, promote=promote, model_variant_actions=model_variant_actions
        ),
    }
    if desired_state is not None:
        if desired_state not in DESIRED_STATES:
            raise ValueError(f"desired_state: {desired_state!r} is not one of {sorted(DESIRED_STATES)}")
        request["DesiredState"] = desired_state
    if reason:
        request["Reason"] = reason
    if desired_model_variants:
        request["DesiredModelVariants"] = structured("desired_model_variants", desired_model_variants)
    return request


#: ``promote_with`` names: the promoted variant keeps production's instance settings (AWS's
#: recommendation, the default) or the shadow's own.
PRODUCTION_SETTINGS: Final = "production_settings"
SHADOW_SETTINGS: Final = "shadow_settings"
PROMOTE_WITH_CHOICES: Final = (PRODUCTION_SETTINGS, SHADOW_SETTINGS)


def promotion_model_variants(
    described: Mapping[str, Any], variant_actions: Mapping[str, str], promote_with: Any
) -> list[dict[str, Any]] | None:
    """Return the ``DesiredModelVariants`` of a Stop request, from ``promote_with``.

    - ``"production_settings"``: the promoted variant (its name and model) on the production
      variant's instance type and count, as the experiment lists them;
    - ``"shadow_settings"``: on the shadow variant's own;
    - a list (or its JSON): ``DesiredModelVariants`` as given; each entry must name a variant of
      the experiment, and a promotion must include the promoted one.

    Named settings apply to a promotion only (None when nothing is promoted).

    :raises ValueError: naming ``promote_with``.
    """
    if isinstance(promote_with, str) and promote_with.strip().startswith("["):
        promote_with = structured("promote_with", promote_with)
    promoted = promoted_variant(variant_actions)
    variants = {str(v.get("VariantName")): v for v in described.get("ModelVariants") or []}
    if isinstance(promote_with, str):
        if promote_with not in PROMOTE_WITH_CHOICES:
            raise ValueError(
                f"promote_with: expected {' or '.join(repr(c) for c in PROMOTE_WITH_CHOICES)} "
                f"or a DesiredModelVariants list, got {promote_with!r}"
            )
        if promoted is None:
            return None
        production, shadow = variant_roles(described)
        source = variants.get(production if promote_with == PRODUCTION_SETTINGS else shadow) or {}
        infrastructure = source.get("InfrastructureConfig")
        if not infrastructure:
            raise ValueError(f"promote_with: the experiment lists no instance settings for {production!r}")
        return [
            {
                "ModelName": (variants.get(promoted) or {}).get("ModelName"),
                "VariantName": promoted,
                "InfrastructureConfig": infrastructure,
            }
        ]
    if not isinstance(promote_with, list) or not all(isinstance(v, Mapping) for v in promote_with):
        raise ValueError(f"promote_with: expected a setting name or a list of ModelVariantConfig, got {promote_with!r}")
    from airflow_provider_shadowtest.experiment.request import coerce_member  # request model: at run time

    desired = [dict(v) for v in coerce_member("StopInferenceExperiment", "DesiredModelVariants", promote_with)]
    problems = [
        f"promote_with[{i}].VariantName: {v.get('VariantName')!r} is not a variant of the experiment "
        f"({', '.join(sorted(variants))})"
        for i, v in enumerate(desired)
        if v.get("VariantName") not in variants
    ]
    if promoted is not None and promoted not in {v.get("VariantName") for v in desired}:
        problems.append(f"promote_with: no entry for the promoted variant {promoted!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return desired


def promoted_variant(actions: Mapping[str, str]) -> str | None:
    """Return the variant a Stop request promotes, if any."""
    return next((name for name, action in actions.items() if action == PROMOTE), None)


def summarize(described: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Return the JSON-safe XCom value of an operator: what downstream tasks need to chain on.

    ``{"arn", "name", "endpoint_name", "status", "status_reason", "schedule": {"start_time",
    "end_time"}, "production_variant", "shadow_variant", **extra}``; times are ISO-8601 UTC.
    """
    schedule = described.get("Schedule") or {}
    production, shadow = variant_roles(described)
    endpoint = described.get("EndpointMetadata") or {}
    summary: dict[str, Any] = {
        "arn": described.get("Arn"),
        "name": described.get("Name"),
        "endpoint_name": endpoint.get("EndpointName") or described.get("EndpointName"),
        "status": described.get("Status"),
        "status_reason": described.get("StatusReason"),
        "schedule": {
            "start_time": _iso(schedule.get("StartTime")),
            "end_time": _iso(schedule.get("EndTime")),
        },
        "production_variant": production or None,
        "shadow_variant": shadow or None,
    }
    summary.update(json_safe(extra))
    return summary


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return to_utc_iso(value)
    # Already JSON-safe (e.g. a trigger event's payload): normalise through parse_time.
    return to_utc_iso(parse_time("schedule", value))
