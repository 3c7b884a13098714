"""Pure core: the CreateInferenceExperiment request model, validation, schedule and lifecycle rules.

Nothing here imports Airflow, boto3 or moto, or does I/O. Constraints come from botocore's
SageMaker service model, read as data on the first validation (importing this package does not
load botocore).
"""

from __future__ import annotations

from airflow_provider_shadowtest.exceptions import InvalidExperimentRequest
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
