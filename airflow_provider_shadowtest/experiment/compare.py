"""Compare a CreateInferenceExperiment request with an existing experiment, for idempotent create.

A retried task re-renders the same templates and rebuilds the same request; if its first try
created the experiment, the retry must recognise it. :func:`config_differences` answers "is the
existing experiment the one this request creates?" with the list of differences (``[]``: yes).

What is compared, field by field:

- every field the request states must equal the existing one (``Name``, ``Type``, ``RoleArn``,
  ``EndpointName`` against ``EndpointMetadata.EndpointName``, ``Description``, ``KmsKey``,
  ``DataStorageConfig``, ``ShadowModeConfig``); a field the request leaves out is not compared,
  as SageMaker may fill in a default (an absent and an empty ``Description`` are equal; lists of
  content types are compared as sets);
- ``ModelVariants`` are matched by ``VariantName`` (order aside); a variant on either side only
  is a difference; each variant's ``Status`` is ignored;
- ``Tags`` (Describe does not return them), ``Arn``, ``Status`` and timestamps other than the
  schedule are ignored;
- ``Schedule`` is compared only if the request has one. Times within
  ``schedule_tolerance_seconds`` are equal: a start derived from "now" (a duration without a
  start time) moves by the retry delay, and so does its end. An experiment that has started
  (any status after Created) may have a start earlier than requested, since
  StartInferenceExperiment moves it to the moment it started; its end may then have been pulled
  back to 30 days after that start.

Datetimes on either side may be naive (UTC), aware, ISO-8601 strings or epoch seconds.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_shadowtest.experiment.lifecycle import CREATED, CREATING, MAX_DURATION
from airflow_provider_shadowtest.experiment.schedule import parse_datetime

__all__ = ["DEFAULT_SCHEDULE_TOLERANCE_SECONDS", "config_differences"]

DEFAULT_SCHEDULE_TOLERANCE_SECONDS = 3600

_SCALARS = ("Name", "Type", "RoleArn", "Description", "KmsKey")
_NESTED = ("DataStorageConfig", "ShadowModeConfig")


def config_differences(
    request: Mapping[str, Any],
    described: Mapping[str, Any],
    *,
    schedule_tolerance_seconds: float = DEFAULT_SCHEDULE_TOLERANCE_SECONDS,
) -> list[str]:
    """List how an existing experiment differs from what ``request`` would create (``[]``: it matches).

    :param request: the API-shaped CreateInferenceExperiment request (``build_create_request``).
    :param described: the DescribeInferenceExperiment response for the same name.
    :param schedule_tolerance_seconds: how far apart two schedule times may be and still be
        equal; it should exceed the task's retry delay when the start is derived from "now".
    :return: lines like ``ShadowModeConfig.ShadowModelVariants[0].SamplingPercentage: existing 50,
        requested 40``.
    """
    out: list[str] = []
    for key in _SCALARS:
        if key in request:
            wanted, existing = request[key], described.get(key)
            if key == "Description":
                wanted, existing = wanted or "", existing or ""
            _diff(wanted, existing, key, out)
    if "EndpointName" in request:
        metadata = described.get("EndpointMetadata")
        existing = metadata.get("EndpointName") if isinstance(metadata, Mapping) else None
        _diff(request["EndpointName"], described.get("EndpointName", existing), "EndpointName", out)
    if "ModelVariants" in request:
        _diff_variants(request["ModelVariants"], described.get("ModelVariants"), out)
    for key in _NESTED:
        if key in request:
            _diff(request[key], described.get(key), key, out)
    if request.get("Schedule"):
        tolerance = dt.timedelta(seconds=schedule_tolerance_seconds)
        _diff_schedule(request["Schedule"], described.get("Schedule"), described.get("Status"), tolerance, out)
    return out


def _diff_variants(wanted: Any, existing: Any, out: list[str]) -> None:
    if not isinstance(wanted, (list, tuple)) or not isinstance(existing, (list, tuple)):
        _diff(wanted, existing, "ModelVariants", out)
        return
    by_name = {v.get("VariantName"): v for v in existing if isinstance(v, Mapping)}
    requested_names = set()
    for i, variant in enumerate(wanted):
        name = variant.get("VariantName") if isinstance(variant, Mapping) else None
        requested_names.add(name)
        if name not in by_name:
            out.append(f"ModelVariants[{i}]: existing has no variant {name!r}, requested one")
            continue
        for key, value in variant.items():
            if key != "VariantName":
                _diff(value, by_name[name].get(key), f"ModelVariants[{i}].{key}", out)
    for name in by_name:
        if name not in requested_names:
            out.append(f"ModelVariants: existing has variant {name!r}, not requested")


def _diff(wanted: Any, existing: Any, path: str, out: list[str]) -> None:
    """Report where ``existing`` differs from ``wanted``; keys ``wanted`` leaves out are not compared."""
    if isinstance(wanted, Mapping) and isinstance(existing, Mapping):
        for key, value in wanted.items():
            _diff(value, existing.get(key), f"{path}.{key}", out)
    elif isinstance(wanted, (list, tuple)) and isinstance(existing, (list, tuple)):
        if all(isinstance(v, str) for v in (*wanted, *existing)):
            if sorted(wanted) != sorted(existing):
                out.append(f"{path}: existing {_fmt(existing)}, requested {_fmt(wanted)}")
        elif len(wanted) != len(existing):
            out.append(f"{path}: existing {len(existing)} entries, requested {len(wanted)}")
        else:
            for i, (w, e) in enumerate(zip(wanted, existing, strict=True)):
                _diff(w, e, f"{path}[{i}]", out)
    elif not _equal(wanted, existing):
        out.append(f"{path}: existing {_fmt(existing)}, requested {_fmt(wanted)}")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) or isinstance(b, dt.datetime):
        return _time(a) is not None and _time(a) == _time(b)
    return bool(a == b)


def _time(value: Any) -> dt.datetime | None:
    try:
        return parse_datetime(value, epoch_seconds=True)
    except ValueError:
        return None


def _diff_schedule(
    wanted: Mapping[str, Any], existing: Any, status: Any, tolerance: dt.timedelta, out: list[str]
) -> None:
    existing = existing if isinstance(existing, Mapping) else {}
    want_start, want_end = _time(wanted.get("StartTime")), _time(wanted.get("EndTime"))
    has_start, has_end = _time(existing.get("StartTime")), _time(existing.get("EndTime"))
    # Status unknown counts as possibly started: a missing field must not fail a retry.
    may_have_started = status not in (CREATING, CREATED)
    started_early = want_start is not None and has_start is not None and has_start < want_start and may_have_started
    if want_start is not None and not (
        started_early or (has_start is not None and abs(has_start - want_start) <= tolerance)
    ):
        out.append(f"Schedule.StartTime: existing {_fmt(has_start)}, requested {_fmt(want_start)}")
    if want_end is not None and not (
        (has_end is not None and abs(has_end - want_end) <= tolerance)
        or (
            started_early
            and has_start is not None
            and has_end is not None
            and want_end - has_start > MAX_DURATION
            and abs(has_end - (has_start + MAX_DURATION)) <= tolerance
        )
    ):
        out.append(f"Schedule.EndTime: existing {_fmt(has_end)}, requested {_fmt(want_end)}")


def _fmt(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dt.datetime):
        return parse_datetime(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)
