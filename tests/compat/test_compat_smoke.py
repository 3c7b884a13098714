"""Smoke suite of the Airflow version matrix: run as is on Airflow 2.11, 3.0 and the newest 3.x.

``.ci/run`` runs this directory in each matrix venv (the newest also runs everything else). It
needs only the ``[testing]`` extra and pytest: each check drives real ``airflow`` processes.

- the provider is registered: ``airflow providers get airflow-provider-shadowtest`` answers;
- ``example_dags/example_shadow_test_minimal.py`` through ``airflow dags test`` against the
  emulator server: create, the sensor defers until Running, the traffic is observed, the verdict
  is PROMOTE and the stop promotes the candidate; Create and Stop are each sent once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from airflow_provider_shadowtest._compat import airflow_version
from scripts._demo_support import (
    EXAMPLE_DAGS,
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    prepare_homes,
    production_model,
    setup_endpoint,
)
from scripts._demo_support import task_states as read_task_states
from scripts._demo_support import xcom as read_xcom

if TYPE_CHECKING:
    from pathlib import Path

MINIMAL = "example_shadow_test_minimal"
SMOKE = Pipeline("smoke-endpoint", "smoke-prod", "smoke-candidate", "better")


def test_provider_is_registered(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "get", "airflow-provider-shadowtest", "--full", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "airflow-provider-shadowtest" in done.stdout
    assert "SageMaker Shadow Tests" in done.stdout


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_minimal_example_defers_judges_and_promotes(tmp_path: Path) -> None:
    # Only the minimal example in the DAGs folder: the others may need a newer Airflow (they say so).
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy2(EXAMPLE_DAGS / f"{MINIMAL}.py", dags)
    # Slow status transitions: the sensor must find the experiment not yet Running, and defer.
    emulator = Emulator.start(tmp_path, transition_seconds=6.0)
    run: DagsTest | None = None
    try:
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, SMOKE)
        homes = prepare_homes(tmp_path, ["minimal"], airflow_env(tmp_path / "unused", emulator, dags_folder=dags))
        conf = {
            "endpoint_name": SMOKE.endpoint,
            "candidate_model": SMOKE.candidate_model,
            **{
                k: v
                for k, v in SMOKE.conf().items()
                if k
                in ("observation_seconds", "check_interval_seconds", "warmup_seconds", "lag_seconds", "alpha_spending")
            },
            "duration": "PT30M",
        }
        env = airflow_env(homes["minimal"], emulator, dags_folder=dags)
        run = DagsTest.start(env, conf, tmp_path / "dags-test.log", dag_id=MINIMAL)
        code = run.wait(timeout_seconds=1100)
        assert code == 0, f"airflow dags test exited {code}:\n{run.tail()}"
        log = run.log_path.read_text(encoding="utf-8", errors="replace")
        states = read_task_states(homes["minimal"], dag_id=MINIMAL)
        verdict = read_xcom(homes["minimal"], "evaluate", dag_id=MINIMAL)
        serving = production_model(sagemaker, SMOKE.endpoint)
        stats = emulator.stats()
    finally:
        if run is not None:
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    assert states == dict.fromkeys(("create_experiment", "wait_for_running", "evaluate", "promote"), "success"), (
        f"Airflow {airflow_version()}"
    )
    assert "Deferring until" in log  # the sensor deferred to the (inline) triggerer
    assert verdict["decision"] == "PROMOTE", verdict.get("reasons")
    assert serving == SMOKE.candidate_model
    assert stats.get("CreateInferenceExperiment") == 1
    assert stats.get("StopInferenceExperiment") == 1
