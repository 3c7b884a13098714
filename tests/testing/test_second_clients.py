"""Clients we did not write run a documented shadow-test lifecycle against the emulator server.

The AWS CLI v1 (``tests/testing/clients/cli_lifecycle.sh``) and sagemaker-core's resources
(``clients/sagemaker_core_lifecycle.py``) run unchanged, from their own cached venv, against
``python -m airflow_provider_shadowtest.testing.server --port 0``. Each script checks what the
AWS docs promise (promotion renames the production variant, tags on the experiment's ARN,
Describe outputs sagemaker-core's shapes accept) and exits non-zero on the first disagreement.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.testing.clients.client_venv import client_python

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = Path(__file__).resolve().parent / "clients"
TIMEOUT_SECONDS = 240


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """The emulator as a separate process on a free loopback port, transitions of 0.3 s."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_shadowtest.testing.server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--transition-seconds",
            "0.3",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on " in line, f"server did not start: {line!r}"
        yield line.strip().split("listening on ", 1)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def python() -> Path:
    """The clients' interpreter; the first run ever builds their venv (network, about 15-60 s)."""
    return client_python()


@pytest.fixture
def client_env(server_url: str) -> dict[str, str]:
    """Fresh emulator state; an environment with fake credentials and no user AWS config."""
    request = urllib.request.Request(f"{server_url}/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def _run(command: list[str], env: dict[str, str], done: str) -> None:
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, cwd=CLIENTS, check=False
    )
    output = f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    assert result.returncode == 0, output
    assert done in result.stdout, output


def test_aws_cli_runs_the_documented_lifecycle(python: Path, server_url: str, client_env: dict[str, str]) -> None:
    _run(["bash", str(CLIENTS / "cli_lifecycle.sh"), str(python), server_url], client_env, "CLI LIFECYCLE OK")


def test_sagemaker_core_runs_the_documented_lifecycle(
    python: Path, server_url: str, client_env: dict[str, str]
) -> None:
    env = dict(client_env, AWS_ENDPOINT_URL_SAGEMAKER=server_url)
    _run([str(python), str(CLIENTS / "sagemaker_core_lifecycle.py")], env, "SAGEMAKER-CORE LIFECYCLE OK")
