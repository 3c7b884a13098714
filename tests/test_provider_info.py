"""The provider registers itself and everything it lists can be imported."""

from __future__ import annotations

import importlib

from airflow_provider_shadowtest import __version__
from airflow_provider_shadowtest.get_provider_info import get_provider_info


def test_providers_manager_lists_the_provider_with_its_hook_and_links() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()  # type: ignore[no-untyped-call]
    provider = manager.providers["airflow-provider-shadowtest"]
    assert provider.version == __version__
    links = set(manager.extra_links_class_names)
    assert "airflow_provider_shadowtest.links.inference_experiment.InferenceExperimentLink" in links
    assert "airflow_provider_shadowtest.links.inference_experiment.InferenceExperimentEndpointLink" in links
    triggers = {t.package_name for t in manager.trigger}
    assert "airflow-provider-shadowtest" in triggers


def test_every_listed_module_and_link_imports() -> None:
    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for dotted in info["extra-links"]:
        module, _, name = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), name), dotted


def test_public_names_from_the_design_exist() -> None:
    from airflow.sdk import BaseSensorOperator

    from airflow_provider_shadowtest.experiment import InvalidExperimentRequest, build_create_request
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
    from airflow_provider_shadowtest.operators import evaluate, inference_experiment
    from airflow_provider_shadowtest.sensors.inference_experiment import InferenceExperimentSensor
    from airflow_provider_shadowtest.testing import mock_shadow_tests
    from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

    assert issubclass(InvalidExperimentRequest, ValueError)
    assert callable(build_create_request)
    assert callable(mock_shadow_tests)
    assert InferenceExperimentHook(aws_conn_id=None).client_type == "sagemaker"
    for name in ("Create", "Start", "Update", "Stop", "Delete"):
        assert hasattr(inference_experiment, f"{name}InferenceExperimentOperator")
    assert hasattr(evaluate, "EvaluateInferenceExperimentOperator")
    assert issubclass(InferenceExperimentSensor, BaseSensorOperator)
    classpath, _ = InferenceExperimentTrigger(experiment_name="x", target_statuses=["Running"]).serialize()
    assert classpath == "airflow_provider_shadowtest.triggers.inference_experiment.InferenceExperimentTrigger"
