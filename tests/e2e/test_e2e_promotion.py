"""Promote and reject through ``airflow dags test`` of the promotion example DAG, both at once.

One emulator server, two endpoints, two ``airflow dags test`` processes running concurrently (each
with its own SQLite ``AIRFLOW_HOME``): a better candidate must be promoted (the endpoint's
production variant then serves it), a worse one rejected (production untouched, ``keep_production``
stops the experiment giving the verdict's reasons).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from scripts._demo_support import (
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

BETTER = Pipeline("e2e-better", "e2e-prod-a", "e2e-candidate-better", "better")
WORSE = Pipeline("e2e-worse", "e2e-prod-b", "e2e-candidate-worse", "worse")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_better_candidate_is_promoted_and_worse_one_rejected(tmp_path: Path) -> None:
    emulator = Emulator.start(tmp_path)
    runs: dict[str, DagsTest] = {}
    try:
        sagemaker = emulator.client()
        for pipeline in (BETTER, WORSE):
            setup_endpoint(sagemaker, pipeline)
        homes = prepare_homes(tmp_path, ["better", "worse"], airflow_env(tmp_path / "unused", emulator))
        for key, pipeline in (("better", BETTER), ("worse", WORSE)):
            env = airflow_env(homes[key], emulator)
            runs[key] = DagsTest.start(env, pipeline.conf(), tmp_path / f"dags-test-{key}.log")
        codes = {key: run.wait(timeout_seconds=1100) for key, run in runs.items()}
        for key, code in codes.items():
            assert code == 0, f"{key} run exited {code}:\n{runs[key].tail()}"

        better_verdict = read_xcom(homes["better"], "evaluate")
        worse_verdict = read_xcom(homes["worse"], "evaluate")
        better_states = read_task_states(homes["better"])
        worse_states = read_task_states(homes["worse"])
        better_serving = production_model(sagemaker, BETTER.endpoint)
        worse_serving = production_model(sagemaker, WORSE.endpoint)
        worse_name = read_xcom(homes["worse"], "create_experiment")["name"]
        worse_experiment = sagemaker.describe_inference_experiment(Name=worse_name)
        better_name = read_xcom(homes["better"], "create_experiment")["name"]
        better_experiment = sagemaker.describe_inference_experiment(Name=better_name)
    finally:
        for run in runs.values():
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    # The better candidate: PROMOTE, promoted, announced; the endpoint now serves it.
    assert better_verdict["decision"] == "PROMOTE", better_verdict.get("reasons")
    assert better_states["promote"] == "success"
    assert better_states["announce_promotion"] == "success"
    assert better_states["keep_production"] == "skipped"
    assert better_serving == BETTER.candidate_model
    assert better_experiment["Status"] == "Completed"

    # The worse candidate: REJECT with reasons; production untouched; keep_production said why.
    assert worse_verdict["decision"] == "REJECT"
    assert worse_verdict["reasons"], worse_verdict
    assert worse_states["keep_production"] == "success"
    assert worse_states["promote"] == "skipped"
    assert worse_states["announce_promotion"] != "success"
    assert worse_serving == WORSE.production_model
    assert worse_experiment["Status"] == "Completed"
    reason = worse_experiment["StatusReason"]
    assert reason.startswith("Shadow verdict REJECT: ")
    assert worse_verdict["reasons"][0][:60] in reason
