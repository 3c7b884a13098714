"""The promotion pipeline survives a flaky SageMaker: 30 % of its calls fail, and it still promotes.

``airflow dags test`` of the promotion example DAG against an emulator answering 30 % of SageMaker
calls (seeded) with throttling, HTTP 500, HTTP 503, a connection dropped before the call is
processed (``drop``) or one dropped after it was processed (``drop_after``: the answer is lost, so a
retried create meets ResourceInUse). The hooks' retries (botocore standard mode, 8 attempts by
default) must absorb them: the run succeeds, the candidate is promoted, and exactly one experiment
exists (no retried create made a second one, even when the first create's answer was lost).
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

PIPELINE = Pipeline("e2e-flaky", "e2e-flaky-prod", "e2e-flaky-candidate", "better")
# With this seed (after the pre-flight reads) a CreateInferenceExperiment is processed and its answer lost (drop_after);
# the test checks that it happened, so the one-experiment assertion does cover a lost create answer.
FAULTS = {"fault_rate": 0.3, "fault_kinds": "throttling,http500,http503,drop,drop_after", "fault_seed": 20260148}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_pipeline_promotes_with_30_percent_of_sagemaker_calls_failing(tmp_path: Path) -> None:
    emulator = Emulator.start(tmp_path)
    run: DagsTest | None = None
    try:
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, PIPELINE)
        home = prepare_homes(tmp_path, ["flaky"], airflow_env(tmp_path / "unused", emulator))["flaky"]
        emulator.reset_counts()
        settings = emulator.configure(**FAULTS)
        assert settings["fault_rate"] == 0.3
        run = DagsTest.start(airflow_env(home, emulator), PIPELINE.conf(), tmp_path / "dags-test.log")
        code = run.wait(timeout_seconds=1100)
        emulator.configure(fault_rate=0.0)  # the checks below must not be faulted themselves
        faults = emulator.faults()
        fault_kinds = emulator.control("GET", "fault-kinds")
        requests = emulator.stats()
        experiments = sagemaker.list_inference_experiments()["InferenceExperiments"]
        serving = production_model(sagemaker, PIPELINE.endpoint)
        verdict = read_xcom(home, "evaluate")
        states = read_task_states(home)
    finally:
        if run is not None:
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    summary = f"faults injected {faults}; requests {requests}; tasks {states}"
    assert sum(faults.values()) > 0, summary
    assert fault_kinds.get("CreateInferenceExperiment", {}).get("drop_after", 0) >= 1, fault_kinds
    assert code == 0, f"dags test exited {code}; {summary}\n{run.tail()}"
    assert verdict["decision"] == "PROMOTE", summary
    assert states["promote"] == "success", summary
    assert serving == PIPELINE.candidate_model, summary
    assert [e["Name"] for e in experiments] == [read_xcom(home, "create_experiment")["name"]], experiments
    assert experiments[0]["Status"] == "Completed"
