"""The package a user installs: the wheel and the sdist, each in a venv without the dev extras.

Building a venv with Airflow takes a while, so two base venvs (the runtime dependencies, and the
same plus the ``[testing]`` extra) are cached under ``$SHADOWTEST_MATRIX_CACHE`` (default
``~/.cache/shadowtest-matrix``), keyed on the hash of ``pyproject.toml`` and ``constraints.txt``.
Each test installs the built artifact into them with ``--no-deps`` and uninstalls it afterwards,
so neither base ever holds the project between tests. Every check runs from a scratch directory
with no ``PYTHONPATH``, so the installed copy is imported, never the checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
DIST_NAME = "airflow-provider-shadowtest"
PACKAGE = "airflow_provider_shadowtest"
DAG_FACING = (
    f"{PACKAGE}.operators.inference_experiment",
    f"{PACKAGE}.operators.evaluate",
    f"{PACKAGE}.sensors.inference_experiment",
    f"{PACKAGE}.links.inference_experiment",
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(args: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def _clean_env(home: Path) -> dict[str, str]:
    """No PYTHONPATH (it would import the checkout), a scratch AIRFLOW_HOME, fake credentials."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "AIRFLOW_HOME", "VIRTUAL_ENV"}}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return env


def _base_venv(extra: str | None) -> Path:
    """A cached venv holding the project's runtime dependencies (plus ``extra``), not the project."""
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes())
    root = Path(os.environ.get("SHADOWTEST_MATRIX_CACHE", Path.home() / ".cache" / "shadowtest-matrix"))
    venv = root / f"packaging-{extra or 'runtime'}-{key.hexdigest()[:16]}"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run([UV, "venv", "--quiet", "--python", sys.executable, venv], cwd=ROOT)
        extras = ["--extra", extra] if extra else []
        _run(
            [UV, "pip", "install", "--quiet", "--compile-bytecode", "--python", venv / "bin" / "python",
             "-c", "constraints.txt", "-r", "pyproject.toml", *extras],
            cwd=ROOT,
        )  # fmt: skip
        (venv / ".complete").touch()
        for old in root.glob(f"packaging-{extra or 'runtime'}-*"):
            if old != venv:
                shutil.rmtree(old, ignore_errors=True)
    return venv


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheel and the sdist, built from the checkout."""
    out = tmp_path_factory.mktemp("dist")
    _run([UV, "build", "--quiet", "--out-dir", out, ROOT], cwd=ROOT)
    wheel = next(out.glob("*.whl"))
    sdist = next(out.glob("*.tar.gz"))
    return {"wheel": wheel, "sdist": sdist}


class _Installed:
    """The artifact installed (no deps) into a base venv; uninstalled on exit."""

    def __init__(self, venv: Path, artifact: Path, work: Path) -> None:
        self.python = venv / "bin" / "python"
        self.artifact = artifact
        self.work = work
        self.env = _clean_env(work / "airflow-home")

    def __enter__(self) -> _Installed:
        _run(
            [UV, "pip", "install", "--quiet", "--no-deps", "--reinstall", "--compile-bytecode",
             "--python", self.python, self.artifact],
            cwd=self.work,
        )  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        _run([UV, "pip", "uninstall", "--quiet", "--python", self.python, DIST_NAME], cwd=self.work)

    def python_out(self, code: str) -> str:
        return _run([self.python, "-c", code], cwd=self.work, env=self.env)


def test_wheel_carries_types_and_license_and_no_tests(artifacts: dict[str, Path]) -> None:
    with zipfile.ZipFile(artifacts["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert f"{PACKAGE}/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names[-10:]
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "scripts/", "example_dags/"))]
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Dist: apache-airflow>=2.11" in metadata
    assert "Provides-Extra: testing" in metadata
    with tarfile.open(artifacts["sdist"]) as archive:
        sdist = archive.getnames()
    assert any(n.endswith("/LICENSE") for n in sdist)
    assert any(n.endswith(f"/{PACKAGE}/py.typed") for n in sdist)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_installed_provider_registers_and_imports_without_aws_sdk(
    kind: str, artifacts: dict[str, Path], tmp_path: Path
) -> None:
    venv = _base_venv(None)
    with _Installed(venv, artifacts[kind], tmp_path) as installed:
        answer = _run(
            [venv / "bin" / "airflow", "providers", "get", DIST_NAME, "--full", "-o", "json"],
            cwd=tmp_path,
            env=installed.env,
        )
        info = json.loads(next(line for line in answer.splitlines() if line.startswith("[{")))[0]
        assert info["package-name"] == DIST_NAME
        assert f"{PACKAGE}.sensors.inference_experiment" in json.dumps(info["sensors"])

        probe = (
            "import importlib, json, sys\n"
            f"mods = [importlib.import_module(m) for m in {DAG_FACING!r}]\n"
            "print(json.dumps({'files': [m.__file__ for m in mods],"
            " 'loaded': sorted(m for m in ('boto3', 'botocore', 'aiobotocore', 'moto') if m in sys.modules)}))"
        )
        result = json.loads(installed.python_out(probe).strip().splitlines()[-1])
        assert result["loaded"] == []
        assert all(str(venv) in f for f in result["files"]), result["files"]  # the installed copy, not the checkout
        # Without the [testing] extra there is no moto, and the hook still imports (boto3 is a runtime dependency).
        installed.python_out(
            "import importlib.util, sys\n"
            "assert importlib.util.find_spec('moto') is None\n"
            "import airflow_provider_shadowtest.hooks.inference_experiment\n"
        )


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_testing_extra_brings_the_emulator_server(kind: str, artifacts: dict[str, Path], tmp_path: Path) -> None:
    venv = _base_venv("testing")
    with _Installed(venv, artifacts[kind], tmp_path) as installed:
        server = subprocess.Popen(
            [installed.python, "-m", f"{PACKAGE}.testing.server", "--host", "127.0.0.1", "--port", "0"],
            cwd=tmp_path,
            env=installed.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline().strip()
            assert line.startswith("listening on http://127.0.0.1:"), line
            url = line.removeprefix("listening on ")
            with urllib.request.urlopen(f"{url}/_shadowtest/stats", timeout=10) as response:
                assert isinstance(json.loads(response.read()), dict)
        finally:
            server.terminate()
            server.wait(timeout=20)
            if server.stdout is not None:
                server.stdout.close()
