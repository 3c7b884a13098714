"""Pre-flight rules: can this endpoint host this shadow test now? Pure, over the Describe results.

Checked before any CreateInferenceExperiment, each problem as ``(rule, message)`` naming the
endpoint. Sources (AWS, SageMaker developer guide):

- "Shadow tests" > "Exclusions" (https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-exclusions.html):
  an endpoint using serverless inference, asynchronous inference, Marketplace containers,
  multiple containers, multi-model hosting, Inf1 (Inferentia) instances or Elastic Inference
  "cannot use shadow tests". Marketplace containers cannot be told from the Describe results
  (a model package's ARN does not say it comes from the Marketplace): SageMaker's own
  ValidationException reports them, with its code and message.
- "Create a shadow test" (https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests-create.html):
  "a maximum of one shadow variant per endpoint. For an endpoint with a shadow variant, there can
  be a maximum of one production variant."
- Inference components: CreateInferenceExperiment's ``ModelVariants`` name one model per
  variant; an endpoint whose variants host inference components has no model per variant
  (``ModelName`` absent from its config), so there is nothing to shadow.
- AWS is silent on two rules, chosen here: the endpoint must be ``InService`` (a shadow variant
  is deployed by updating the endpoint, which SageMaker refuses while it is being created,
  updated or rolled back, or has failed); and one experiment at a time per endpoint (any
  experiment not yet Completed or Cancelled holds it), unless it is this very experiment (a
  retried create reuses it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_shadowtest.experiment.endpoint import EndpointDescription, ProductionVariant

__all__ = [
    "ACTIVE_STATUSES",
    "active_experiment_problems",
    "endpoint_problems",
    "full_form_problems",
    "model_problems",
    "preflight_problems",
    "single_production_variant",
]

#: Experiment statuses that hold the endpoint (everything but Completed and Cancelled).
ACTIVE_STATUSES: Final = ("Creating", "Created", "Updating", "Starting", "Running", "Stopping")
IN_SERVICE: Final = "InService"
_EXCLUSIONS = "the AWS guide ('Shadow tests > Exclusions') excludes"


def endpoint_problems(endpoint: EndpointDescription) -> list[tuple[str, str]]:
    """Every reason ``endpoint`` cannot host a shadow test now, as ``(rule, message)``."""
    name = endpoint.name
    if not endpoint.exists:
        return [("endpoint-exists", f"endpoint {name!r} does not exist")]
    problems: list[tuple[str, str]] = []
    if endpoint.status != IN_SERVICE:
        reason = (endpoint.endpoint or {}).get("FailureReason")
        problems.append(
            (
                "endpoint-in-service",
                f"endpoint {name!r} is {endpoint.status}, not InService"
                + (f" (FailureReason: {reason})" if reason else "")
                + "; wait until it is InService",
            )
        )
    if endpoint.config.get("AsyncInferenceConfig"):
        problems.append(("asynchronous-inference", f"endpoint {name!r} uses asynchronous inference: {_EXCLUSIONS} it"))
    for variant in endpoint.config_variants():
        problems += _variant_problems(name, variant, endpoint.models)
    if endpoint.shadow_variant_names():
        problems.append(
            (
                "one-shadow-variant",
                f"endpoint {name!r} already has a shadow variant ({', '.join(endpoint.shadow_variant_names())}); "
                "SageMaker supports one shadow variant per endpoint",
            )
        )
    if len(endpoint.config_variants()) > 1:
        problems.append(("one-production-variant", _one_production_message(endpoint)))
    return problems


def _variant_problems(
    endpoint: str, variant: Mapping[str, Any], models: Mapping[str, Mapping[str, Any] | None]
) -> list[tuple[str, str]]:
    where = f"endpoint {endpoint!r}, variant {variant.get('VariantName')!r}"
    problems: list[tuple[str, str]] = []
    if variant.get("ServerlessConfig"):
        problems.append(("serverless-inference", f"{where} uses serverless inference: {_EXCLUSIONS} it"))
    instance_type = str(variant.get("InstanceType") or "")
    if instance_type.startswith("ml.inf1."):
        problems.append(("inf1-instances", f"{where} runs on {instance_type} (Inf1, Inferentia): {_EXCLUSIONS} it"))
    if variant.get("AcceleratorType"):
        problems.append(
            ("elastic-inference", f"{where} uses Elastic Inference ({variant['AcceleratorType']}): {_EXCLUSIONS} it")
        )
    model = variant.get("ModelName")
    if not model:
        problems.append(
            (
                "inference-components",
                f"{where} hosts inference components (no ModelName): a shadow test needs one model per variant",
            )
        )
    else:
        problems += model_problems(where, str(model), models.get(str(model)), role="production model")
    return problems


def model_problems(where: str, model: str, described: Mapping[str, Any] | None, *, role: str) -> list[tuple[str, str]]:
    """Exclusions that come from a model (multi-model, multiple containers); a missing model."""
    if described is None:
        return [("model-exists", f"{where}: {role} {model!r} does not exist")]
    problems: list[tuple[str, str]] = []
    containers = [c for c in described.get("Containers") or [] if isinstance(c, Mapping)]
    primary = described.get("PrimaryContainer")
    if isinstance(primary, Mapping):
        containers = [primary, *containers]
    if len(containers) > 1 or (described.get("InferenceExecutionConfig") or {}).get("Mode") == "Direct":
        problems.append(
            ("multiple-containers", f"{where}: {role} {model!r} has {len(containers)} containers: {_EXCLUSIONS} them")
        )
    if any(c.get("Mode") == "MultiModel" for c in containers):
        problems.append(("multi-model", f"{where}: {role} {model!r} is a multi-model container: {_EXCLUSIONS} it"))
    return problems


def single_production_variant(endpoint: EndpointDescription) -> tuple[ProductionVariant | None, str]:
    """The endpoint's one production variant, or None with the reason."""
    variants = endpoint.production_variants()
    if len(variants) != 1:
        return None, _one_production_message(endpoint)
    return variants[0], ""


def _one_production_message(endpoint: EndpointDescription) -> str:
    names = [v.name for v in endpoint.production_variants()]
    return (
        f"endpoint {endpoint.name!r} has {len(names)} production variants ({', '.join(names) or 'none'}); "
        "an endpoint with a shadow variant has at most one production variant (AWS guide, 'Create a shadow test')"
    )


def active_experiment_problems(
    endpoint_name: str, experiment_name: str, experiments: Iterable[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """The experiments (Describe results) that hold ``endpoint_name``, other than ``experiment_name``."""
    busy = [
        e
        for e in experiments
        if (e.get("EndpointMetadata") or {}).get("EndpointName") == endpoint_name
        and e.get("Status") in ACTIVE_STATUSES
        and e.get("Name") != experiment_name
    ]
    return [
        (
            "one-experiment-per-endpoint",
            f"endpoint {endpoint_name!r} already runs inference experiment {e.get('Name')!r} ({e.get('Status')}); "
            "stop it (or wait for its end) before starting another",
        )
        for e in busy
    ]


def full_form_problems(endpoint: EndpointDescription, request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """In the full form: the source variant must be the endpoint's, serving the model the request names."""
    config = request.get("ShadowModeConfig") or {}
    source = config.get("SourceModelVariantName")
    given = next((v for v in request.get("ModelVariants") or [] if v.get("VariantName") == source), None)
    serving = {v.name: v for v in endpoint.production_variants()}
    if not endpoint.exists or source is None or given is None:
        return []
    if source not in serving:
        return [
            (
                "source-is-production",
                f"endpoint {endpoint.name!r} has no production variant {source!r} "
                f"(production variants: {', '.join(serving) or 'none'}); after a promotion the production "
                "variant carries the promoted shadow's name: use the short form (shadow_model_name), "
                "which reads it from the endpoint",
            )
        ]
    actual = serving[source].model_name
    if given.get("ModelName") != actual:
        return [
            (
                "production-model-served",
                f"endpoint {endpoint.name!r}, variant {source!r} serves model {actual!r}, "
                f"not {given.get('ModelName')!r} as model_variants says",
            )
        ]
    return []


def preflight_problems(
    endpoint: EndpointDescription,
    request: Mapping[str, Any] | None,
    *,
    experiment_name: str,
    active_experiments: Iterable[Mapping[str, Any]],
    full_form: bool,
) -> list[tuple[str, str]]:
    """Every pre-flight problem of creating ``request`` on ``endpoint``, as ``(rule, message)``.

    :param request: the built request (None when the short form could not be built: the
        endpoint's problems say why).
    :param active_experiments: Describe results of the experiments not yet ended.
    :param full_form: whether the caller gave ``model_variants`` (then the production variant
        named must be the endpoint's and serve that model).
    """
    problems = endpoint_problems(endpoint)
    if not endpoint.exists:
        return problems
    problems += active_experiment_problems(endpoint.name, experiment_name, active_experiments)
    if request is None:
        return problems
    config = request.get("ShadowModeConfig") or {}
    shadow_names = {s.get("ShadowModelVariantName") for s in config.get("ShadowModelVariants") or []}
    for variant in request.get("ModelVariants") or []:
        model = variant.get("ModelName")
        if variant.get("VariantName") in shadow_names and model in endpoint.models:
            where = f"endpoint {endpoint.name!r}, shadow variant {variant.get('VariantName')!r}"
            problems += model_problems(where, str(model), endpoint.models[model], role="shadow model")
    if full_form:
        problems += full_form_problems(endpoint, request)
    return problems
