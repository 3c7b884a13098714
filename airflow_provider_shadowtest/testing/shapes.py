"""Describe outputs as SageMaker shapes them: no empty structures where AWS omits a member.

moto answers ``"VpcConfig": {}`` and ``"Containers": []`` in DescribeModel and
``"DataCaptureConfig": {}`` in DescribeEndpointConfig and DescribeEndpoint when the resource was
created without them; SageMaker leaves such members out, and clients that validate responses
(sagemaker-core's pydantic shapes) reject the empty ones. DescribeEndpoint also reports
``Updating`` while a stop of a shadow test deploys or removes variants (see ``promotion``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.core.responses import ActionResult

from airflow_provider_shadowtest.testing import promotion
from airflow_provider_shadowtest.testing.store import lock_of

if TYPE_CHECKING:
    from collections.abc import Callable

#: attribute marking the wrappers this module installed
MARK = "__shadowtest_shapes__"

#: Describe operations whose top-level empty structures and lists are dropped
DESCRIBES = ("describe_model", "describe_endpoint_config", "describe_endpoint")


def without_empty(result: dict[str, Any]) -> dict[str, Any]:
    """Drop top-level members that are empty structures or lists."""
    return {k: v for k, v in result.items() if not (isinstance(v, dict | list) and not v)}


def omit_empty(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a moto Describe response method: no empty members; the endpoint's live status."""

    def method(self: Any) -> Any:
        backend = self.sagemaker_backend
        with lock_of(backend):
            result = original(self)
            if not isinstance(result, ActionResult) or not isinstance(result.result, dict):
                return result
            out = without_empty(result.result)
            endpoint = backend.endpoints.get(out.get("EndpointName")) if "EndpointStatus" in out else None
            if endpoint is not None:
                out["EndpointStatus"] = promotion.endpoint_status(backend, endpoint)
        return ActionResult(out)

    method.__name__ = getattr(original, "__name__", "describe")
    setattr(method, MARK, True)
    return method
