"""Count every SageMaker and CloudWatch call of the whole promotion pipeline, against fixed-interval polling.

For each observation window, two pipelines run concurrently under ``airflow dags test``, each
against its own emulator server (so each server's ``/_shadowtest/stats`` counts that pipeline alone,
set-up calls excluded), both promoting the same better candidate:

- **schedule-aware**: the promotion example DAG as shipped (``example_shadow_test_promotion``):
  deferrable ``InferenceExperimentSensor`` for Running, ``DateTimeSensorAsync`` for the observation
  window, ``StopInferenceExperimentOperator(wait_for_completion=True)``;
- **fixed-interval**: the same create, evaluate and stop operators, with every wait written as a
  status sensor that describes the experiment every ``poke_interval``: until Running, through the
  observation window (what a sensor watching the experiment does), and after Stop until Completed.

Prints per-operation counts, totals and the ratio per window: the schedule-aware pipeline's count
stays flat as the window grows; fixed-interval polling grows with it.

    python benchmarks/bench_pipeline_api_calls.py [--windows 30 90] [--poke-interval 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts._demo_support import (
    DAG_ID,
    EXAMPLE_DAGS,
    DagsTest,
    Emulator,
    Pipeline,
    airflow_env,
    prepare_homes,
    production_model,
    setup_endpoint,
)

FIXED_DAG_ID = "bench_fixed_interval_promotion"
FIXED_DAG = '''
"""The promotion pipeline with every wait a fixed-interval status poll (benchmark anchor)."""
from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import DAG, task
from shadow_test_pipeline import shadow_test_params

from airflow_provider_shadowtest.operators.evaluate import EvaluateInferenceExperimentOperator
from airflow_provider_shadowtest.operators.inference_experiment import (
    CreateInferenceExperimentOperator,
    StopInferenceExperimentOperator,
)

POKE = float(os.environ["SHADOWTEST_EXAMPLE_POKE_SECONDS"])
EXPERIMENT = "{{ ti.xcom_pull(task_ids='create_experiment')['name'] }}"


def describe(name):
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook

    return InferenceExperimentHook(aws_conn_id="aws_default").describe_inference_experiment(name)


@task.sensor(poke_interval=POKE, timeout=3600, mode="poke")
def wait_for_running(name):
    return describe(name)["Status"] == "Running"


@task.sensor(poke_interval=POKE, timeout=3600, mode="poke")
def observe_traffic(name, seconds):
    start = describe(name)["Schedule"]["StartTime"]
    return dt.datetime.now(dt.timezone.utc) >= start + dt.timedelta(seconds=int(seconds))


@task.sensor(poke_interval=POKE, timeout=3600, mode="poke")
def wait_for_completed(name):
    return describe(name)["Status"] in ("Completed", "Cancelled")


with DAG(
    dag_id="@DAG_ID@",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params=shadow_test_params(),
):
    create = CreateInferenceExperimentOperator(
        task_id="create_experiment",
        name="fixed-{{ params.endpoint_name }}-{{ ts_nodash | lower }}",
        endpoint_name="{{ params.endpoint_name }}",
        role_arn="{{ params.role_arn }}",
        shadow_model_name="{{ params.candidate_model }}",
        sampling_percentage="{{ params.sampling_percent }}",
        duration="{{ params.observation_seconds + params.decision_window_seconds }}",
    )
    evaluate = EvaluateInferenceExperimentOperator(
        task_id="evaluate",
        experiment_name=EXPERIMENT,
        max_latency_increase_percent="{{ params.max_latency_increase_percent }}",
        max_error_rate_increase_percentage_points="{{ params.max_error_rate_increase_percentage_points }}",
        min_shadow_invocations="{{ params.min_shadow_invocations }}",
        promote_task_ids="promote",
        reject_task_ids="keep_production",
        inconclusive_task_ids="keep_production",
    )
    promote = StopInferenceExperimentOperator(task_id="promote", experiment_name=EXPERIMENT, promote=True)
    keep = StopInferenceExperimentOperator(task_id="keep_production", experiment_name=EXPERIMENT, promote=False)
    done = wait_for_completed.override(trigger_rule="none_failed_min_one_success")(EXPERIMENT)
    running = wait_for_running(EXPERIMENT)
    observe = observe_traffic(EXPERIMENT, "{{ params.observation_seconds }}")
    create >> running >> observe >> evaluate >> [promote, keep] >> done
'''


def run_pipeline(
    work: Path, home: Path, emulator: Emulator, *, dag_id: str, dags_folder: Path, window: int, poke_seconds: float
) -> tuple[dict[str, int], str, float]:
    """Run one pipeline; return its emulator's request counts, the serving model and the run time."""
    pipeline = Pipeline(f"bench-{window}", "bench-prod", "bench-candidate", "better", observation_seconds=window)
    sagemaker = emulator.client()
    setup_endpoint(sagemaker, pipeline)
    emulator.reset_counts()
    env = airflow_env(
        home,
        emulator,
        poke_seconds=poke_seconds,
        dags_folder=dags_folder,
        PYTHONPATH=os.pathsep.join(p for p in (str(EXAMPLE_DAGS), os.environ.get("PYTHONPATH", "")) if p),
    )
    run = DagsTest.start(env, pipeline.conf(), work / f"dags-test-{dag_id}-{window}.log", dag_id=dag_id)
    code = run.wait(timeout_seconds=window + 600)
    seconds = run.seconds()
    counts = emulator.stats()
    if code != 0:
        raise RuntimeError(f"{dag_id} (window {window} s) exited {code}:\n{run.tail(30)}")
    return counts, production_model(sagemaker, pipeline.endpoint), seconds


def print_table(window: int, poke_seconds: float, ours: dict[str, int], fixed: dict[str, int]) -> None:
    print(f"\nobservation window {window} s, poke interval {poke_seconds:g} s")
    print(f"  {'operation':<34} {'schedule-aware':>15} {'fixed-interval':>15}")
    for operation in sorted(set(ours) | set(fixed)):
        print(f"  {operation:<34} {ours.get(operation, 0):>15} {fixed.get(operation, 0):>15}")
    total_ours, total_fixed = sum(ours.values()), sum(fixed.values())
    print(f"  {'total':<34} {total_ours:>15} {total_fixed:>15}")
    print(f"  fixed-interval / schedule-aware = {total_fixed / max(total_ours, 1):.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description="Whole-pipeline API calls: schedule-aware vs fixed-interval.")
    parser.add_argument("--windows", type=int, nargs="+", default=[30, 90], help="observation windows (s)")
    parser.add_argument("--poke-interval", type=float, default=2.0, help="sensors' poke interval (s)")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="shadowtest-bench-pipeline-"))
    fixed_dags = work / "fixed-dags"
    fixed_dags.mkdir()
    (fixed_dags / "bench_fixed_interval_promotion.py").write_text(FIXED_DAG.replace("@DAG_ID@", FIXED_DAG_ID))
    jobs = [(window, kind) for window in args.windows for kind in ("ours", "fixed")]
    emulators = {job: Emulator.start(work, name=f"emulator-{job[1]}-{job[0]}") for job in jobs}
    try:
        homes = prepare_homes(
            work, [f"{k}-{w}" for w, k in jobs], airflow_env(work / "unused", next(iter(emulators.values())))
        )
        print(f"running {len(jobs)} pipelines concurrently (logs in {work}) ...", flush=True)
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {
                job: pool.submit(
                    run_pipeline,
                    work,
                    homes[f"{job[1]}-{job[0]}"],
                    emulators[job],
                    dag_id=DAG_ID if job[1] == "ours" else FIXED_DAG_ID,
                    dags_folder=EXAMPLE_DAGS if job[1] == "ours" else fixed_dags,
                    window=job[0],
                    poke_seconds=args.poke_interval,
                )
                for job in jobs
            }
            results = {job: future.result() for job, future in futures.items()}
    finally:
        for emulator in emulators.values():
            emulator.stop()

    for (window, kind), (_, serving, seconds) in sorted(results.items()):
        if serving != "bench-candidate":
            print(f"error: {kind} pipeline (window {window} s) did not promote: endpoint serves {serving!r}")
            return 1
        print(f"{kind:>5} pipeline, window {window:>3} s: promoted in {seconds:.0f} s")
    summary = []
    for window in args.windows:
        ours, fixed = results[(window, "ours")][0], results[(window, "fixed")][0]
        print_table(window, args.poke_interval, ours, fixed)
        summary.append(f"{window} s: {sum(ours.values())} vs {sum(fixed.values())}")
    print(f"\ntotal calls (schedule-aware vs fixed-interval): {'; '.join(summary)}")
    print(f"benchmark took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
