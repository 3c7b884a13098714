"""A production-like run of the promotion DAG, surviving a triggerer killed mid-wait.

1. start the emulator server (long transitions, so the sensor stays deferred for a while);
2. a throwaway ``AIRFLOW_HOME`` on SQLite with the LocalExecutor, ``airflow db migrate``;
3. ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer``, separate processes
   (each in its own process group, each logging to its own file);
4. through the REST API (``/api/v2``, token from ``/auth/token``): wait for the DAG, unpause it,
   trigger it with a better candidate;
5. once ``wait_for_running`` (the deferrable InferenceExperimentSensor) is ``deferred``, SIGKILL the
   triggerer's process group and start a new triggerer;
6. wait for the run to end; exit 0 only if it succeeded and the endpoint serves the candidate.

Everything is bounded (``--timeout-seconds``, default 360) and every process is stopped at the end.

    python scripts/prodlike_run.py [--workdir DIR] [--observation-seconds 540] [--timeout-seconds 1200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts._demo_support import (
    DAG_ID,
    Emulator,
    Pipeline,
    airflow_env,
    migrate,
    production_model,
    setup_endpoint,
    stop_group,
)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
PIPELINE = Pipeline("prodlike-endpoint", "prodlike-prod", "prodlike-candidate", "better")
SENSOR_TASK = "wait_for_running"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"timed out {what}")


@dataclass
class Deployment:
    """The four Airflow components as process groups, logged to ``log_dir``."""

    env: dict[str, str]
    log_dir: Path
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def start(self, component: str) -> None:
        self.starts[component] = self.starts.get(component, 0) + 1
        command = [sys.executable, "-m", "airflow", component]
        if component == "api-server":
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
        log_path = self.log_dir / f"{component}-{self.starts[component]}.log"
        with open(log_path, "wb") as log:
            self.processes[component] = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, component: str) -> None:
        """SIGKILL the component's whole process group (no graceful shutdown)."""
        stop_group(self.processes[component], grace_seconds=0)

    def dead(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop_all(self) -> None:
        for process in self.processes.values():
            stop_group(process, grace_seconds=10)


class Api:
    """A tiny client of Airflow's public REST API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, timeout: float = 10) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def try_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The answer, or None on a connection error or an HTTP error (readiness polling)."""
        try:
            return self.call(method, path, body)
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            return None


def wait_until(deadline: Deadline, what: str, probe: Any, deployment: Deployment, every: float = 0.5) -> Any:
    """Call ``probe()`` until it returns something truthy; fail early if a component died."""
    while True:
        value = probe()
        if value:
            return value
        dead = deployment.dead()
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}; see {deployment.log_dir}")
        deadline.check(f"waiting for {what}")
        time.sleep(every)


def run(work: Path, observation_seconds: int, timeout_seconds: float) -> int:
    started = time.monotonic()
    deadline = Deadline(timeout_seconds)
    timings: dict[str, float] = {}
    pipeline = Pipeline(
        PIPELINE.endpoint, PIPELINE.production_model, PIPELINE.candidate_model, "better", observation_seconds
    )
    home = work / "airflow-home"
    say(f"work directory {work}")
    # Creating and Starting last 6 s each: the sensor stays deferred long enough to kill the triggerer.
    emulator = Emulator.start(work, transition_seconds=6.0)
    deployment: Deployment | None = None
    try:
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, pipeline)
        port = free_port()
        env = airflow_env(
            home,
            emulator,
            poke_seconds=2.0,
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
            AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="10",
        )
        say("airflow db migrate (SQLite, LocalExecutor)")
        migrate(home, env)
        timings["migrate"] = time.monotonic() - started

        deployment = Deployment(env, work, port)
        boot = time.monotonic()
        for component in COMPONENTS:
            deployment.start(component)
        api = Api(f"http://127.0.0.1:{port}")
        say(f"started {', '.join(COMPONENTS)}; api-server on {api.base_url}")
        token = wait_until(deadline, "the api-server", lambda: api.try_call("GET", "/auth/token"), deployment)
        api.token = str(token["access_token"])
        wait_until(
            deadline, f"DAG {DAG_ID} to be parsed", lambda: api.try_call("GET", f"/api/v2/dags/{DAG_ID}"), deployment
        )
        api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
        timings["ready"] = time.monotonic() - boot
        say(f"deployment ready in {timings['ready']:.1f} s; DAG unpaused")

        # The example's experiment name uses ts_nodash: give the run a logical date.
        logical_date = dt.datetime.now(dt.timezone.utc).isoformat()
        triggered = time.monotonic()
        dag_run = api.call(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": logical_date, "conf": pipeline.conf()}
        )
        run_id = str(dag_run["dag_run_id"])
        runs = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        say(f"triggered run {run_id}")

        def sensor_deferred() -> bool:
            ti = api.try_call("GET", f"{runs}/taskInstances/{SENSOR_TASK}")
            if ti and ti.get("state") in ("success", "failed", "upstream_failed"):
                raise RuntimeError(f"{SENSOR_TASK} ended as {ti['state']} before it was seen deferred")
            return bool(ti and ti.get("state") == "deferred")

        wait_until(deadline, f"{SENSOR_TASK} to be deferred", sensor_deferred, deployment, every=0.25)
        timings["deferred"] = time.monotonic() - triggered
        deployment.kill("triggerer")
        # Still deferred once the triggerer is dead: its trigger had not fired, so the new triggerer must run it.
        ti = api.call("GET", f"{runs}/taskInstances/{SENSOR_TASK}")
        deferred_after_kill = ti["state"] == "deferred"
        say(f"{SENSOR_TASK} deferred {timings['deferred']:.1f} s after the trigger; triggerer SIGKILLed")
        deployment.start("triggerer")
        restarted_at = dt.datetime.now(dt.timezone.utc)
        say(f"triggerer restarted ({SENSOR_TASK} still deferred after the kill: {deferred_after_kill})")

        def run_ended() -> str | None:
            state = (api.try_call("GET", runs) or {}).get("state")
            return str(state) if state in ("success", "failed") else None

        final = wait_until(deadline, "the run to end", run_ended, deployment, every=1.0)
        timings["run"] = time.monotonic() - triggered
        listing = api.call("GET", f"{runs}/taskInstances")
        states = {ti["task_id"]: ti["state"] for ti in listing["task_instances"]}
        serving = production_model(sagemaker, pipeline.endpoint)
        sensor = api.call("GET", f"{runs}/taskInstances/{SENSOR_TASK}")
        sensor_end = dt.datetime.fromisoformat(str(sensor["end_date"]).replace("Z", "+00:00"))
        sensor_after_restart = (sensor_end - restarted_at).total_seconds()
        verdict = api.try_call("GET", f"{runs}/taskInstances/evaluate/xcomEntries/return_value")
        decision = None
        if verdict:
            value = verdict.get("value")
            value = json.loads(value) if isinstance(value, str) else value
            decision = value.get("decision") if isinstance(value, dict) else None
        timings["total"] = time.monotonic() - started

        print()
        print(f"run state:        {final}")
        print(f"verdict:          {decision}")
        print("tasks:            " + ", ".join(f"{t}={s}" for t, s in sorted(states.items())))
        print(f"production model: {serving} (candidate {pipeline.candidate_model})")
        print(f"triggerer starts: {deployment.starts['triggerer']}")
        print(f"sensor resumed:   {sensor_after_restart:.1f} s after the triggerer restart")
        print(
            f"timings: migrate {timings['migrate']:.1f} s, components ready {timings['ready']:.1f} s, "
            f"sensor deferred (triggerer killed) {timings['deferred']:.1f} s after trigger, "
            f"run {timings['run']:.1f} s, total {timings['total']:.1f} s"
        )
        ok = (
            final == "success"
            and states.get("promote") == "success"
            and serving == pipeline.candidate_model
            and deferred_after_kill
            and sensor_after_restart > 0
        )
        say(("PASSED" if ok else "FAILED") + f": logs in {work}")
        return 0 if ok else 1
    finally:
        if deployment is not None:
            deployment.stop_all()
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workdir", help="logs and AIRFLOW_HOME go here (default: a new temporary directory)")
    parser.add_argument("--observation-seconds", type=int, default=540)
    parser.add_argument("--timeout-seconds", type=float, default=1200)
    args = parser.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="shadowtest-prodlike-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run(work, args.observation_seconds, args.timeout_seconds)
    except (TimeoutError, RuntimeError, urllib.error.URLError) as exc:
        say(f"FAILED: {exc}; logs in {work}")
        for log in sorted(work.glob("*.log")):
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            print(f"--- {log.name} (last 15 lines)")
            print("\n".join(lines[-15:]))
        return 1


if __name__ == "__main__":
    sys.exit(main())
