"""Changes to moto's endpoints: new configs for promotion and retained shadow variants, instance types.

moto has no UpdateEndpoint. A change creates a NEW endpoint config in moto's backend and points
the endpoint at it; an existing config is never edited (other endpoints may share it).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from moto.sagemaker.exceptions import ValidationError

from airflow_provider_shadowtest.testing.store import now

if TYPE_CHECKING:
    from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig

_CONFIG_NAME_MAX = 63


@functools.lru_cache(maxsize=1)
def instance_types() -> frozenset[str]:
    """The service model's ``ProductionVariantInstanceType`` enum (about 277 values)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape: Any = model.shape_for("ProductionVariantInstanceType")
    return frozenset(shape.enum)


def validate_instance_type(self: FakeEndpointConfig, instance_type: str) -> None:
    """Replacement of moto's check (66 types) by the service model's list."""
    if instance_type not in instance_types():
        raise ValidationError(
            message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set: ProductionVariantInstanceType"
        )


def get_endpoint(backend: Any, endpoint_name: str) -> FakeEndpoint | None:
    return backend.endpoints.get(endpoint_name)  # type: ignore[no-any-return]


def endpoint_config_of(backend: Any, endpoint: FakeEndpoint) -> FakeEndpointConfig | None:
    return backend.endpoint_configs.get(endpoint.endpoint_config_name)  # type: ignore[no-any-return]


def production_variants(backend: Any, endpoint: FakeEndpoint) -> list[dict[str, Any]]:
    """The endpoint's production variants as its config declares them (with ModelName)."""
    config = endpoint_config_of(backend, endpoint)
    if config is None:
        return [dict(v) for v in endpoint.production_variants]
    return [dict(v) for v in config.production_variants]


def variant_summary(variant: dict[str, Any]) -> dict[str, Any]:
    """A ``ProductionVariantSummary`` for DescribeEndpoint, as moto builds them."""
    out: dict[str, Any] = {"VariantName": variant["VariantName"]}
    count = variant.get("InitialInstanceCount")
    if count:
        out["CurrentInstanceCount"] = out["DesiredInstanceCount"] = count
    weight = variant.get("InitialVariantWeight")
    if weight:
        out["CurrentWeight"] = out["DesiredWeight"] = weight
    return out


def _new_config_name(backend: Any, endpoint_name: str, tag: str) -> str:
    stamp = now().strftime("%Y%m%d%H%M%S")
    base = re.sub(r"-+$", "", f"{endpoint_name}"[: _CONFIG_NAME_MAX - len(tag) - len(stamp) - 6])
    name = f"{base}-{tag}-{stamp}"
    n = 1
    while name in backend.endpoint_configs:
        n += 1
        name = f"{base}-{tag}-{stamp}-{n}"
    return name


def repoint_endpoint(
    backend: Any,
    endpoint: FakeEndpoint,
    production: list[dict[str, Any]],
    shadow: list[dict[str, Any]] | None,
    tag: str,
) -> FakeEndpointConfig:
    """Create a new endpoint config with these variants and point ``endpoint`` at it."""
    old = endpoint_config_of(backend, endpoint)
    config: FakeEndpointConfig = backend.create_endpoint_config(
        endpoint_config_name=_new_config_name(backend, endpoint.endpoint_name, tag),
        production_variants=production,
        data_capture_config=getattr(old, "data_capture_config", None) or {},
        async_inference_config=getattr(old, "async_inference_config", None),
        tags=[],
        kms_key_id=getattr(old, "kms_key_id", None),
    )
    if shadow:
        backend.validate_production_variants(shadow)
        config.validate_production_variants(shadow)
        config.shadow_production_variants = shadow  # type: ignore[attr-defined]
    endpoint.endpoint_config_name = config.endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(production)
    if shadow:
        endpoint.shadow_production_variants = [variant_summary(v) for v in shadow]  # type: ignore[attr-defined]
    elif hasattr(endpoint, "shadow_production_variants"):
        del endpoint.shadow_production_variants
    endpoint.last_modified_time = now()
    return config


def shadow_from(model_variant: dict[str, Any], infra: dict[str, Any] | None) -> dict[str, Any]:
    """A ``ShadowProductionVariants`` entry for a retained shadow variant."""
    rt = (infra or model_variant["InfrastructureConfig"]).get("RealTimeInferenceConfig") or {}
    return {
        "VariantName": model_variant["VariantName"],
        "ModelName": model_variant["ModelName"],
        "InstanceType": rt.get("InstanceType"),
        "InitialInstanceCount": rt.get("InstanceCount", 1),
        "InitialVariantWeight": 1.0,
    }
