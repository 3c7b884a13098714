"""What StopInferenceExperiment does to the endpoint: promote, retain or remove the shadow variant.

From the AWS developer guide, "Complete a shadow test" / "Promote a shadow variant": after a
promotion "Your SageMaker Inference endpoint is now using the shadow variant as your production
variant, and your production variant has been removed from the endpoint". The endpoint's single
production variant then carries the shadow variant's name and model. Instance settings: those of
``DesiredModelVariants`` for the shadow variant when given (the console's "Retain shadow
settings" or "Custom instance settings"); otherwise the production variant's, the option the
guide "highly recommend[s]" ("Retain production settings"). The guide says promotion updates the
endpoint, and DescribeEndpoint's EndpointStatus documents ``Updating`` for an endpoint update:
the endpoint reports ``Updating`` while the experiment is ``Stopping`` and SageMaker deploys or
removes variants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.sagemaker.exceptions import ValidationError

from airflow_provider_shadowtest.testing import endpoints as eps
from airflow_provider_shadowtest.testing import rules as r
from airflow_provider_shadowtest.testing.store import experiments

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from moto.sagemaker.models import FakeEndpoint

    from airflow_provider_shadowtest.testing.store import Experiment

UPDATING = "Updating"


def _settings(infra: Mapping[str, Any] | None) -> dict[str, Any]:
    rt = (infra or {}).get("RealTimeInferenceConfig") or {}
    out: dict[str, Any] = {}
    if rt.get("InstanceType"):
        out["InstanceType"] = rt["InstanceType"]
    if rt.get("InstanceCount") is not None:
        out["InitialInstanceCount"] = rt["InstanceCount"]
    return out


def promoted_variant(
    shadow: Mapping[str, Any], production: Mapping[str, Any], desired: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The endpoint's new production variant: the shadow variant's name and model.

    :param shadow: the shadow variant as the experiment lists it (``ModelVariantConfig``).
    :param production: the endpoint's current production variant (``ProductionVariant``).
    :param desired: the ``DesiredModelVariants`` entry of the shadow variant, if any.
    """
    variant: dict[str, Any] = {
        "VariantName": shadow["VariantName"],
        "ModelName": shadow["ModelName"],
        "InstanceType": production.get("InstanceType"),
        "InitialInstanceCount": production.get("InitialInstanceCount", 1),
        "InitialVariantWeight": production.get("InitialVariantWeight") or 1.0,
    }
    if desired is not None:
        variant.update(_settings(desired.get("InfrastructureConfig")))
    return variant


def apply_actions(backend: Any, exp: Experiment, actions: Mapping[str, str], desired: list[dict[str, Any]]) -> None:
    """Change the endpoint as the (already checked) ModelVariantActions say."""
    shadow_action = actions[exp.shadow_variant]
    if shadow_action == r.REMOVE:
        return  # the shadow variant goes; production serves as before
    endpoint = eps.get_endpoint(backend, exp.endpoint_name)
    if endpoint is None:
        raise ValidationError(
            message=f"1 validation error detected: EndpointName: endpoint {exp.endpoint_name} no longer exists"
        )
    production = eps.production_variants(backend, endpoint)
    base = next((v for v in production if v["VariantName"] == exp.source_variant), production[0])
    shadow = exp.variant(exp.shadow_variant)
    assert shadow is not None
    by_name = {str(v.get("VariantName")): v for v in desired}
    if shadow_action == r.PROMOTE:
        new = promoted_variant(shadow, base, by_name.get(exp.shadow_variant))
        eps.repoint_endpoint(backend, endpoint, [new], None, "promoted")
    else:  # Retain: the endpoint keeps the shadow variant
        chosen = by_name.get(exp.shadow_variant)
        shadow_variant = eps.shadow_from(shadow, chosen["InfrastructureConfig"] if chosen else None)
        eps.repoint_endpoint(backend, endpoint, production, [shadow_variant], "retained")


def changes_endpoint(exp: Experiment) -> bool:
    """True when the experiment's stop deploys or removes a variant on the endpoint."""
    return exp.variant_actions.get(exp.shadow_variant) in (r.PROMOTE, r.REMOVE)


def endpoint_status(backend: Any, endpoint: FakeEndpoint, at: dt.datetime | None = None) -> str:
    """The endpoint's status: ``Updating`` while a stop of one of its experiments changes its variants."""
    for exp in list(experiments(backend).values()):
        if exp.endpoint_name == endpoint.endpoint_name and exp.status(at) == r.STOPPING and changes_endpoint(exp):
            return UPDATING
    return str(endpoint.endpoint_status)
