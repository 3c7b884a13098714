"""Every difference between the Airflow versions we support (2.11, 3.0, 3.1+), in one place.

The adapters (operators, sensors, links, triggers, hooks) import Airflow's names from here and
nowhere else. Most names come from ``apache-airflow-providers-common-compat``'s ``sdk`` module,
which tries the Airflow 3 Task SDK path first and falls back to the Airflow 2 path; the few it
does not cover have a small shim below, each with a comment saying what differs.

Importing this module loads the Airflow base classes a DAG file needs anyway, nothing more: the
XCom backend and configuration are looked up when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# BaseOperator, BaseSensorOperator, PokeReturnValue, BaseOperatorLink: airflow.sdk (3.x),
# airflow.models / airflow.sensors.base (2.x). BranchMixIn: airflow.sdk.bases.branch (3.x),
# airflow.operators.branch (2.x). The exceptions: airflow.sdk.exceptions (3.1+),
# airflow.exceptions (2.x, 3.0). common-compat >= 1.15 resolves all of these.
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseOperator,
    BaseOperatorLink,
    BaseSensorOperator,
    BranchMixIn,
    PokeReturnValue,
)

if TYPE_CHECKING:
    # Context and TaskInstanceKey are for typing only (the adapters import them under
    # TYPE_CHECKING): Context is airflow.sdk.Context (3.x) / airflow.utils.context.Context (2.x);
    # TaskInstanceKey is airflow.sdk.types (3.x) / airflow.models.taskinstancekey (2.x).
    # BaseTrigger and TriggerEvent live at airflow.triggers.base in every supported version. Only
    # the trigger module needs them and that module costs ~15 ms, so they are resolved on first
    # access (module __getattr__ below), never by the DAG-facing modules.
    from airflow.sdk import Context as Context  # noqa: PLC0414 - explicit re-export
    from airflow.sdk.bases.operator import BaseOperatorMeta
    from airflow.sdk.exceptions import AirflowRescheduleException
    from airflow.sdk.types import TaskInstanceKey as TaskInstanceKey  # noqa: PLC0414 - explicit re-export
    from airflow.triggers.base import BaseTrigger as BaseTrigger  # noqa: PLC0414 - explicit re-export
    from airflow.triggers.base import TriggerEvent as TriggerEvent  # noqa: PLC0414 - explicit re-export
else:
    # BaseOperatorMeta: the metaclass that fills operator arguments from ``default_args`` and lets
    # ``partial()`` and ``expand()`` accept them (a cooperative mixin declaring operator arguments
    # needs it). The Task SDK defines it in 3.x; Airflow 2 in ``airflow.models.baseoperator``.
    try:
        from airflow.sdk.bases.operator import BaseOperatorMeta
    except ImportError:  # Airflow 2.11
        from airflow.models.baseoperator import BaseOperatorMeta
    # AirflowRescheduleException: airflow.sdk.exceptions from 3.1, airflow.exceptions before;
    # common-compat (up to 1.23 at least) does not re-export it.
    try:
        from airflow.sdk.exceptions import AirflowRescheduleException
    except ImportError:  # Airflow 2.11, 3.0
        from airflow.exceptions import AirflowRescheduleException

# Context and TaskInstanceKey are importable under TYPE_CHECKING only; BaseTrigger and
# TriggerEvent on first access.
__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseOperatorMeta",
    "BaseSensorOperator",
    "BranchMixIn",
    "PokeReturnValue",
    "airflow_version",
    "default_deferrable",
    "xcom_value",
]


def airflow_version() -> tuple[int, int]:
    """Return the running Airflow's ``(major, minor)``, e.g. ``(2, 11)``."""
    from airflow import __version__

    major, minor = __version__.split(".")[:2]
    return int(major), int(minor)


def default_deferrable() -> bool:
    """Return ``[operators] default_deferrable`` (False when unset).

    Airflow 3.1+ exposes task-side configuration through ``airflow.sdk.configuration``; 2.x and
    3.0 only through ``airflow.configuration``.
    """
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow 2.11, 3.0
        from airflow.configuration import conf
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def xcom_value(*, key: str, ti_key: TaskInstanceKey) -> Any:
    """Return the XCom ``key`` of the task instance ``ti_key`` (None when there is none).

    Operator links run in the api-server (3.x) or webserver (2.x); the XCom class is
    ``airflow.sdk.execution_time.xcom.XCom`` in 3.x and ``airflow.models.xcom.XCom`` in 2.x,
    both with ``get_value(key=, ti_key=)``. Imported here, on first use, because it pulls in
    the XCom backend.
    """
    from airflow.providers.common.compat.sdk import XCom

    return XCom.get_value(key=key, ti_key=ti_key)


def __getattr__(name: str) -> Any:
    """Resolve ``BaseTrigger`` and ``TriggerEvent`` when the trigger module first asks for them."""
    if name in {"BaseTrigger", "TriggerEvent"}:
        import airflow.triggers.base

        return getattr(airflow.triggers.base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
