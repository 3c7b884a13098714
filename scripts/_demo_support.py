"""Run the promotion example DAG against the emulator server: shared by the e2e tests, benchmarks and scripts.

Everything a run needs, with no Airflow import (each run is its own ``airflow`` subprocess):

- :class:`Emulator`: the emulator server in its own process group, its control routes, a client;
- :func:`prepare_home`: a throwaway ``AIRFLOW_HOME`` (``airflow db migrate`` once, then copies);
- :func:`airflow_env`: the environment pointing Airflow's ``aws_default`` at an emulator;
- :func:`setup_endpoint`: an endpoint serving a production model, plus a candidate model;
- :class:`DagsTest`: ``airflow dags test`` of a DAG in its own process group, its exit and log;
- :func:`xcom` / :func:`task_states`: what a run recorded in its SQLite metadata DB.

Every process started here is a process-group leader; :func:`stop_group` ends the whole group.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3

from airflow_provider_shadowtest.testing import create_endpoint, create_model

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_DAGS = ROOT / "example_dags"
DAG_ID = "example_shadow_test_promotion"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

#: Traffic profiles (model tags read by the emulator), as production traffic looks: the emulator's
#: default lognormal latency spread (0.35) and non-zero baseline error rates on every model. The
#: statistical verdict decides from intervals, so "better" and "worse" are decided by the profile,
#: not by chance, whatever the noise.
BASELINE_ERRORS = {
    "shadowtest:4xx-rate": "0.5%",
    "shadowtest:error-rate": "0.2%",
    "shadowtest:model-error-rate": "0.1%",
}
PRODUCTION_PROFILE = {
    # Plenty of traffic: a few minutes give the verdict thousands of shadow requests.
    "shadowtest:rps": "40",
    "shadowtest:latency-ms": "40",
    "shadowtest:latency-spread": "0.35",
    **BASELINE_ERRORS,
}
CANDIDATE_PROFILES: dict[str, dict[str, str]] = {
    "better": {"shadowtest:latency-ms": "30", "shadowtest:latency-spread": "0.35", **BASELINE_ERRORS},
    "worse": {
        "shadowtest:latency-ms": "60",
        "shadowtest:latency-spread": "0.35",
        **BASELINE_ERRORS,
        "shadowtest:error-rate": "5%",
    },
    # Healthy latency and errors, but it gives another label than production on 10 % of requests.
    "disagreeing": {
        "shadowtest:latency-ms": "35",
        "shadowtest:latency-spread": "0.35",
        **BASELINE_ERRORS,
        "shadowtest:disagreement-rate": "10%",
    },
}
#: Where the capture variant of the pipeline writes (the bucket is created in the emulator's S3).
CAPTURE_BUCKET = "shadow-test-captures"


def stop_group(process: subprocess.Popen[Any], grace_seconds: float = 10.0) -> None:
    """SIGTERM the process group led by ``process``, then SIGKILL it after ``grace_seconds``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_seconds)
    # Children may outlive the leader: the group is killed in any case.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_seconds)


@dataclass
class Emulator:
    """An emulator server process on a free loopback port (see ``testing.server``)."""

    process: subprocess.Popen[str]
    url: str
    log_dir: Path

    @classmethod
    def start(cls, log_dir: Path, *, transition_seconds: float = 1.0, name: str = "emulator") -> Emulator:
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / f"{name}.err", "w", encoding="utf-8") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "airflow_provider_shadowtest.testing.server",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--log-file",
                    str(log_dir / f"{name}-requests.log"),
                    "--transition-seconds",
                    str(transition_seconds),
                ],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                start_new_session=True,
            )
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            stop_group(process)
            raise RuntimeError(f"emulator did not start: {line!r}; see {log_dir / f'{name}.err'}")
        return cls(process, line.removeprefix("listening on "), log_dir)

    def stop(self) -> None:
        stop_group(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def control(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """Call a ``/_shadowtest/`` route; return its JSON answer."""
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(f"{self.url}/_shadowtest/{route}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def stats(self) -> dict[str, int]:
        """Requests received per operation (SageMaker and CloudWatch)."""
        return {str(k): int(v) for k, v in self.control("GET", "stats").items()}

    def faults(self) -> dict[str, int]:
        """Faults injected per operation."""
        return {str(k): int(v) for k, v in self.control("GET", "faults").items()}

    def reset_counts(self) -> None:
        self.control("POST", "reset")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change emulator settings (``fault_rate``, ``fault_kinds``, ...); return them all."""
        return dict(self.control("POST", "settings", changes))

    def client(self, service: str = "sagemaker") -> Any:
        """A boto3 client of this emulator (no retries beyond botocore's legacy default)."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )

    def connection_uri_json(self) -> str:
        """``AIRFLOW_CONN_AWS_DEFAULT`` value pointing at this emulator."""
        return json.dumps({"conn_type": "aws", "extra": {"endpoint_url": self.url, "region_name": REGION}})


def airflow_env(
    home: Path,
    emulator: Emulator,
    *,
    poke_seconds: float = 2.0,
    dags_folder: Path = EXAMPLE_DAGS,
    **extra: str,
) -> dict[str, str]:
    """The environment of an ``airflow`` subprocess using ``home`` and ``emulator`` as ``aws_default``."""
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "PYTEST_CURRENT_TEST"):
        env.pop(name, None)
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW_CONN_AWS_DEFAULT=emulator.connection_uri_json(),
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        SHADOWTEST_EXAMPLE_POKE_SECONDS=f"{poke_seconds:g}",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def migrate_database(env: dict[str, str], timeout_seconds: float = 300) -> None:
    """``airflow db migrate`` into the database ``env`` names (``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``)."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )


def migrate(home: Path, env: dict[str, str], timeout_seconds: float = 300) -> None:
    """``airflow db migrate`` into ``home`` (SQLite)."""
    home.mkdir(parents=True, exist_ok=True)
    sqlite = {"AIRFLOW_HOME": str(home), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    migrate_database({**env, **sqlite}, timeout_seconds)


def prepare_homes(work: Path, names: list[str], env: dict[str, str]) -> dict[str, Path]:
    """Migrate one ``AIRFLOW_HOME`` and copy its SQLite DB for the others (a migration takes ~20 s)."""
    first = work / f"home-{names[0]}"
    migrate(first, env)
    homes = {names[0]: first}
    for name in names[1:]:
        home = work / f"home-{name}"
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy2(first / "airflow.db", home / "airflow.db")
        homes[name] = home
    return homes


@dataclass(frozen=True)
class Pipeline:
    """One promotion-pipeline run: its endpoint, its models, and the DAG's ``--conf``.

    The evaluate step runs in continuous mode: a look every two minutes after a 1-minute warm-up,
    with O'Brien-Fleming alpha spending (keeps the confidence for the end of a short observation;
    a clear regression such as 5 % 5XX still stops within the first looks). A PROMOTE needs about
    seven judged minutes: the latency interval comes from per-minute pairs (Wilcoxon signed-rank),
    and its final look must keep enough of the confidence budget.
    """

    endpoint: str
    production_model: str
    candidate_model: str
    candidate: str  # a key of CANDIDATE_PROFILES
    observation_seconds: int = 540
    check_interval_seconds: int = 120
    warmup_seconds: int = 60
    lag_seconds: int = 30
    report_uri: str = ""
    capture: bool = False

    def conf(self) -> dict[str, Any]:
        return {
            "endpoint_name": self.endpoint,
            "candidate_model": self.candidate_model,
            "observation_seconds": self.observation_seconds,
            "check_interval_seconds": self.check_interval_seconds,
            "warmup_seconds": self.warmup_seconds,
            "lag_seconds": self.lag_seconds,
            "alpha_spending": "obrien_fleming",
            "decision_window_seconds": 120,
            "min_shadow_invocations": 100,
            "report_uri": self.report_uri,
            "capture": self.capture,
            "capture_destination": f"s3://{CAPTURE_BUCKET}/{self.endpoint}",
        }


def setup_endpoint(sagemaker: Any, pipeline: Pipeline) -> None:
    """Create the production model, the endpoint serving it, and the candidate model."""
    create_model(sagemaker, pipeline.production_model, tags=PRODUCTION_PROFILE)
    create_model(sagemaker, pipeline.candidate_model, tags=CANDIDATE_PROFILES[pipeline.candidate])
    create_endpoint(sagemaker, pipeline.endpoint, pipeline.production_model)
    if pipeline.capture:
        s3: Any = boto3.client(  # type: ignore[call-overload]
            "s3", endpoint_url=sagemaker.meta.endpoint_url, region_name=REGION, **CREDENTIALS
        )
        # Another pipeline on the same emulator may have created it already.
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=CAPTURE_BUCKET)


def production_model(sagemaker: Any, endpoint: str) -> str:
    """The model the endpoint's (first) production variant serves."""
    return str(production_variant(sagemaker, endpoint)["ModelName"])


def production_variant(sagemaker: Any, endpoint: str) -> dict[str, Any]:
    """The endpoint's (first) production variant: name, model, instance type and count (config keys)."""
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]
    return {k: variant.get(k) for k in ("VariantName", "ModelName", "InstanceType", "InitialInstanceCount")}


@dataclass
class DagsTest:
    """``airflow dags test DAG_ID --conf ...`` running in the background, logged to ``log_path``."""

    process: subprocess.Popen[bytes]
    log_path: Path
    started: float = field(default_factory=time.monotonic)
    _log: IO[bytes] | None = None

    @classmethod
    def start(cls, env: dict[str, str], conf: dict[str, Any], log_path: Path, dag_id: str = DAG_ID) -> DagsTest:
        log = open(log_path, "wb")  # noqa: SIM115 - closed in wait()
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--conf", json.dumps(conf)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return cls(process, log_path, _log=log)

    def wait(self, timeout_seconds: float) -> int:
        """Wait for the exit code; kill the process group on timeout (return -9 then)."""
        try:
            return self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            return -9
        finally:
            stop_group(self.process)
            if self._log is not None:
                self._log.close()
                self._log = None

    def seconds(self) -> float:
        return time.monotonic() - self.started

    def tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def xcom(home: Path, task_id: str, dag_id: str = DAG_ID) -> Any:
    """The latest ``return_value`` XCom of ``task_id`` in ``home``'s metadata DB (None if absent)."""
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value' "
            "ORDER BY timestamp DESC LIMIT 1",
            (dag_id, task_id),
        ).fetchone()
    if row is None:
        return None
    value = json.loads(row[0])
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


def task_states(home: Path, dag_id: str = DAG_ID) -> dict[str, str]:
    """``{task_id: state}`` of the run(s) recorded in ``home``'s metadata DB."""
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (dag_id,)).fetchall()
    return {str(task): str(state) for task, state in rows}
