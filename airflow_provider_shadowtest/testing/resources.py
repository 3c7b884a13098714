"""Set-up helpers: the model, endpoint config and endpoint a shadow test needs (any SageMaker client)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_ROLE_ARN = "arn:aws:iam::123456789012:role/shadowtest-sagemaker"
DEFAULT_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shadowtest-model:latest"


def create_model(
    client: Any,
    name: str,
    *,
    tags: Mapping[str, str] | None = None,
    role_arn: str = DEFAULT_ROLE_ARN,
    image: str = DEFAULT_IMAGE,
    model_data_url: str | None = None,
) -> str:
    """Create a SageMaker model; return its ARN. ``tags`` as a plain mapping."""
    container: dict[str, Any] = {"Image": image}
    if model_data_url:
        container["ModelDataUrl"] = model_data_url
    kwargs: dict[str, Any] = {"ModelName": name, "ExecutionRoleArn": role_arn, "PrimaryContainer": container}
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return str(client.create_model(**kwargs)["ModelArn"])


def create_endpoint(
    client: Any,
    endpoint_name: str,
    model_name: str,
    *,
    variant_name: str = "AllTraffic",
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    endpoint_config_name: str | None = None,
    create_model_if_missing: bool = True,
    model_tags: Mapping[str, str] | None = None,
) -> str:
    """Create (if needed) the model, an endpoint config with one production variant, and the endpoint.

    :returns: the endpoint's ARN.
    """
    if create_model_if_missing:
        try:
            client.describe_model(ModelName=model_name)
        except client.exceptions.ClientError:
            create_model(client, model_name, tags=model_tags)
    config_name = endpoint_config_name or f"{endpoint_name}-config"
    client.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": variant_name,
                "ModelName": model_name,
                "InstanceType": instance_type,
                "InitialInstanceCount": instance_count,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    return str(client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)["EndpointArn"])


def shadow_test_request(
    name: str,
    endpoint_name: str,
    production_model: str,
    shadow_model: str,
    *,
    production_variant: str = "AllTraffic",
    shadow_variant: str = "shadow",
    sampling_percent: int = 50,
    instance_type: str = "ml.m5.xlarge",
    instance_count: int = 1,
    role_arn: str = DEFAULT_ROLE_ARN,
    **extra: Any,
) -> dict[str, Any]:
    """A complete CreateInferenceExperiment request (API shape) for one production and one shadow."""

    def variant(model: str, variant_name: str) -> dict[str, Any]:
        return {
            "ModelName": model,
            "VariantName": variant_name,
            "InfrastructureConfig": {
                "InfrastructureType": "RealTimeInference",
                "RealTimeInferenceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count},
            },
        }

    request: dict[str, Any] = {
        "Name": name,
        "Type": "ShadowMode",
        "RoleArn": role_arn,
        "EndpointName": endpoint_name,
        "ModelVariants": [variant(production_model, production_variant), variant(shadow_model, shadow_variant)],
        "ShadowModeConfig": {
            "SourceModelVariantName": production_variant,
            "ShadowModelVariants": [{"ShadowModelVariantName": shadow_variant, "SamplingPercentage": sampling_percent}],
        },
    }
    request.update(extra)
    return request
