"""The seven inference-experiment operations on moto's SageMaker backend.

Each function takes the backend and the request as the service model shapes it (timestamps
naive UTC) and returns the response dict, or raises moto's SageMaker exceptions, which moto
turns into the error responses SageMaker gives. The rules are the emulator's own
(:mod:`.rules`, :mod:`.model_check`), written from the AWS docs; nothing here imports the
client's validation or lifecycle rules.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from moto.sagemaker.exceptions import (
    ConflictException,
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.utils import arn_formatter

from airflow_provider_shadowtest.testing import endpoints as eps
from airflow_provider_shadowtest.testing import promotion
from airflow_provider_shadowtest.testing import rules as r
from airflow_provider_shadowtest.testing.model_check import operation_problems
from airflow_provider_shadowtest.testing.store import (
    Experiment,
    deleted_experiments,
    experiments,
    lock_of,
    now,
    transition,
)
from airflow_provider_shadowtest.testing.tags import tag_problems

_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}")
_NAME_CONTAINS = re.compile(r"[a-zA-Z0-9\-]+")
_SORT_BY = {"Name", "CreationTime", "Status"}
_DEFAULT_PAGE = 10


# -- validation --------------------------------------------------------------------------------
def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def raise_validation(errors: list[tuple[str, str]]) -> None:
    """Raise one ValidationException listing every problem (as SageMaker does)."""
    if not errors:
        return
    count = len(errors)
    details = "; ".join(f"{path}: {message}" if path else message for path, message in errors)
    raise ValidationError(message=f"{count} validation error{'s' if count != 1 else ''} detected: {details}")


def _validate(operation: str, request: Mapping[str, Any]) -> None:
    """The service model's constraints, then the rules the model leaves implicit."""
    errors = operation_problems(operation, request)
    if operation in ("CreateInferenceExperiment", "UpdateInferenceExperiment"):
        errors += _variant_name_problems(request)
    if operation == "CreateInferenceExperiment":
        errors += tag_problems(request.get("Tags") or [], "Tags")
    raise_validation(errors)


def _variant_name_problems(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A variant is addressed by its name: names are distinct, and the shadow is not the source."""
    errors: list[tuple[str, str]] = []
    seen: set[Any] = set()
    for i, variant in enumerate(request.get("ModelVariants") or []):
        name = variant.get("VariantName") if isinstance(variant, Mapping) else None
        if name in seen:
            errors.append((f"ModelVariants[{i}].VariantName", f"variant name '{name}' is used twice"))
        seen.add(name)
    config = request.get("ShadowModeConfig") or {}
    source = config.get("SourceModelVariantName") if isinstance(config, Mapping) else None
    for i, shadow in enumerate(config.get("ShadowModelVariants") or [] if isinstance(config, Mapping) else []):
        if isinstance(shadow, Mapping) and source is not None and shadow.get("ShadowModelVariantName") == source:
            errors.append(
                (
                    f"ShadowModeConfig.ShadowModelVariants[{i}].ShadowModelVariantName",
                    f"'{source}' is the source variant; the shadow variant must be another variant",
                )
            )
    return errors


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 120 or not _NAME.fullmatch(name):
        raise_validation(
            [
                (
                    "Name",
                    f"Value '{name}' failed to satisfy constraint: Member must have length between 1 and "
                    "120 and satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}",
                )
            ]
        )
    return str(name)


def _get(backend: Any, name: Any) -> Experiment:
    name = _check_name(name)
    found = experiments(backend).get(name)
    if found is None:
        arn = arn_formatter("inference-experiment", name, backend.account_id, backend.region_name)
        raise ResourceNotFound(message=f"Inference experiment {arn} does not exist.")
    return found


# -- the endpoint the experiment runs on ---------------------------------------------------------
def _check_variants(backend: Any, request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Server-side checks: endpoint, models, source and shadow variants."""
    errors: list[tuple[str, str]] = []
    endpoint_name = request["EndpointName"]
    endpoint = eps.get_endpoint(backend, endpoint_name)
    variants = request.get("ModelVariants") or []
    names = [v.get("VariantName") for v in variants]
    for i, variant in enumerate(variants):
        if variant.get("ModelName") not in backend._models:
            arn = arn_formatter("model", variant.get("ModelName"), backend.account_id, backend.region_name)
            errors.append((f"ModelVariants[{i}].ModelName", f"Could not find model '{arn}'."))
    config = request.get("ShadowModeConfig") or {}
    for i, shadow in enumerate(config.get("ShadowModelVariants") or []):
        if shadow.get("ShadowModelVariantName") not in names:
            errors.append(
                (
                    f"ShadowModeConfig.ShadowModelVariants[{i}].ShadowModelVariantName",
                    f"shadow variant '{shadow.get('ShadowModelVariantName')}' is not listed in ModelVariants",
                )
            )
    source = config.get("SourceModelVariantName")
    if endpoint is None:
        arn = arn_formatter("endpoint", endpoint_name, backend.account_id, backend.region_name)
        errors.append(("EndpointName", f"Could not find endpoint '{arn}'."))
        return errors
    production = [v["VariantName"] for v in eps.production_variants(backend, endpoint)]
    if len(production) != 1:
        errors.append(
            (
                "EndpointName",
                f"endpoint {endpoint_name} must have exactly one production variant to host a "
                f"shadow test; it has {len(production)}",
            )
        )
    if source not in production:
        errors.append(
            (
                "ShadowModeConfig.SourceModelVariantName",
                f"'{source}' is not a production variant of endpoint {endpoint_name} "
                f"(production variants: {', '.join(production)})",
            )
        )
    if source not in names:
        errors.append(
            ("ShadowModeConfig.SourceModelVariantName", f"source variant '{source}' is not listed in ModelVariants")
        )
    return errors


def _check_no_shadow(backend: Any, endpoint_name: str) -> list[tuple[str, str]]:
    """An endpoint hosts one shadow variant: one retained by an earlier Stop (or created with the
    endpoint) leaves no room for another experiment's."""
    endpoint = eps.get_endpoint(backend, endpoint_name)
    if endpoint is None:
        return []  # reported by _check_variants
    config = eps.endpoint_config_of(backend, endpoint)
    shadow = getattr(endpoint, "shadow_production_variants", None) or getattr(
        config, "shadow_production_variants", None
    )
    if not shadow:
        return []
    names = ", ".join(str(v.get("VariantName")) for v in shadow)
    return [
        (
            "EndpointName",
            f"endpoint {endpoint_name} already has a shadow variant ({names}); an endpoint can host "
            "only one shadow variant",
        )
    ]


def _check_schedule(
    start: dt.datetime, end: dt.datetime, at: dt.datetime, *, check_start: bool
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if end <= start:
        errors.append(("Schedule.EndTime", "EndTime must be after StartTime"))
    elif end - start > r.MAX_DURATION:
        errors.append(("Schedule.EndTime", "an inference experiment can run for at most 30 days"))
    if end <= at:
        errors.append(("Schedule.EndTime", "EndTime must be in the future"))
    if check_start and start > at + dt.timedelta(days=365):
        errors.append(("Schedule.StartTime", "StartTime must be within a year"))
    return errors


# -- operations ------------------------------------------------------------------------------------
def create(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    _validate("CreateInferenceExperiment", request)
    name = _check_name(request["Name"])
    at = now()
    schedule = request.get("Schedule") or {}
    start = _naive(schedule["StartTime"]) if schedule.get("StartTime") else at
    end = _naive(schedule["EndTime"]) if schedule.get("EndTime") else max(start, at) + r.DEFAULT_DURATION
    with lock_of(backend):
        store = experiments(backend)
        if name in store:
            raise ResourceInUseException(message=f"Inference experiment {name} already exists.")
        raise_validation(
            _check_variants(backend, request)
            + _check_no_shadow(backend, request["EndpointName"])
            + _check_schedule(start, end, at, check_start=True)
        )
        busy = [
            e for e in store.values() if e.endpoint_name == request["EndpointName"] and e.status(at) not in r.TERMINAL
        ]
        if busy:
            raise ResourceInUseException(
                message=f"Endpoint {request['EndpointName']} already has an active inference experiment "
                f"({busy[0].name})."
            )
        step = transition().total_seconds()
        exp = Experiment(
            name=name,
            arn=arn_formatter("inference-experiment", name, backend.account_id, backend.region_name),
            type=request["Type"],
            role_arn=request["RoleArn"],
            endpoint_name=request["EndpointName"],
            model_variants=[dict(v) for v in request["ModelVariants"]],
            shadow_mode_config=dict(request["ShadowModeConfig"]),
            start_time=start,
            end_time=end,
            creation_time=at,
            last_modified_time=at,
            description=request.get("Description"),
            data_storage_config=request.get("DataStorageConfig"),
            kms_key=request.get("KmsKey"),
            tags=list(request.get("Tags") or []),
            creating_seconds=step,
            starting_seconds=step,
        )
        store[name] = exp
    return {"InferenceExperimentArn": exp.arn}


def describe(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    # under the lock: Stop and Update change several fields of the record together
    with lock_of(backend):
        return _describe(backend, _get(backend, request.get("Name")), now())


def _describe(backend: Any, exp: Experiment, at: dt.datetime) -> dict[str, Any]:
    endpoint = eps.get_endpoint(backend, exp.endpoint_name)
    metadata: dict[str, Any] = {"EndpointName": exp.endpoint_name}
    if endpoint is not None:
        metadata["EndpointConfigName"] = endpoint.endpoint_config_name
        metadata["EndpointStatus"] = promotion.endpoint_status(backend, endpoint, at)
    else:
        metadata["EndpointStatus"] = "Deleting"
        metadata["FailureReason"] = "The endpoint no longer exists."
    out = _summary(exp, at)
    out.update(
        {
            "Arn": exp.arn,
            "EndpointMetadata": metadata,
            "ModelVariants": [dict(v, Status=exp.variant_status(v["VariantName"], at)) for v in exp.model_variants],
            "ShadowModeConfig": exp.shadow_mode_config,
        }
    )
    for key, value in (("DataStorageConfig", exp.data_storage_config), ("KmsKey", exp.kms_key)):
        if value is not None:
            out[key] = value
    return out


def _summary(exp: Experiment, at: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": exp.name,
        "Type": exp.type,
        "Schedule": {"StartTime": exp.start_time, "EndTime": exp.end_time},
        "Status": exp.status(at),
        "CreationTime": exp.creation_time,
        "LastModifiedTime": exp.last_modified_time,
        "RoleArn": exp.role_arn,
    }
    completion = exp.completion_time(at)
    if completion is not None:
        out["CompletionTime"] = completion
    if exp.status_reason is not None:
        out["StatusReason"] = exp.status_reason
    if exp.description is not None:
        out["Description"] = exp.description
    return out


def _check_status(exp: Experiment, operation: str, at: dt.datetime) -> str:
    status = exp.status(at)
    if status not in r.OPERATION_STATUSES[operation]:
        allowed = ", ".join(s for s in r.STATUSES if s in r.OPERATION_STATUSES[operation])
        verb = operation.removesuffix("InferenceExperiment").lower()
        raise ConflictException(
            f"Cannot {verb} inference experiment {exp.name} while its status is {status} (allowed: {allowed})."
        )
    return status


def update(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    _validate("UpdateInferenceExperiment", request)
    with lock_of(backend):
        exp = _get(backend, request.get("Name"))
        at = now()
        status = _check_status(exp, "UpdateInferenceExperiment", at)
        current = _describe(backend, exp, at)
        touched = r.update_members(current, request)
        refused = r.update_refusals(status, touched)
        if refused:
            allowed = ", ".join(m for m in r.UPDATE_MEMBERS if m in r.UPDATABLE[status])
            raise ConflictException(
                f"Cannot update {', '.join(refused)} of inference experiment {exp.name} while its status is "
                f"{status}; {status} allows: {allowed}."
            )
        schedule = request.get("Schedule") or {}
        start = _naive(schedule["StartTime"]) if schedule.get("StartTime") else exp.start_time
        end = _naive(schedule["EndTime"]) if schedule.get("EndTime") else exp.end_time
        merged: dict[str, Any] = {
            "EndpointName": exp.endpoint_name,
            "ModelVariants": request.get("ModelVariants") or exp.model_variants,
            "ShadowModeConfig": request.get("ShadowModeConfig") or exp.shadow_mode_config,
        }
        errors = _check_schedule(start, end, at, check_start=r.START_TIME in touched)
        if request.get("ModelVariants") is not None or request.get("ShadowModeConfig") is not None:
            errors += _check_variants(backend, merged)
        raise_validation(errors)
        before = _updatable_state(exp)
        exp.start_time, exp.end_time = start, end
        exp.model_variants = [dict(v) for v in merged["ModelVariants"]]
        exp.shadow_mode_config = dict(merged["ShadowModeConfig"])
        if request.get("Description") is not None:
            exp.description = request["Description"]
        if request.get("DataStorageConfig") is not None:
            exp.data_storage_config = request["DataStorageConfig"]
        if _updatable_state(exp) != before:  # CHOSEN: an update that changes nothing does not pass through Updating
            exp.last_modified_time = at
            exp.updating_until = at + transition()
    return {"InferenceExperimentArn": exp.arn}


def _updatable_state(exp: Experiment) -> tuple[Any, ...]:
    return (
        exp.start_time,
        exp.end_time,
        exp.model_variants,
        exp.shadow_mode_config,
        exp.description,
        exp.data_storage_config,
    )


def start(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    with lock_of(backend):
        exp = _get(backend, request.get("Name"))
        at = now()
        _check_status(exp, "StartInferenceExperiment", at)
        exp.started_at = at
        exp.start_time = at
        exp.starting_seconds = transition().total_seconds()
        exp.end_time = min(exp.end_time, at + r.MAX_DURATION)
        exp.last_modified_time = at
    return {"InferenceExperimentArn": exp.arn}


def stop(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    _validate("StopInferenceExperiment", request)
    with lock_of(backend):
        exp = _get(backend, request.get("Name"))
        at = now()
        _check_status(exp, "StopInferenceExperiment", at)
        given = dict(request["ModelVariantActions"])
        desired = list(request.get("DesiredModelVariants") or [])
        variants = {str(v["VariantName"]): str(v["ModelName"]) for v in exp.model_variants}
        names = [str(d.get("VariantName")) for d in desired]
        raise_validation(r.stop_problems(exp.source_variant, exp.shadow_variant, variants, given, names))
        shadow_action = given.get(exp.shadow_variant, r.DEFAULT_SHADOW_ACTION)
        actions = {
            exp.source_variant: given.get(exp.source_variant, r.default_production_action(shadow_action)),
            exp.shadow_variant: shadow_action,
        }
        promotion.apply_actions(backend, exp, actions, desired)
        exp.variant_actions = actions
        exp.stopping_seconds = transition().total_seconds()
        exp.stop_state = r.stop_state(request.get("DesiredState"))
        if request.get("Reason") is not None:
            exp.status_reason = request["Reason"]
        exp.last_modified_time = at
        # last: stopped_at is what makes the status Stopping, then stop_state
        exp.stopped_at = at
    return {"InferenceExperimentArn": exp.arn}


def delete(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    with lock_of(backend):
        exp = _get(backend, request.get("Name"))
        _check_status(exp, "DeleteInferenceExperiment", now())
        experiments(backend).pop(exp.name, None)
        if exp.has_run():
            # Delete removes the metadata only: CloudWatch keeps the metrics of the traffic it saw
            deleted_experiments(backend).append(exp.snapshot())
    return {"InferenceExperimentArn": exp.arn}


def list_experiments(backend: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[tuple[str, str]] = []
    contains = request.get("NameContains")
    if contains is not None and (len(contains) > 63 or not _NAME_CONTAINS.fullmatch(contains)):
        errors.append(("NameContains", "must be 1-63 characters of [a-zA-Z0-9-]"))
    sort_by = request.get("SortBy") or "CreationTime"
    if sort_by not in _SORT_BY:
        errors.append(("SortBy", f"must be one of {', '.join(sorted(_SORT_BY))}"))
    order = request.get("SortOrder") or "Descending"
    if order not in ("Ascending", "Descending"):
        errors.append(("SortOrder", "must be Ascending or Descending"))
    status_eq = request.get("StatusEquals")
    if status_eq is not None and status_eq not in r.STATUSES:
        errors.append(("StatusEquals", f"must be one of {', '.join(r.STATUSES)}"))
    if request.get("Type") not in (None, "ShadowMode"):
        errors.append(("Type", "must be ShadowMode"))
    limit = request.get("MaxResults")
    if limit is not None and not 1 <= int(limit) <= 100:
        errors.append(("MaxResults", "must be between 1 and 100"))
    offset = _decode_token(request.get("NextToken"), errors)
    raise_validation(errors)
    with lock_of(backend):
        at = now()
        rows = [_summary(e, at) for e in list(experiments(backend).values())]
    rows = [r for r in rows if _matches(r, request)]
    rows.sort(key=lambda r: (r[sort_by], r["Name"]), reverse=order == "Descending")
    size = int(limit) if limit is not None else _DEFAULT_PAGE
    page = rows[offset : offset + size]
    out: dict[str, Any] = {"InferenceExperiments": page}
    if offset + size < len(rows):
        out["NextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
    return out


def _decode_token(token: str | None, errors: list[tuple[str, str]]) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        errors.append(("NextToken", "invalid pagination token"))
        return 0


def _matches(row: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    contains = request.get("NameContains")
    if contains and contains.lower() not in row["Name"].lower():
        return False
    if request.get("StatusEquals") and row["Status"] != request["StatusEquals"]:
        return False
    bounds = (
        ("CreationTimeAfter", "CreationTime", 1),
        ("CreationTimeBefore", "CreationTime", -1),
        ("LastModifiedTimeAfter", "LastModifiedTime", 1),
        ("LastModifiedTimeBefore", "LastModifiedTime", -1),
    )
    for param, field, sign in bounds:
        bound = request.get(param)
        if bound is None:
            continue
        bound = _naive(bound)
        if (sign > 0 and not row[field] > bound) or (sign < 0 and not row[field] < bound):
            return False
    return True
