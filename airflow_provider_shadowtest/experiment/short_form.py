"""The short form of a create: the endpoint's production variant is read, only the shadow is given.

``endpoint_name`` + ``shadow_model_name`` (+ ``shadow_variant_name``, ``sampling_percentage``,
``shadow_instance_type``, ``shadow_instance_count``) become ``ModelVariants`` and
``ShadowModeConfig``: the production variant's name, model, instance type and count come from the
endpoint (:class:`~airflow_provider_shadowtest.experiment.endpoint.EndpointDescription`); the
shadow runs on the same instance settings unless told otherwise, as AWS recommends.

Without a given name the shadow variant's name is derived from the experiment's name: stable for
a retried task (same experiment name, same variant name), different from every variant on the
endpoint, and valid for the service model (at most 63 characters of ``[a-zA-Z0-9-]``, no dash
at either end). After a promotion the endpoint's production variant carries that name, so the
next run's experiment (another name) derives another one.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription, ProductionVariant

__all__ = ["DEFAULT_SAMPLING_PERCENTAGE", "SHORT_FORM_ARGUMENTS", "derive_shadow_variant_name", "short_form_fields"]

#: Arguments of the short form, besides ``endpoint_name``; ``endpoint_description`` is what was read.
SHORT_FORM_ARGUMENTS: Final = (
    "shadow_model_name",
    "shadow_variant_name",
    "sampling_percentage",
    "shadow_instance_type",
    "shadow_instance_count",
)
#: Arguments of the full form that the short form builds.
FULL_FORM_ARGUMENTS: Final = ("model_variants", "shadow_mode_config")
#: The shadow sees every production request unless told otherwise: with production's instance
#: settings it carries the same load, and AWS recommends 100 % before promoting.
DEFAULT_SAMPLING_PERCENTAGE: Final = 100

_VARIANT_NAME_MAX = 63
_HASH_CHARS = 8
_INVALID = re.compile(r"[^a-zA-Z0-9-]+")


def derive_shadow_variant_name(experiment_name: str, taken: set[str] | frozenset[str]) -> str:
    """Return a shadow variant name derived from ``experiment_name``, not in ``taken``.

    ``<experiment name, cut to 54 characters>-<8 hex digits of its SHA-256>``; on the unlikely
    clash with a taken name, the digest of ``<name>#1``, ``#2``... instead (still deterministic
    for the same ``taken``).
    """
    stem = _INVALID.sub("-", str(experiment_name))[: _VARIANT_NAME_MAX - _HASH_CHARS - 1].strip("-") or "shadow"
    attempt = 0
    while True:
        seed = experiment_name if attempt == 0 else f"{experiment_name}#{attempt}"
        name = f"{stem}-{hashlib.sha256(seed.encode()).hexdigest()[:_HASH_CHARS]}"
        if name not in taken:
            return name
        attempt += 1


def short_form_fields(
    *,
    experiment_name: Any,
    production: ProductionVariant,
    endpoint: EndpointDescription,
    shadow_model_name: Any,
    shadow_variant_name: Any = None,
    sampling_percentage: Any = None,
    shadow_instance_type: Any = None,
    shadow_instance_count: Any = None,
) -> dict[str, Any]:
    """Return ``{"ModelVariants": [...], "ShadowModeConfig": {...}}`` for the short form.

    Values are left as given (a rendered ``"50"`` included): the request model converts and
    validates them afterwards.
    """
    shadow_name = shadow_variant_name
    if shadow_name in (None, ""):
        taken = {v.name for v in endpoint.production_variants()} | {production.name}
        shadow_name = derive_shadow_variant_name(str(experiment_name or ""), taken)
    shadow_type = production.instance_type if shadow_instance_type in (None, "") else shadow_instance_type
    shadow_count = production.instance_count if shadow_instance_count in (None, "") else shadow_instance_count
    sampling = DEFAULT_SAMPLING_PERCENTAGE if sampling_percentage in (None, "") else sampling_percentage
    return {
        "ModelVariants": [
            {
                "ModelName": production.model_name,
                "VariantName": production.name,
                "InfrastructureConfig": production.infrastructure(),
            },
            {
                "ModelName": shadow_model_name,
                "VariantName": shadow_name,
                "InfrastructureConfig": {
                    "InfrastructureType": "RealTimeInference",
                    "RealTimeInferenceConfig": {"InstanceType": shadow_type, "InstanceCount": shadow_count},
                },
            },
        ],
        "ShadowModeConfig": {
            "SourceModelVariantName": production.name,
            "ShadowModelVariants": [{"ShadowModelVariantName": shadow_name, "SamplingPercentage": sampling}],
        },
    }


#: Where a problem of the built request comes from, by path prefix: the short-form argument.
_ARGUMENT_BY_PATH: Final[Mapping[str, str]] = {
    "model_variants[1].ModelName": "shadow_model_name",
    "model_variants[1].VariantName": "shadow_variant_name",
    "model_variants[1].InfrastructureConfig.RealTimeInferenceConfig.InstanceType": "shadow_instance_type",
    "model_variants[1].InfrastructureConfig.RealTimeInferenceConfig.InstanceCount": "shadow_instance_count",
    "shadow_mode_config.ShadowModelVariants[0].SamplingPercentage": "sampling_percentage",
    "shadow_mode_config.ShadowModelVariants[0].ShadowModelVariantName": "shadow_variant_name",
    "model_variants[0]": "endpoint_name",
    "shadow_mode_config.SourceModelVariantName": "endpoint_name",
}


def short_form_path(path: str, endpoint_name: str) -> str:
    """Name the short-form argument behind a problem's ``path`` in the built request."""
    for prefix, argument in _ARGUMENT_BY_PATH.items():
        if path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")):
            if argument == "endpoint_name":
                return f"endpoint_name (production variant read from endpoint {endpoint_name!r}: {path})"
            return argument
    return path
