"""Response methods added to moto's SageMakerResponse, and the counting/fault hook of each call.

moto looks a response method up by its snake_case action name at call time, so methods set on
``SageMakerResponse`` serve both ``mock_aws`` and moto's server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult, BaseResponse

from airflow_provider_shadowtest.testing import endpoints as eps
from airflow_provider_shadowtest.testing import operations as ops
from airflow_provider_shadowtest.testing.counters import COUNTERS
from airflow_provider_shadowtest.testing.faults import (
    DROP_KINDS,
    INJECTOR,
    DropConnection,
    drop_error,
    fault_response,
)
from airflow_provider_shadowtest.testing.plain_params import plain
from airflow_provider_shadowtest.testing.store import experiments, lock_of

if TYPE_CHECKING:
    from collections.abc import Callable

_CBOR_OPERATION = re.compile(r"/service/[^/]+/operation/([A-Za-z0-9]+)")

#: attribute marking what this package installed (install is idempotent)
MARK = "__shadowtest__"


def _params(response: Any) -> dict[str, Any]:
    return plain(getattr(response, "params", None) or {})  # type: ignore[no-any-return]


def _operation(handler: Callable[[Any, dict[str, Any]], dict[str, Any]]) -> Callable[[Any], ActionResult]:
    def method(self: Any) -> ActionResult:
        return ActionResult(handler(self.sagemaker_backend, _params(self)))

    method.__name__ = handler.__name__
    setattr(method, MARK, True)
    return method


OPERATIONS: dict[str, Callable[[Any], ActionResult]] = {
    "create_inference_experiment": _operation(ops.create),
    "describe_inference_experiment": _operation(ops.describe),
    "update_inference_experiment": _operation(ops.update),
    "start_inference_experiment": _operation(ops.start),
    "stop_inference_experiment": _operation(ops.stop),
    "list_inference_experiments": _operation(ops.list_experiments),
    "delete_inference_experiment": _operation(ops.delete),
}


def operation_name(response: BaseResponse) -> str:
    """The API operation of a request: X-Amz-Target, the CBOR path, or the Action parameter."""
    target = response.headers.get("X-Amz-Target") or response.headers.get("x-amz-target")
    if target:
        return str(target).rsplit(".", 1)[-1]
    match = _CBOR_OPERATION.search(getattr(response, "path", "") or "")
    if match:
        return match.group(1)
    try:
        return str(response._get_action() or "Unknown")
    except Exception:
        return "Unknown"


def counting_call_action(original: Callable[[Any], Any], *, faults: bool) -> Callable[[Any], Any]:
    """Wrap ``call_action``: count the request, maybe inject a fault, and run moto's action.

    Every fault but ``drop_after`` replaces the action; ``drop_after`` runs it, then drops the answer.
    """

    def call_action(self: Any) -> Any:
        operation = operation_name(self)
        COUNTERS.count_request(operation)
        kind = INJECTOR.draw(operation) if faults else None
        if kind is None:
            return original(self)
        COUNTERS.count_fault(operation, kind)
        if kind == "drop_after":
            original(self)  # processed (error answers included); only the answer is lost
        if kind in DROP_KINDS:
            if getattr(self, "is_werkzeug_request", False):
                raise DropConnection(f"{operation} after processing" if kind == "drop_after" else operation)
            raise drop_error(getattr(self, "uri", ""))
        return fault_response(kind)

    setattr(call_action, MARK, True)
    call_action.__wrapped__ = original  # type: ignore[attr-defined]
    return call_action


# -- moto's endpoint operations: keep ShadowProductionVariants, show running shadow tests ---------
def create_endpoint_config_keeping_shadow(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_endpoint_config(self: Any) -> Any:
        shadow = plain(self._get_param("ShadowProductionVariants"))
        backend = self.sagemaker_backend
        if shadow:
            backend.validate_production_variants(shadow)
        result = original(self)
        if shadow:
            config = backend.endpoint_configs[self._get_param("EndpointConfigName")]
            config.validate_production_variants(shadow)
            config.shadow_production_variants = shadow
        return result

    setattr(create_endpoint_config, MARK, True)
    return create_endpoint_config


def create_endpoint_keeping_shadow(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_endpoint(self: Any) -> Any:
        result = original(self)
        backend = self.sagemaker_backend
        endpoint = backend.endpoints.get(self._get_param("EndpointName"))
        config = eps.endpoint_config_of(backend, endpoint) if endpoint is not None else None
        shadow = getattr(config, "shadow_production_variants", None)
        if endpoint is not None and shadow:
            endpoint.shadow_production_variants = [eps.variant_summary(v) for v in shadow]
        return result

    setattr(create_endpoint, MARK, True)
    return create_endpoint


def describe_endpoint_with_shadow(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """While an experiment runs, DescribeEndpoint lists its shadow variant, as SageMaker does."""

    def describe_endpoint(self: Any) -> Any:
        backend = self.sagemaker_backend
        # under the lock: Stop repoints the endpoint and marks the experiment stopped together
        with lock_of(backend):
            result = original(self)
            if not isinstance(result, ActionResult) or not isinstance(result.result, dict):
                return result
            name = self._get_param("EndpointName")
            for exp in list(experiments(backend).values()):
                if exp.endpoint_name == name and exp.mirroring():
                    variant = exp.variant(exp.shadow_variant) or {}
                    rt = (variant.get("InfrastructureConfig") or {}).get("RealTimeInferenceConfig") or {}
                    summary = eps.variant_summary(
                        {"VariantName": exp.shadow_variant, "InitialInstanceCount": rt.get("InstanceCount")}
                    )
                    return ActionResult(dict(result.result, ShadowProductionVariants=[summary]))
        return result

    setattr(describe_endpoint, MARK, True)
    return describe_endpoint
