"""Pure core: the CreateInferenceExperiment request model, validation, schedule and lifecycle rules.

Nothing here imports Airflow, boto3 or moto, or does I/O. Constraints come from botocore's
SageMaker service model, read as data on the first validation (importing this package does not
load botocore).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest

if TYPE_CHECKING:
    from airflow_provider_shadowtest.experiment.compare import config_differences
    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription, ProductionVariant
    from airflow_provider_shadowtest.experiment.request import build_create_request
    from airflow_provider_shadowtest.experiment.schedule import (
        NormalizedSchedule,
        normalize_schedule,
        parse_datetime,
        parse_duration,
    )
    from airflow_provider_shadowtest.experiment.validate import (
        validate_create_request,
        validate_stop_request,
        validate_update_request,
    )

#: Where each public name lives. They load on first access, so the operator modules a DAG file
#: imports (which need ``experiment.lifecycle`` or ``experiment.waiting``) do not pay for the
#: request model and validation until a task runs.
_LAZY = {
    "EndpointDescription": "endpoint",
    "ProductionVariant": "endpoint",
    "NormalizedSchedule": "schedule",
    "build_create_request": "request",
    "config_differences": "compare",
    "normalize_schedule": "schedule",
    "parse_datetime": "schedule",
    "parse_duration": "schedule",
    "validate_create_request": "validate",
    "validate_stop_request": "validate",
    "validate_update_request": "validate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EndpointDescription",
    "InvalidExperimentRequest",
    "NormalizedSchedule",
    "ProductionVariant",
    "build_create_request",
    "config_differences",
    "normalize_schedule",
    "parse_datetime",
    "parse_duration",
    "validate_create_request",
    "validate_stop_request",
    "validate_update_request",
]
