"""Prediction agreement gates the promotion, through ``airflow dags test`` of the promotion example DAG.

Both candidates have healthy latency and errors; one gives production's label, the other another
label on 10 % of requests. With the form's "Compare predictions" switch on, the experiment
captures both variants' answers (DataStorageConfig, written to the emulator's S3) and the
evaluate step compares them: the agreeing candidate is promoted, the disagreeing one rejected.
"""

from __future__ import annotations

import dataclasses
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
from scripts._demo_support import xcom as read_xcom

if TYPE_CHECKING:
    from pathlib import Path

AGREEING = Pipeline("e2e-agree", "e2e-prod-c", "e2e-candidate-agree", "better", capture=True)
DISAGREEING = Pipeline("e2e-disagree", "e2e-prod-d", "e2e-candidate-disagree", "disagreeing", capture=True)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_agreeing_candidate_is_promoted_and_disagreeing_one_rejected(tmp_path: Path) -> None:
    emulator = Emulator.start(tmp_path)
    runs: dict[str, DagsTest] = {}
    pipelines = {"agree": AGREEING, "disagree": DISAGREEING}
    try:
        sagemaker = emulator.client()
        for pipeline in pipelines.values():
            setup_endpoint(sagemaker, pipeline)
        homes = prepare_homes(tmp_path, list(pipelines), airflow_env(tmp_path / "unused", emulator))
        for key, pipeline in pipelines.items():
            report = dataclasses.replace(pipeline, report_uri=(tmp_path / "reports").as_uri() + "/")
            runs[key] = DagsTest.start(airflow_env(homes[key], emulator), report.conf(), tmp_path / f"{key}.log")
        codes = {key: run.wait(timeout_seconds=1100) for key, run in runs.items()}
        for key, code in codes.items():
            assert code == 0, f"{key} run exited {code}:\n{runs[key].tail()}"
        verdicts = {key: read_xcom(homes[key], "evaluate") for key in pipelines}
        serving = {key: production_model(sagemaker, p.endpoint) for key, p in pipelines.items()}
    finally:
        for run in runs.values():
            run.wait(timeout_seconds=0.1)
        emulator.stop()

    agree, disagree = verdicts["agree"], verdicts["disagree"]
    assert agree["decision"] == "PROMOTE", agree["reasons"]
    assert agree["capture"]["decision"] == "pass"
    assert serving["agree"] == AGREEING.candidate_model
    assert "## Prediction agreement (data capture)" in agree["report_markdown"]

    assert disagree["decision"] == "REJECT", disagree["reasons"]
    labels = next(c for c in disagree["capture"]["checks"] if c["name"] == "label_agreement")
    assert labels["decision"] == "fail"
    assert 85 < labels["estimate"] < 95  # percent
    # Latency and errors were fine: only the agreement rejected it.
    assert not [c for c in disagree["checks"] if c["outcome"] == "regression"]
    assert serving["disagree"] == DISAGREEING.production_model
    for verdict in (agree, disagree):
        assert verdict["report_location"].startswith("file://")
