"""The endpoint a shadow test runs on, as DescribeEndpoint, DescribeEndpointConfig and DescribeModel show it.

Pure: :class:`EndpointDescription` holds what the hook read (no I/O here) and answers what the
short-form create and the pre-flight rules need: the production variant (name, model, instance
type and count), the shadow variants, the models behind them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

__all__ = ["EndpointDescription", "ProductionVariant"]


@dataclasses.dataclass(frozen=True)
class ProductionVariant:
    """A production variant as the endpoint serves it now.

    :param name: ``VariantName``.
    :param model_name: ``ModelName`` (None on an endpoint that hosts inference components).
    :param instance_type: ``InstanceType`` (None for serverless).
    :param instance_count: instances serving now: DescribeEndpoint's ``CurrentInstanceCount``
        (autoscaling included), else the config's ``InitialInstanceCount``.
    """

    name: str
    model_name: str | None
    instance_type: str | None
    instance_count: int | None

    def infrastructure(self) -> dict[str, Any]:
        """The ``InfrastructureConfig`` of a ModelVariants entry with these settings."""
        return {
            "InfrastructureType": "RealTimeInference",
            "RealTimeInferenceConfig": {"InstanceType": self.instance_type, "InstanceCount": self.instance_count},
        }


@dataclasses.dataclass(frozen=True)
class EndpointDescription:
    """An endpoint as the Describe calls returned it.

    :param name: the endpoint's name.
    :param endpoint: the DescribeEndpoint response; None when the endpoint does not exist.
    :param config: the DescribeEndpointConfig response of its current config.
    :param models: DescribeModel responses by model name; None for a model that does not exist.
    """

    name: str
    endpoint: Mapping[str, Any] | None
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    models: Mapping[str, Mapping[str, Any] | None] = dataclasses.field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.endpoint is not None

    @property
    def status(self) -> str | None:
        return None if self.endpoint is None else self.endpoint.get("EndpointStatus")

    def config_variants(self) -> list[Mapping[str, Any]]:
        """The config's ``ProductionVariants`` entries."""
        return [v for v in self.config.get("ProductionVariants") or [] if isinstance(v, Mapping)]

    def production_variants(self) -> list[ProductionVariant]:
        """The production variants, with the instance count serving now."""
        current = {str(v.get("VariantName")): v for v in (self.endpoint or {}).get("ProductionVariants") or [] if v}
        out = []
        for variant in self.config_variants():
            name = str(variant.get("VariantName"))
            runtime = current.get(name) or {}
            count = runtime.get("CurrentInstanceCount") or variant.get("InitialInstanceCount")
            out.append(
                ProductionVariant(
                    name=name,
                    model_name=variant.get("ModelName"),
                    instance_type=variant.get("InstanceType"),
                    instance_count=int(count) if count is not None else None,
                )
            )
        return out

    def shadow_variant_names(self) -> list[str]:
        """Names of shadow variants on the endpoint now (a running test's, or one retained)."""
        names = [v.get("VariantName") for v in self.config.get("ShadowProductionVariants") or []]
        names += [v.get("VariantName") for v in (self.endpoint or {}).get("ShadowProductionVariants") or []]
        return sorted({str(n) for n in names if n})

    def variant_names(self) -> set[str]:
        """Every variant name on the endpoint, production and shadow."""
        return {v.name for v in self.production_variants()} | set(self.shadow_variant_names())

    @classmethod
    def from_experiment(cls, described: Mapping[str, Any]) -> EndpointDescription:
        """The endpoint as an existing experiment recorded it: its source variant as the production variant.

        A retried create reuses its own experiment; building the request from what that
        experiment recorded (not from the endpoint, which a promotion may have changed since)
        gives the same request as the first try.
        """
        config = described.get("ShadowModeConfig") or {}
        source = config.get("SourceModelVariantName")
        variants = []
        for variant in described.get("ModelVariants") or []:
            if variant.get("VariantName") != source:
                continue
            rt = (variant.get("InfrastructureConfig") or {}).get("RealTimeInferenceConfig") or {}
            variants.append(
                {
                    "VariantName": source,
                    "ModelName": variant.get("ModelName"),
                    "InstanceType": rt.get("InstanceType"),
                    "InitialInstanceCount": rt.get("InstanceCount"),
                }
            )
        name = str((described.get("EndpointMetadata") or {}).get("EndpointName") or "")
        return cls(name=name, endpoint={"EndpointName": name}, config={"ProductionVariants": variants})
