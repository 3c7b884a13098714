"""The retrain pipeline on a schedule: one endpoint, promotions that chain, a rejection that changes nothing.

``example_retrain_then_shadow_test`` runs four times in a row through ``airflow dags test`` against
one emulator server and one endpoint: better, better, worse, better. Each promoting run's
experiment must use the previous winner (its variant name and model) as its source variant; the
worse run is rejected and leaves production exactly as it was (variant name, model, instance type
and count); the endpoint ends serving the third promoted candidate, on production's instances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_shadowtest.testing import create_endpoint, create_model
from scripts._demo_support import (
    PRODUCTION_PROFILE,
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    migrate,
    production_variant,
)
from scripts._demo_support import xcom as read_xcom

if TYPE_CHECKING:
    from pathlib import Path

DAG_ID = "example_retrain_then_shadow_test"
ENDPOINT = "e2e-scheduled"
FIRST_MODEL = "e2e-scheduled-model"
QUALITIES = ("better", "better", "worse", "better")
#: The evaluate step's timing (continuous mode), as the demo runs it.
TIMING = Pipeline(ENDPOINT, FIRST_MODEL, "unused", "better")


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_scheduled_retrain_promotes_again_and_again_and_a_rejection_changes_nothing(tmp_path: Path) -> None:
    emulator = Emulator.start(tmp_path)
    runs: list[dict[str, Any]] = []
    try:
        sagemaker = emulator.client()
        create_model(sagemaker, FIRST_MODEL, tags=PRODUCTION_PROFILE)
        create_endpoint(sagemaker, ENDPOINT, FIRST_MODEL, instance_type="ml.c5.xlarge", instance_count=2)
        home = tmp_path / "home"
        env = airflow_env(home, emulator)
        migrate(home, env)
        for i, quality in enumerate(QUALITIES):
            before = production_variant(sagemaker, ENDPOINT)
            conf = {
                "endpoint_name": ENDPOINT,
                "simulated_quality": quality,
                # The pipeline's continuous evaluation as the demo runs it (about 9 minutes a PROMOTE).
                **{k: v for k, v in TIMING.conf().items() if k.endswith("_seconds") or k == "alpha_spending"},
                "min_shadow_invocations": 100,
            }
            dags_test = DagsTest.start(env, conf, tmp_path / f"dags-test-{i}.log", dag_id=DAG_ID)
            code = dags_test.wait(timeout_seconds=720)
            assert code == 0, f"run {i} ({quality}) exited {code}:\n{dags_test.tail()}"
            created = read_xcom(home, "create_experiment", dag_id=DAG_ID)
            runs.append(
                {
                    "quality": quality,
                    "before": before,
                    "after": production_variant(sagemaker, ENDPOINT),
                    "registered": read_xcom(home, "train_and_register", dag_id=DAG_ID),
                    "created": created,
                    "verdict": read_xcom(home, "evaluate", dag_id=DAG_ID),
                    "experiment": sagemaker.describe_inference_experiment(Name=created["name"]),
                    "seconds": dags_test.seconds(),
                }
            )
    finally:
        emulator.stop()

    names = [run["created"]["name"] for run in runs]
    assert len(set(names)) == len(names), names
    winner = {
        "VariantName": "AllTraffic",
        "ModelName": FIRST_MODEL,
        "InstanceType": "ml.c5.xlarge",
        "InitialInstanceCount": 2,
    }
    promoted: list[dict[str, Any]] = []
    for i, run in enumerate(runs):
        experiment = run["experiment"]
        source = experiment["ShadowModeConfig"]["SourceModelVariantName"]
        shadow = experiment["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
        models = {v["VariantName"]: v["ModelName"] for v in experiment["ModelVariants"]}
        # Each run shadows the current winner, whatever a previous promotion named its variant.
        assert run["before"] == winner, i
        assert (source, models[source]) == (winner["VariantName"], winner["ModelName"]), i
        assert models[shadow] == run["registered"], i
        assert shadow not in {winner["VariantName"], *(p["VariantName"] for p in promoted)}, i
        if run["quality"] == "better":
            assert run["verdict"]["decision"] == "PROMOTE", (i, run["verdict"].get("reasons"))
            # The shadow variant replaced production: its name and model, production's instances.
            winner = {**winner, "VariantName": shadow, "ModelName": run["registered"]}
            promoted.append(winner)
            assert run["after"] == winner, i
        else:
            assert run["verdict"]["decision"] == "REJECT", (i, run["verdict"])
            assert run["after"] == run["before"], i
        assert experiment["Status"] == "Completed", i
    assert len(promoted) == 3
    assert runs[-1]["after"]["ModelName"] == runs[-1]["registered"]
    print("run seconds:", [round(run["seconds"]) for run in runs])
