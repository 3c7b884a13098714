"""The retrain example DAG runs green against the emulator through ``airflow dags test``.

``example_retrain_then_shadow_test``: a simulated training step registers a better model, which is
shadow-tested and promoted: the endpoint serves the newly registered model afterwards.
(``example_shadow_test_minimal`` runs in ``tests/compat``, the smoke suite of every Airflow version.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_shadowtest.testing import create_endpoint, create_model
from scripts._demo_support import (
    PRODUCTION_PROFILE,
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    prepare_homes,
    production_model,
)
from scripts._demo_support import xcom as read_xcom

if TYPE_CHECKING:
    from pathlib import Path

RETRAIN = Pipeline("e2e-retrain", "e2e-retrain-prod", "unused", "better")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_retrain_example_runs_green(tmp_path: Path) -> None:
    emulator = Emulator.start(tmp_path)
    runs: dict[str, DagsTest] = {}
    try:
        sagemaker = emulator.client()
        create_model(sagemaker, RETRAIN.production_model, tags=PRODUCTION_PROFILE)
        create_endpoint(sagemaker, RETRAIN.endpoint, RETRAIN.production_model)
        homes = prepare_homes(tmp_path, ["retrain"], airflow_env(tmp_path / "unused", emulator))
        retrain_conf = {key: value for key, value in RETRAIN.conf().items() if key != "candidate_model"}
        retrain_conf["simulated_quality"] = "better"
        for key, dag_id, conf in (("retrain", "example_retrain_then_shadow_test", retrain_conf),):
            env = airflow_env(homes[key], emulator)
            runs[key] = DagsTest.start(env, conf, tmp_path / f"dags-test-{key}.log", dag_id=dag_id)
        codes = {key: run.wait(timeout_seconds=1100) for key, run in runs.items()}
        for key, code in codes.items():
            assert code == 0, f"{key} run exited {code}:\n{runs[key].tail()}"

        registered = read_xcom(homes["retrain"], "train_and_register", dag_id="example_retrain_then_shadow_test")
        verdict = read_xcom(homes["retrain"], "evaluate", dag_id="example_retrain_then_shadow_test")
        serving = production_model(sagemaker, RETRAIN.endpoint)
    finally:
        for run in runs.values():
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    assert registered.startswith(f"{RETRAIN.production_model}-retrained-")
    assert verdict["decision"] == "PROMOTE", verdict.get("reasons")
    assert serving == registered
