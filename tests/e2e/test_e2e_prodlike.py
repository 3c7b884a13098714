"""A production-like deployment runs the promotion DAG to a promotion, surviving a killed triggerer.

Runs ``scripts/prodlike_run.py``: api-server, scheduler, dag-processor and triggerer as separate
processes (LocalExecutor, SQLite); the DAG is unpaused and triggered through the REST API; while the
deferrable sensor waits, the triggerer is SIGKILLed and restarted; the run must still succeed and the
endpoint must serve the candidate afterwards.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prodlike_run.py"


@pytest.mark.slow
@pytest.mark.timeout(1320)
def test_run_survives_a_killed_triggerer_and_promotes(tmp_path: Path) -> None:
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
    assert "triggerer starts: 2" in output, output[-3000:]
    assert "production model: prodlike-candidate " in output, output[-3000:]
