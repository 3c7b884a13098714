"""A production-like run of the promotion DAG: PostgreSQL, two triggerers, one killed mid-wait.

1. start the emulator server (long transitions, so the sensor stays deferred for a while);
2. a throwaway PostgreSQL cluster on loopback (Debian's package, ``scripts/_postgres.py``) as the
   metadata DB, the LocalExecutor, ``airflow db migrate``;
3. ``airflow api-server``, ``scheduler``, ``dag-processor`` and two ``triggerer`` processes
   (each in its own process group, each logging to its own file);
4. through the REST API (``/api/v2``, token from ``/auth/token``): wait for the DAG, unpause it,
   trigger it with a better candidate;
5. once ``wait_for_running`` (the deferrable InferenceExperimentSensor) is ``deferred``, find the
   triggerer running its trigger (``trigger.triggerer_id``) and SIGKILL that one's process group;
   the other triggerer must take the trigger over (its job id appears on the trigger);
6. wait for the run to end; exit 0 only if it succeeded, the endpoint serves the candidate, the
   trigger moved to the surviving triggerer, and the emulator received exactly one
   CreateInferenceExperiment and one StopInferenceExperiment (nothing ran twice).

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
    migrate_database,
    production_model,
    setup_endpoint,
    stop_group,
)
from scripts._postgres import PostgresCluster

COMPONENTS = ("api-server", "scheduler", "dag-processor")
TRIGGERERS = ("triggerer-1", "triggerer-2")
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

    def start(self, name: str) -> None:
        """Start ``name``: an Airflow component, or ``triggerer-N`` for one of several triggerers."""
        component = "triggerer" if name.startswith("triggerer") else name
        self.starts[name] = self.starts.get(name, 0) + 1
        command = [sys.executable, "-m", "airflow", component]
        if component == "api-server":
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
        log_path = self.log_dir / f"{name}-{self.starts[name]}.log"
        with open(log_path, "wb") as log:
            self.processes[name] = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def kill(self, component: str) -> None:
        """SIGKILL the component's whole process group (no graceful shutdown)."""
        stop_group(self.processes[component], grace_seconds=0)
        self.killed.add(component)

    def dead(self) -> list[str]:
        return [
            name for name, process in self.processes.items() if process.poll() is not None and name not in self.killed
        ]

    killed: set[str] = field(default_factory=set)

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


class Metadata:
    """Read-only queries on the metadata DB: which triggerer runs which trigger."""

    def __init__(self, cluster: PostgresCluster) -> None:
        import psycopg2

        self.connection = psycopg2.connect(
            host="127.0.0.1", port=cluster.port, user=cluster.user, dbname=cluster.database
        )
        self.connection.autocommit = True

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def running_triggerer_jobs(self) -> list[int]:
        rows = self.rows("SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running' ORDER BY id")
        return [int(row[0]) for row in rows]

    def trigger_holder(self, run_id: str, task_id: str) -> int | None:
        """The job id of the triggerer running the task's trigger (None: unassigned, or no trigger)."""
        rows = self.rows(
            "SELECT t.triggerer_id FROM task_instance ti JOIN trigger t ON t.id = ti.trigger_id "
            "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s",
            DAG_ID,
            run_id,
            task_id,
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def close(self) -> None:
        self.connection.close()


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
    home.mkdir(parents=True, exist_ok=True)
    say(f"work directory {work}")
    # Creating and Starting last 8 s each: the sensor stays deferred long enough for a triggerer
    # to be killed and for the other one to notice (triggerer_health_check_threshold) and take over.
    emulator = Emulator.start(work, transition_seconds=8.0)
    deployment: Deployment | None = None
    cluster: PostgresCluster | None = None
    metadata: Metadata | None = None
    try:
        cluster = PostgresCluster.start()
        say(f"PostgreSQL on 127.0.0.1:{cluster.port}")
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, pipeline)
        port = free_port()
        env = airflow_env(
            home,
            emulator,
            poke_seconds=2.0,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=cluster.url,
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
        say("airflow db migrate (PostgreSQL, LocalExecutor)")
        migrate_database(env)
        timings["migrate"] = time.monotonic() - started
        db = metadata = Metadata(cluster)

        deployment = Deployment(env, work, port)
        boot = time.monotonic()
        for component in COMPONENTS:
            deployment.start(component)
        # The triggerers one after the other, so each one's job id is known.
        triggerer_jobs: dict[str, int] = {}
        for name in TRIGGERERS:
            known = set(triggerer_jobs.values())
            deployment.start(name)
            job = wait_until(
                deadline,
                f"{name} to register",
                lambda known=known: next((j for j in db.running_triggerer_jobs() if j not in known), None),
                deployment,
            )
            triggerer_jobs[name] = int(job)
        api = Api(f"http://127.0.0.1:{port}")
        say(f"started {', '.join(COMPONENTS + TRIGGERERS)} (triggerer jobs {triggerer_jobs}) on {api.base_url}")
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
        holder_job = wait_until(
            deadline,
            "a triggerer to pick the trigger up",
            lambda: db.trigger_holder(run_id, SENSOR_TASK),
            deployment,
        )
        victim = next(name for name, job in triggerer_jobs.items() if job == holder_job)
        survivor = next(name for name in TRIGGERERS if name != victim)
        deployment.kill(victim)
        killed_at = dt.datetime.now(dt.timezone.utc)
        # Still deferred once the triggerer is dead: its trigger had not fired, so the other one must run it.
        ti = api.call("GET", f"{runs}/taskInstances/{SENSOR_TASK}")
        deferred_after_kill = ti["state"] == "deferred"
        say(
            f"{SENSOR_TASK} deferred {timings['deferred']:.1f} s after the trigger, run by {victim} "
            f"(job {holder_job}); {victim} SIGKILLed (still deferred: {deferred_after_kill})"
        )

        def taken_over() -> int | None:
            holder = db.trigger_holder(run_id, SENSOR_TASK)
            if holder == triggerer_jobs[survivor]:
                return holder
            ti = api.try_call("GET", f"{runs}/taskInstances/{SENSOR_TASK}")
            if ti and ti.get("state") not in (None, "deferred", "scheduled", "queued", "running"):
                raise RuntimeError(f"{SENSOR_TASK} ended as {ti['state']} before {survivor} took its trigger over")
            return None

        new_holder = wait_until(deadline, f"{survivor} to take the trigger over", taken_over, deployment, every=0.5)
        timings["takeover"] = (dt.datetime.now(dt.timezone.utc) - killed_at).total_seconds()
        say(f"{survivor} (job {new_holder}) took the trigger over {timings['takeover']:.1f} s after the kill")

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
        sensor_after_kill = (sensor_end - killed_at).total_seconds()
        stats = emulator.stats()
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
        print(f"metadata DB:      PostgreSQL ({cluster.url})")
        print(f"triggerers:       {len(TRIGGERERS)} started; {victim} killed while running the trigger")
        print(f"trigger takeover: job {holder_job} -> job {new_holder} ({survivor})")
        print(f"sensor resumed:   {sensor_after_kill:.1f} s after the kill")
        calls = {op: stats.get(op, 0) for op in ("CreateInferenceExperiment", "StopInferenceExperiment")}
        print("emulator calls:   " + ", ".join(f"{op}={n}" for op, n in calls.items()))
        print(
            f"timings: migrate {timings['migrate']:.1f} s, components ready {timings['ready']:.1f} s, "
            f"sensor deferred (triggerer killed) {timings['deferred']:.1f} s after trigger, "
            f"takeover {timings['takeover']:.1f} s after the kill, "
            f"run {timings['run']:.1f} s, total {timings['total']:.1f} s"
        )
        ok = (
            final == "success"
            and states.get("promote") == "success"
            and serving == pipeline.candidate_model
            and deferred_after_kill
            and new_holder == triggerer_jobs[survivor]
            and sensor_after_kill > 0
            and calls == {"CreateInferenceExperiment": 1, "StopInferenceExperiment": 1}
        )
        say(("PASSED" if ok else "FAILED") + f": logs in {work}")
        return 0 if ok else 1
    finally:
        if metadata is not None:
            metadata.close()
        if deployment is not None:
            deployment.stop_all()
        emulator.stop()
        if cluster is not None:
            cluster.stop()


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
