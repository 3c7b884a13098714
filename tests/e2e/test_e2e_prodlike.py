"""A production-like deployment runs the promotion DAG to a promotion, surviving a killed triggerer.

Runs ``scripts/prodlike_run.py``: PostgreSQL (its own throwaway cluster on loopback) as metadata DB,
api-server, scheduler, dag-processor and two triggerers as separate processes (LocalExecutor); the
DAG is unpaused and triggered through the REST API; while the deferrable sensor waits, the
triggerer running its trigger is SIGKILLed and the other one must take the trigger over; the run
must still succeed, the endpoint must serve the candidate afterwards, and the emulator must have
received exactly one Create and one Stop (nothing ran twice).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prodlike_run.py"


@pytest.mark.slow
@pytest.mark.timeout(1320)
def test_run_on_postgres_survives_a_killed_triggerer_and_promotes_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--workdir", str(tmp_path), "--observation-seconds", "540"],
        capture_output=True,
        text=True,
        timeout=1290,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "run state:        success" in output, output[-3000:]
    assert "metadata DB:      PostgreSQL (postgresql+psycopg2://" in output, output[-3000:]
    assert "production model: prodlike-candidate " in output, output[-3000:]
    takeover = re.search(r"trigger takeover: job (\d+) -> job (\d+)", output)
    assert takeover is not None, output[-3000:]
    assert takeover.group(1) != takeover.group(2)
    assert "emulator calls:   CreateInferenceExperiment=1, StopInferenceExperiment=1" in output, output[-3000:]
    # The cluster the run started is stopped: nothing listens on its port any more.
    cluster = re.search(r"PostgreSQL on 127\.0\.0\.1:(\d+)", output)
    assert cluster is not None
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", int(cluster.group(1))))
