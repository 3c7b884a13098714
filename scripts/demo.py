"""`make demo`: a shadow test promoted end to end, offline, on the embedded SageMaker emulator.

1. start the emulator server on 127.0.0.1 (a free port);
2. prepare a throwaway AIRFLOW_HOME (db migrate, an ``aws_default`` connection to the emulator);
3. create an endpoint serving the production model, and a candidate model (better or worse);
4. run ``airflow dags test example_shadow_test_promotion`` with a short observation window;
5. print the verdict table and the endpoint's production model before and after;
6. stop the emulator; exit 0 only if the pipeline ended as expected
   (``--candidate better``: promoted; ``--candidate worse``: rejected, production untouched).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from airflow_provider_shadowtest.testing import create_endpoint, create_model

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "example_shadow_test_promotion"
ENDPOINT = "churn-endpoint"
PRODUCTION_MODEL = "churn-model-v1"
# Traffic profiles of the emulator, set through model tags (see the README's emulator section).
PROFILES: dict[str, dict[str, str]] = {
    "production": {"shadowtest:rps": "20", "shadowtest:latency-ms": "40", "shadowtest:error-rate": "0.5%"},
    "better": {"shadowtest:latency-ms": "32", "shadowtest:error-rate": "0.2%"},
    "worse": {"shadowtest:latency-ms": "55", "shadowtest:error-rate": "3%"},
}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def start_emulator(log_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the emulator server on a free loopback port; return the process and its URL."""
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
            str(log_dir / "emulator-requests.log"),
            "--transition-seconds",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=open(log_dir / "emulator.err", "w", encoding="utf-8"),  # noqa: SIM115 - lives with the process
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"emulator did not start: {line!r}; see {log_dir / 'emulator.err'}")
    return process, line.removeprefix("listening on ")


def production_model(sagemaker: Any) -> str:
    endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    return str(config["ProductionVariants"][0]["ModelName"])


def read_verdict(home: Path) -> dict[str, Any] | None:
    """The evaluate task's XCom, read from the throwaway metadata DB."""
    with sqlite3.connect(home / "airflow.db") as db:
        row = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'evaluate' AND key = 'return_value' "
            "ORDER BY timestamp DESC LIMIT 1",
            (DAG_ID,),
        ).fetchone()
    if row is None:
        return None
    value = json.loads(row[0])
    return value if isinstance(value, dict) else json.loads(value)


def task_states(home: Path) -> dict[str, str]:
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (DAG_ID,)).fetchall()
    return {task: str(state) for task, state in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the shadow-test promotion demo offline.")
    parser.add_argument("--candidate", choices=["better", "worse"], default="better")
    parser.add_argument("--observation-seconds", type=int, default=30)
    parser.add_argument("--workdir", default=str(ROOT / ".demo"))
    args = parser.parse_args()
    started = time.monotonic()

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    home = work / "airflow-home"
    home.mkdir(parents=True)
    say(f"starting the SageMaker shadow-test emulator (logs in {work})")
    server, url = start_emulator(work)
    try:
        env = dict(os.environ)
        env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags"),
            AIRFLOW__CORE__UNIT_TEST_MODE="False",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
                {"conn_type": "aws", "extra": {"endpoint_url": url, "region_name": "us-east-1"}}
            ),
            AWS_ACCESS_KEY_ID="demo",
            AWS_SECRET_ACCESS_KEY="demo",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_EC2_METADATA_DISABLED="true",
            SHADOWTEST_EXAMPLE_POKE_SECONDS="2",
        )
        env.pop("AWS_PROFILE", None)
        env.pop("AWS_SESSION_TOKEN", None)
        say(f"emulator at {url}; preparing AIRFLOW_HOME={home} (airflow db migrate)")
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True, timeout=300
        )

        sagemaker = boto3.client(
            "sagemaker",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        candidate = f"churn-model-v2-{args.candidate}"
        create_model(sagemaker, PRODUCTION_MODEL, tags=PROFILES["production"])
        create_model(sagemaker, candidate, tags=PROFILES[args.candidate])
        create_endpoint(sagemaker, ENDPOINT, PRODUCTION_MODEL)
        before = production_model(sagemaker)
        say(f"endpoint {ENDPOINT!r} serves {before!r}; candidate {candidate!r} is {args.candidate}")

        conf = {
            "endpoint_name": ENDPOINT,
            "production_model": PRODUCTION_MODEL,
            "candidate_model": candidate,
            "observation_seconds": args.observation_seconds,
            "decision_window_seconds": 120,
            "min_shadow_invocations": 100,
        }
        say(f"airflow dags test {DAG_ID} (observation window {args.observation_seconds} s)")
        run = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", DAG_ID, "--conf", json.dumps(conf)],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        (work / "dags-test.log").write_text(run.stdout + run.stderr, encoding="utf-8")

        verdict = read_verdict(home)
        after = production_model(sagemaker)
        states = task_states(home)
        print()
        if verdict:
            print(verdict.get("report_markdown", json.dumps(verdict, indent=2)))
        else:
            print("(no verdict was recorded)")
        print()
        print("tasks:", ", ".join(f"{t}={s}" for t, s in sorted(states.items())))
        print(f"production model before: {before}")
        print(f"production model after:  {after}")
        decision = (verdict or {}).get("decision")
        if args.candidate == "better":
            ok = run.returncode == 0 and decision == "PROMOTE" and after == candidate
            expected = f"PROMOTE and {candidate!r} serving production"
        else:
            ok = run.returncode == 0 and decision == "REJECT" and after == before
            expected = f"REJECT and {before!r} still serving production"
        elapsed = time.monotonic() - started
        if ok:
            say(f"demo passed in {elapsed:.0f} s: {expected}")
            return 0
        say(
            f"demo FAILED after {elapsed:.0f} s: expected {expected}; got {decision} with {after!r} "
            f"(airflow exit {run.returncode}; full log: {work / 'dags-test.log'})"
        )
        print("\n".join((run.stdout + run.stderr).splitlines()[-40:]))
        return 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
