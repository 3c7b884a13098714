"""The minimal example through ``airflow dags test`` emits OpenLineage events to a file.

Real listener, real transport: ``apache-airflow-providers-openlineage`` configured with its file
transport (one JSON event per line), the emulator server as AWS. The COMPLETE events of create,
evaluate and promote (Stop) name both models' artifacts as inputs and the endpoint as output.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_shadowtest.testing import create_endpoint, create_model
from scripts._demo_support import (
    CANDIDATE_PROFILES,
    EXAMPLE_DAGS,
    PRODUCTION_PROFILE,
    DagsTest,
    Emulator,
    airflow_env,
    prepare_homes,
    task_states,
)

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("airflow.providers.openlineage")

MINIMAL = "example_shadow_test_minimal"
ENDPOINT = "lineage-endpoint"
PRODUCTION = ("lineage-prod", "s3://ml-artifacts-prod/churn/v1/model.tar.gz")
CANDIDATE = ("lineage-candidate", "s3://ml-artifacts-prod/churn/v2/model.tar.gz")
LINEAGE_TASKS = ("create_experiment", "evaluate", "promote")


def complete_events(path: Path) -> dict[str, dict[str, Any]]:
    """``{task_id: event}`` of the COMPLETE events of tasks in the file transport's output."""
    events: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        name = event["job"]["name"]
        if event["eventType"] == "COMPLETE" and name.startswith(f"{MINIMAL}."):
            events[name.removeprefix(f"{MINIMAL}.")] = event
    return events


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_create_evaluate_and_promote_report_models_in_endpoint_out(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy2(EXAMPLE_DAGS / f"{MINIMAL}.py", dags)
    lineage_file = tmp_path / "openlineage.jsonl"
    emulator = Emulator.start(tmp_path, transition_seconds=1.0)
    run: DagsTest | None = None
    try:
        sagemaker = emulator.client()
        create_model(sagemaker, PRODUCTION[0], tags=PRODUCTION_PROFILE, model_data_url=PRODUCTION[1])
        create_model(sagemaker, CANDIDATE[0], tags=CANDIDATE_PROFILES["better"], model_data_url=CANDIDATE[1])
        endpoint_arn = create_endpoint(sagemaker, ENDPOINT, PRODUCTION[0])
        homes = prepare_homes(tmp_path, ["lineage"], airflow_env(tmp_path / "unused", emulator, dags_folder=dags))
        env = airflow_env(
            homes["lineage"],
            emulator,
            dags_folder=dags,
            AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
                {"type": "file", "log_file_path": str(lineage_file), "append": True}
            ),
            AIRFLOW__OPENLINEAGE__NAMESPACE="shadowtest-tests",
        )
        conf = {
            "endpoint_name": ENDPOINT,
            "candidate_model": CANDIDATE[0],
            # The continuous verdict needs several judged minutes: the demo's timing (see Pipeline).
            "observation_seconds": 540,
            "check_interval_seconds": 120,
            "warmup_seconds": 60,
            "lag_seconds": 30,
            "alpha_spending": "obrien_fleming",
            "duration": "PT30M",
        }
        run = DagsTest.start(env, conf, tmp_path / "dags-test.log", dag_id=MINIMAL)
        code = run.wait(timeout_seconds=1100)
        assert code == 0, f"airflow dags test exited {code}:\n{run.tail()}"
        states = task_states(homes["lineage"], dag_id=MINIMAL)
    finally:
        if run is not None:
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    assert {task: states[task] for task in LINEAGE_TASKS} == dict.fromkeys(LINEAGE_TASKS, "success")
    events = complete_events(lineage_file)
    region_account, _, endpoint_resource = endpoint_arn.rpartition(":")
    models_in = [
        {"namespace": "s3://ml-artifacts-prod", "name": "churn/v1/model.tar.gz"},
        {"namespace": "s3://ml-artifacts-prod", "name": "churn/v2/model.tar.gz"},
    ]
    endpoint_out = [{"namespace": region_account, "name": endpoint_resource}]
    for task in LINEAGE_TASKS:
        assert task in events, f"no COMPLETE event for {task}; got {sorted(events)}"
        inputs = [{"namespace": d["namespace"], "name": d["name"]} for d in events[task]["inputs"]]
        outputs = [{"namespace": d["namespace"], "name": d["name"]} for d in events[task]["outputs"]]
        assert (task, inputs, outputs) == (task, models_in, endpoint_out)
    assert endpoint_out == [{"namespace": "arn:aws:sagemaker:us-east-1:123456789012", "name": f"endpoint/{ENDPOINT}"}]
    # Operators of other packages, without lineage methods, report no datasets: the edge is ours.
    assert events["wait_for_running"]["inputs"] == events["wait_for_running"]["outputs"] == []
