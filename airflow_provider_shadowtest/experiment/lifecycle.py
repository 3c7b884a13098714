"""Lifecycle rules of an inference experiment: statuses, update rules, what a wait can still reach.

Pure: shared by the emulator (to answer as SageMaker does) and by the operators and sensor (to
fail early with a clear message).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.parsing import aware

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

CREATING: Final = "Creating"
CREATED: Final = "Created"
UPDATING: Final = "Updating"
STARTING: Final = "Starting"
RUNNING: Final = "Running"
STOPPING: Final = "Stopping"
COMPLETED: Final = "Completed"
CANCELLED: Final = "Cancelled"

ALL_STATUSES: Final = frozenset({CREATING, CREATED, UPDATING, STARTING, RUNNING, STOPPING, COMPLETED, CANCELLED})
#: Statuses that pass by themselves; operations other than Describe answer ConflictException.
TRANSITIONAL_STATUSES: Final = frozenset({CREATING, UPDATING, STARTING, STOPPING})
TERMINAL_STATUSES: Final = frozenset({COMPLETED, CANCELLED})

#: Variant statuses as the service model defines them.
VARIANT_CREATING: Final = "Creating"
VARIANT_UPDATING: Final = "Updating"
VARIANT_IN_SERVICE: Final = "InService"
VARIANT_DELETING: Final = "Deleting"
VARIANT_DELETED: Final = "Deleted"

#: Progress order of the happy path; Updating sits at the rank of the status it came from.
_RANK: Final = {CREATING: 0, CREATED: 1, STARTING: 2, RUNNING: 3, STOPPING: 4, COMPLETED: 5}

#: Which statuses a waiter accepts for the two named targets.
TARGETS: Final[Mapping[str, frozenset[str]]] = {
    "created": frozenset({CREATED}),
    "running": frozenset({RUNNING}),
    "completed": frozenset({COMPLETED}),
}

DEFAULT_DURATION: Final = dt.timedelta(days=7)
MAX_DURATION: Final = dt.timedelta(days=30)

#: Update fields allowed per status (dotted API paths). Created: anything; Running: the end,
#: the description and the sampling percentage.
_UPDATABLE: Final[Mapping[str, frozenset[str]]] = {
    CREATED: frozenset(
        {
            "Schedule.StartTime",
            "Schedule.EndTime",
            "Description",
            "ModelVariants",
            "DataStorageConfig",
            "ShadowModeConfig",
            "ShadowModeConfig.SamplingPercentage",
        }
    ),
    RUNNING: frozenset({"Schedule.EndTime", "Description", "ShadowModeConfig.SamplingPercentage"}),
}


def resolve_target(target: str | Iterable[str]) -> frozenset[str]:
    """Return the statuses that satisfy ``target`` ("running", "completed", "created" or statuses).

    :raises ValueError: naming the unknown target or status.
    """
    if isinstance(target, str):
        key = target.strip().lower()
        if key in TARGETS:
            return TARGETS[key]
        target = [target]
    statuses = frozenset(target)
    unknown = sorted(s for s in statuses if s not in ALL_STATUSES)
    if unknown or not statuses:
        raise ValueError(
            f"target: unknown status {unknown or '(empty)'}; use 'running', 'completed', 'created' "
            f"or statuses from {sorted(ALL_STATUSES)}"
        )
    return statuses


def unreachable_reason(status: str, targets: frozenset[str]) -> str | None:
    """Say why ``targets`` can no longer be reached from ``status``, or return None if it still can.

    A Cancelled experiment reaches nothing else; a Completed one neither; otherwise the
    experiment only moves forward, so a target entirely behind the current status is lost.
    """
    if status in targets:
        return None
    if status == CANCELLED:
        return "it was cancelled"
    if status == COMPLETED:
        return "it has already completed"
    rank = _RANK.get(status)
    reachable = [t for t in targets if t in (CANCELLED, UPDATING) or _RANK.get(t, -1) > (rank or 0)]
    if rank is not None and not reachable:
        return f"it is already past {', '.join(sorted(targets))}"
    return None


def boundary_for(targets: frozenset[str], status: str, schedule: Mapping[str, Any] | None) -> dt.datetime | None:
    """Return the scheduled time before which ``targets`` cannot be reached, if there is one.

    Running cannot come before ``StartTime``; Completed (without an external stop) not before
    ``EndTime``. A waiter sleeps until this time instead of polling.
    """
    if not schedule:
        return None
    wanted: list[dt.datetime] = []
    if RUNNING in targets and status in (CREATING, CREATED):
        start = schedule.get("StartTime")
        if isinstance(start, dt.datetime):
            wanted.append(start)
    if COMPLETED in targets and status in (CREATING, CREATED, STARTING, RUNNING, UPDATING):
        end = schedule.get("EndTime")
        if isinstance(end, dt.datetime):
            wanted.append(end)
    if not wanted:
        return None
    # The earliest target boundary: a waiter for {Running, Completed} wakes at the start.
    return min(aware(t) for t in wanted)


def update_violations(status: str, changed_fields: Iterable[str]) -> list[tuple[str, str]]:
    """Return ``(field, message)`` for each changed field the current status forbids.

    :param changed_fields: dotted API paths from :data:`UPDATABLE_FIELDS` vocabulary, e.g.
        ``Schedule.EndTime`` or ``ShadowModeConfig.SamplingPercentage``.
    """
    changed = list(changed_fields)
    allowed = _UPDATABLE.get(status)
    if allowed is None:
        return [
            (
                f,
                f"cannot be updated while the experiment is {status}; updates are allowed only while "
                "Created or Running",
            )
            for f in (changed or ["(any field)"])
        ]
    return [
        (f, f"cannot be changed while the experiment is {status}; allowed: {', '.join(sorted(allowed))}")
        for f in changed
        if f not in allowed
    ]


def changed_update_fields(current: Mapping[str, Any], update: Mapping[str, Any]) -> list[str]:
    """Compare an UpdateInferenceExperiment request with a Describe result; list what changes.

    Fields given but equal to the current value are not changes (so re-sending the current
    sampling configuration with a new percentage counts only as a sampling change).
    """
    changed: list[str] = []
    schedule = update.get("Schedule") or {}
    cur_schedule = current.get("Schedule") or {}
    for key in ("StartTime", "EndTime"):
        if key in schedule and not _same_time(schedule[key], cur_schedule.get(key)):
            changed.append(f"Schedule.{key}")
    if "Description" in update and update["Description"] != current.get("Description"):
        changed.append("Description")
    if "ModelVariants" in update and _variants_core(update["ModelVariants"]) != _variants_core(
        current.get("ModelVariants") or []
    ):
        changed.append("ModelVariants")
    if "DataStorageConfig" in update and update["DataStorageConfig"] != current.get("DataStorageConfig"):
        changed.append("DataStorageConfig")
    if "ShadowModeConfig" in update:
        new, old = update["ShadowModeConfig"] or {}, current.get("ShadowModeConfig") or {}
        if _strip_sampling(new) != _strip_sampling(old):
            changed.append("ShadowModeConfig")
        elif _sampling(new) != _sampling(old):
            changed.append("ShadowModeConfig.SamplingPercentage")
    return changed


def _same_time(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return aware(a) == aware(b)
    return bool(a == b)


def _variants_core(variants: Iterable[Mapping[str, Any]]) -> list[tuple[Any, Any, Any]]:
    return sorted(
        (
            v.get("ModelName"),
            v.get("VariantName"),
            json.dumps(v.get("InfrastructureConfig"), sort_keys=True, default=str),
        )
        for v in variants
    )


def _strip_sampling(cfg: Mapping[str, Any]) -> tuple[Any, list[Any]]:
    shadows = [s.get("ShadowModelVariantName") for s in cfg.get("ShadowModelVariants") or []]
    return cfg.get("SourceModelVariantName"), shadows


def _sampling(cfg: Mapping[str, Any]) -> list[Any]:
    return [s.get("SamplingPercentage") for s in cfg.get("ShadowModelVariants") or []]
