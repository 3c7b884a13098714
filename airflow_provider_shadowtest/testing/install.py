"""Install the shadow-test extension into moto (idempotent; safe under ``python -m``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from moto.cloudwatch.responses import CloudWatchResponse
from moto.sagemaker.models import FakeEndpointConfig, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_shadowtest.testing import capture, shapes, tags
from airflow_provider_shadowtest.testing import endpoints as eps
from airflow_provider_shadowtest.testing import request_gate as gate
from airflow_provider_shadowtest.testing import responses as rsp
from airflow_provider_shadowtest.testing.store import deleted_experiments, experiments, lock_of

log = logging.getLogger(__name__)
_lock = threading.Lock()
_installed = False


def _wrap(cls: type, name: str, wrapper: Any) -> None:
    current = cls.__dict__.get(name) or getattr(cls, name)
    if getattr(current, rsp.MARK, False):
        return
    setattr(cls, name, wrapper(current))


def _wrap_marked(cls: type, name: str, wrapper: Any, mark: str) -> None:
    """Wrap ``cls.name`` once: a wrapper carrying ``mark`` is never wrapped again.

    The result also carries ``rsp.MARK``, so a second install (``python -m`` imports the package
    twice) does not wrap it again with :func:`_wrap`.
    """
    current = cls.__dict__.get(name) or getattr(cls, name)
    if getattr(current, mark, False):
        return
    wrapped = wrapper(current)
    setattr(wrapped, rsp.MARK, True)
    setattr(cls, name, wrapped)


def install() -> None:
    """Add the inference-experiment operations, counting, faults and metrics to moto.

    Idempotent: a second call (or a second import under another module name) changes nothing.
    """
    global _installed
    with _lock:
        if _installed and getattr(SageMakerResponse.__dict__.get("call_action"), rsp.MARK, False):
            return
        for name, method in rsp.OPERATIONS.items():
            if not getattr(SageMakerResponse.__dict__.get(name), rsp.MARK, False):
                setattr(SageMakerResponse, name, method)
        _wrap(SageMakerResponse, "call_action", lambda f: rsp.counting_call_action(f, faults=True))
        _wrap(CloudWatchResponse, "call_action", lambda f: rsp.counting_call_action(f, faults=False))
        _wrap(SageMakerResponse, "_dispatch", lambda f: gate.guarded_dispatch("sagemaker", f))
        _wrap(CloudWatchResponse, "_dispatch", lambda f: gate.guarded_dispatch("cloudwatch", f))
        _wrap(SageMakerResponse, "create_endpoint_config", rsp.create_endpoint_config_keeping_shadow)
        _wrap(SageMakerResponse, "create_endpoint", rsp.create_endpoint_keeping_shadow)
        _wrap(SageMakerResponse, "describe_endpoint", rsp.describe_endpoint_with_shadow)
        for name in shapes.DESCRIBES:  # outermost: after describe_endpoint_with_shadow
            _wrap_marked(SageMakerResponse, name, shapes.omit_empty, shapes.MARK)
        _wrap_marked(SageMakerResponse, "add_tags", tags.wrap_add_tags, tags.MARK)
        _wrap_marked(SageMakerResponse, "list_tags", tags.wrap_list_tags, tags.MARK)
        _wrap_marked(SageMakerResponse, "delete_tags", tags.wrap_delete_tags, tags.MARK)
        FakeEndpointConfig.validate_instance_type = eps.validate_instance_type  # type: ignore[method-assign]
        _install_metrics()
        capture.install()
        _installed = True


def _install_metrics() -> None:
    # The CloudWatch side (synthetic per-variant metrics and percentiles) is written in
    # testing/metrics.py and testing/cloudwatch_ext.py; until those modules exist the emulator
    # serves experiments without synthetic metrics.
    try:
        from airflow_provider_shadowtest.testing import cloudwatch_ext, metrics
    except ImportError as exc:  # pragma: no cover - depends on the sibling modules
        log.debug("shadowtest metrics not installed: %s", exc)
        return
    metrics.install(window_source)
    cloudwatch_ext.install()


def window_source(account_id: str, region: str) -> list[Any]:
    """The traffic windows of the experiments that have been Running in one account and region.

    Deleted experiments that ran keep their window: CloudWatch keeps metrics after Delete.
    """
    from airflow_provider_shadowtest.testing.metrics import TrafficWindow, VariantTraffic

    backend = sagemaker_backends[account_id][region]
    windows: list[Any] = []
    with lock_of(backend):  # Stop changes several fields of a record together
        for exp in [*deleted_experiments(backend), *experiments(backend).values()]:
            if not exp.has_run():
                continue
            source = exp.variant(exp.source_variant)
            shadow = exp.variant(exp.shadow_variant)
            if source is None or shadow is None:
                continue
            model_names = {source["ModelName"], shadow["ModelName"]}
            windows.append(
                TrafficWindow(
                    endpoint_name=exp.endpoint_name,
                    experiment_name=exp.name,
                    start=exp.running_at(),
                    end=exp.traffic_end(),
                    production=VariantTraffic(exp.source_variant, source["ModelName"], 100.0),
                    shadow=VariantTraffic(exp.shadow_variant, shadow["ModelName"], float(exp.sampling_percent)),
                    model_tags={m: _model_tags(backend, m) for m in model_names},
                )
            )
    return windows


def _model_tags(backend: Any, model_name: str) -> dict[str, str]:
    model = backend._models.get(model_name)
    tags = getattr(model, "tags", None) or []
    return {str(t.get("Key")): str(t.get("Value", "")) for t in tags}
