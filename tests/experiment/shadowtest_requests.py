"""A valid CreateInferenceExperiment request, in the API's shape and as build_create_request arguments."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

UTC = dt.timezone.utc
START = dt.datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
END = dt.datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::123456789012:role/SageMakerShadowTests"


def variant(model: str, name: str, instance_type: str = "ml.m5.xlarge", count: Any = 1) -> dict[str, Any]:
    return {
        "ModelName": model,
        "VariantName": name,
        "InfrastructureConfig": {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": instance_type, "InstanceCount": count},
        },
    }


_REQUEST: dict[str, Any] = {
    "Name": "churn-shadow-2030-01-01",
    "Type": "ShadowMode",
    "Schedule": {"StartTime": START, "EndTime": END},
    "Description": "Churn model v2 against production",
    "RoleArn": ROLE,
    "EndpointName": "churn-endpoint",
    "ModelVariants": [variant("churn-v1", "production"), variant("churn-v2", "shadow")],
    "DataStorageConfig": {
        "Destination": "s3://my-bucket/shadow-capture",
        "KmsKey": "alias/capture",
        "ContentType": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
    },
    "ShadowModeConfig": {
        "SourceModelVariantName": "production",
        "ShadowModelVariants": [{"ShadowModelVariantName": "shadow", "SamplingPercentage": 50}],
    },
    "KmsKey": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "Tags": [{"Key": "team", "Value": "ml-platform"}, {"Key": "cost-center", "Value": "42"}],
}

SNAKE = {
    "Name": "name",
    "Type": "type",
    "Schedule": "schedule",
    "Description": "description",
    "RoleArn": "role_arn",
    "EndpointName": "endpoint_name",
    "ModelVariants": "model_variants",
    "DataStorageConfig": "data_storage_config",
    "ShadowModeConfig": "shadow_mode_config",
    "KmsKey": "kms_key",
    "Tags": "tags",
}


def api_request() -> dict[str, Any]:
    """A fresh copy of a request that uses every field and is valid."""
    return copy.deepcopy(_REQUEST)


def as_kwargs(request: dict[str, Any]) -> dict[str, Any]:
    """The build_create_request arguments for an API-shaped request."""
    return {SNAKE[key]: copy.deepcopy(value) for key, value in request.items()}


def kwargs() -> dict[str, Any]:
    return as_kwargs(api_request())
