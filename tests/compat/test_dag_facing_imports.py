"""What a DAG file pays for: the DAG-facing modules load no AWS SDK, request model, validation or verdict.

Those load when a task runs (``execute``), not every time the dag-processor parses a DAG file.
Runs on every Airflow version of the matrix.
"""

from __future__ import annotations

import json
import subprocess
import sys

DAG_FACING = (
    "airflow_provider_shadowtest.operators.inference_experiment",
    "airflow_provider_shadowtest.operators.evaluate",
    "airflow_provider_shadowtest.sensors.inference_experiment",
    "airflow_provider_shadowtest.links.inference_experiment",
)
NOT_AT_PARSE_TIME = (
    "boto3",
    "botocore",
    "aiobotocore",
    "moto",
    "airflow.triggers.base",
    "airflow_provider_shadowtest.experiment.request",
    "airflow_provider_shadowtest.experiment.validate",
    "airflow_provider_shadowtest.experiment.shapecheck",
    "airflow_provider_shadowtest.verdict",
    "airflow_provider_shadowtest.hooks.inference_experiment",
)


def test_dag_facing_modules_defer_heavy_imports_to_execution() -> None:
    # Baseline: Airflow's own base classes (BaseOperator, BaseSensorOperator...), which every
    # operator pays for; on Airflow 2.11 they already load airflow.triggers.base themselves.
    code = (
        "import importlib, json, sys\n"
        "import airflow_provider_shadowtest._compat\n"
        "before = set(sys.modules)\n"
        f"for name in {DAG_FACING!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {NOT_AT_PARSE_TIME!r} if m in sys.modules and m not in before]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_lazy_names_still_resolve() -> None:
    from airflow_provider_shadowtest.experiment import build_create_request, config_differences
    from airflow_provider_shadowtest.verdict import evaluate

    assert callable(build_create_request)
    assert callable(config_differences)
    assert callable(evaluate)
