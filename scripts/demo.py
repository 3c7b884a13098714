"""`make demo`: a shadow test promoted end to end, offline, on the embedded SageMaker emulator.

1. start the emulator server on 127.0.0.1 (a free port);
2. prepare a throwaway AIRFLOW_HOME (db migrate, an ``aws_default`` connection to the emulator);
3. create an endpoint serving the production model, and a candidate model (better or worse);
4. run ``airflow dags test example_shadow_test_promotion``: the evaluate step judges every minute
   (continuous mode) on realistic noise and decides as soon as the evidence allows;
5. print the verdict table, where the HTML report is, how to see the "Shadow tests" page, and
   the endpoint's production model before and after;
6. stop the emulator; exit 0 only if the pipeline ended as expected
   (``--candidate better``: promoted; ``--candidate worse`` or ``disagreeing``: rejected,
   production untouched). ``--capture`` turns data capture on and gates on prediction agreement.
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
    parser.add_argument("--candidate", choices=["better", "worse", "disagreeing"], default="better")
    parser.add_argument("--observation-seconds", type=int, default=540, help="longest observation (s)")
    parser.add_argument("--capture", action="store_true", help="capture both variants' answers and compare them")
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
            report_uri=(work / "reports").resolve().as_uri() + "/",
            capture=args.capture or args.candidate == "disagreeing",
        )
        sagemaker = emulator.client()
        setup_endpoint(sagemaker, pipeline)
        before = production_model(sagemaker, pipeline.endpoint)
        variant_before = production_variant(sagemaker, pipeline.endpoint)
        say(f"endpoint {pipeline.endpoint!r} serves {before!r}; candidate: {pipeline.candidate_model!r}")

        say(
            f"airflow dags test example_shadow_test_promotion (a look every {pipeline.check_interval_seconds} s, "
            f"at most {args.observation_seconds} s of observation{', data capture on' if pipeline.capture else ''})"
        )
        run = DagsTest.start(env, pipeline.conf(), work / "dags-test.log")
        exit_code = run.wait(timeout_seconds=args.observation_seconds + 900)

        verdict = xcom(home, "evaluate")
        after = production_model(sagemaker, pipeline.endpoint)
        variant_after = production_variant(sagemaker, pipeline.endpoint)
        print()
        print(verdict.get("report_markdown", json.dumps(verdict, indent=2)) if verdict else "(no verdict was recorded)")
        print()
        print("tasks:", ", ".join(f"{t}={s}" for t, s in sorted(task_states(home).items())))
        sequential = (verdict or {}).get("sequential") or {}
        if sequential:
            looks = len((verdict or {}).get("looks") or [])
            print(
                f"decided at look {looks} (information fraction {sequential['information_fraction']:.2f}); "
                f"shadow instance-hours saved: {sequential['instance_hours_saved']:.2f}"
            )
        location = (verdict or {}).get("report_location")
        print(f"HTML report: {location or '(none written)'}")
        print(
            "Shadow tests page: run\n"
            f"  AIRFLOW_HOME={home} AIRFLOW__CORE__DAGS_FOLDER={env['AIRFLOW__CORE__DAGS_FOLDER']} "
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True "
            f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN={env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']} "
            f"{sys.executable} -m airflow api-server --host 127.0.0.1 --port 8080\n"
            "  and open http://127.0.0.1:8080/shadowtest/ (the verdict and its report are listed; SageMaker "
            "itself is offline once the demo's emulator stopped), or open the report file above in a browser"
        )
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
        if pipeline.capture:
            ok = ok and "Prediction agreement" in str((verdict or {}).get("report_markdown"))
            expected += ", with the prediction agreement section"
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
