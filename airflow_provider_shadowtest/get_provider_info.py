"""Provider metadata read by Airflow's providers manager (``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

_PKG = "airflow_provider_shadowtest"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider's hooks, operators, sensors, triggers, extra links and UI plugin."""
    from airflow_provider_shadowtest import __version__

    return {
        "package-name": "airflow-provider-shadowtest",
        "name": "SageMaker Shadow Tests",
        "description": "Create, wait for, judge and promote Amazon SageMaker shadow tests "
        "(inference experiments), with an offline emulator.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Amazon SageMaker Shadow Tests",
                "external-doc-url": "https://docs.aws.amazon.com/sagemaker/latest/dg/shadow-tests.html",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon SageMaker Shadow Tests",
                "python-modules": [f"{_PKG}.hooks.inference_experiment"],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon SageMaker Shadow Tests",
                "python-modules": [
                    f"{_PKG}.operators.inference_experiment",
                    f"{_PKG}.operators.evaluate",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Amazon SageMaker Shadow Tests",
                "python-modules": [f"{_PKG}.sensors.inference_experiment"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Amazon SageMaker Shadow Tests",
                "python-modules": [f"{_PKG}.triggers.inference_experiment"],
            }
        ],
        "extra-links": [
            f"{_PKG}.links.inference_experiment.InferenceExperimentLink",
            f"{_PKG}.links.inference_experiment.InferenceExperimentEndpointLink",
            f"{_PKG}.links.inference_experiment.InferenceExperimentMetricsLink",
            f"{_PKG}.links.report.ShadowTestReportLink",
        ],
        # Read by Airflow only with [core] lazy_discover_providers = False; the airflow.plugins
        # entry point covers the default (see plugins/shadow_tests.py).
        "plugins": [{"name": "shadowtest", "plugin-class": f"{_PKG}.plugins.shadow_tests.ShadowTestsPlugin"}],
    }
