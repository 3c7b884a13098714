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
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts._demo_support import (
    ROOT,
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    migrate,
    production_model,
    production_variant,
    setup_endpoint,
    task_states,
    xcom,
)


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


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
    say(f"starting the SageMaker shadow-test emulator (logs in {work})")
    emulator = Emulator.start(work)
    try:
        env = airflow_env(home, emulator)
        say(f"emulator at {emulator.url}; preparing AIRFLOW_HOME={home} (airflow db migrate)")
        migrate(home, env)

        pipeline = Pipeline(
            endpoint="churn-endpoint",
            production_model="churn-model-v1",
            candidate_model=f"churn-model-v2-{args.candidate}",
            candidate=args.candidate,
            observation_seconds=args.observation_seconds,
        )
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, pipeline)
        before = production_model(sagemaker, pipeline.endpoint)
        variant_before = production_variant(sagemaker, pipeline.endpoint)
        say(f"endpoint {pipeline.endpoint!r} serves {before!r}; candidate: {pipeline.candidate_model!r}")

        say(f"airflow dags test example_shadow_test_promotion (observation window {args.observation_seconds} s)")
        run = DagsTest.start(env, pipeline.conf(), work / "dags-test.log")
        exit_code = run.wait(timeout_seconds=900)

        verdict = xcom(home, "evaluate")
        after = production_model(sagemaker, pipeline.endpoint)
        variant_after = production_variant(sagemaker, pipeline.endpoint)
        print()
        print(verdict.get("report_markdown", json.dumps(verdict, indent=2)) if verdict else "(no verdict was recorded)")
        print()
        print("tasks:", ", ".join(f"{t}={s}" for t, s in sorted(task_states(home).items())))
        print(f"production model before: {before}")
        print(f"production model after:  {after}")
        print(f"production variant before: {variant_before}")
        print(f"production variant after:  {variant_after}")
        decision = (verdict or {}).get("decision")
        if args.candidate == "better":
            ok = exit_code == 0 and decision == "PROMOTE" and after == pipeline.candidate_model
            expected = f"PROMOTE and {pipeline.candidate_model!r} serving production"
        else:
            ok = exit_code == 0 and decision == "REJECT" and after == before
            expected = f"REJECT and {before!r} still serving production"
        elapsed = time.monotonic() - started
        if ok:
            say(f"demo passed in {elapsed:.0f} s: {expected}")
            return 0
        say(
            f"demo FAILED after {elapsed:.0f} s: expected {expected}; got {decision} with {after!r} "
            f"(airflow exit {exit_code}; full log: {run.log_path})"
        )
        print(run.tail(40))
        return 1
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
