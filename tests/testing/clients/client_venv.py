"""A cached virtualenv holding SageMaker clients we did not write (AWS CLI v1, sagemaker-core).

Their pins clash with the project's constraints (sagemaker-core wants a newer botocore), so they
live in their own venv under ``~/.cache/shadowtest-clients/<key>``, keyed on the pinned versions
and the Python version: created once with ``uv``, reused by later runs. Creation goes to a
file lock, and a marker file written last tells a complete venv from a half-built one (rebuilt).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: the clients' versions, as PyPI offered them when these tests were written (checked with uv)
AWSCLI_VERSION = "1.46.3"
SAGEMAKER_CORE_VERSION = "2.27.0"
PINS = (f"awscli=={AWSCLI_VERSION}", f"sagemaker-core=={SAGEMAKER_CORE_VERSION}")

CACHE_ROOT = Path(os.environ.get("SHADOWTEST_CLIENTS_CACHE", Path.home() / ".cache" / "shadowtest-clients"))


def _uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is needed to build the clients' venv (it is installed in the project's .venv)")
    return found


def venv_key() -> str:
    """The cache key: pinned versions and the Python version."""
    text = "\n".join((*PINS, f"{sys.version_info.major}.{sys.version_info.minor}"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def client_python() -> Path:
    """Return the Python of the clients' venv, building the venv first if it is missing."""
    target = CACHE_ROOT / venv_key()
    python = target / "bin" / "python"
    if (target / ".complete").exists():
        return python
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / f"{venv_key()}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return python
        shutil.rmtree(target, ignore_errors=True)  # a build that was interrupted
        uv = _uv()
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(target)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(python), *PINS],
            check=True,
        )
        (target / ".complete").write_text("\n".join(PINS) + "\n")
    return python
