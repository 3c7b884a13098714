"""Measure what 1,000 sleeping InferenceExperimentTriggers cost the triggerer: memory, CPU, API calls.

The triggerer runs every deferred wait as an asyncio task in one event loop (default capacity:
1,000 triggers). This script creates ``--count`` shadow tests on the emulator, each scheduled
to start ``--start-in`` seconds later, then runs ``--count`` concurrent waits for ``Running`` in
one event loop, in a fresh subprocess per variant:

- ``trigger``: :class:`InferenceExperimentTrigger`; it Describes once, sees the start is
  minutes away and sleeps until then with no AWS client open;
- ``polling``: fixed-interval polling in the style of the Amazon provider's
  ``AwsBaseWaiterTrigger`` (one async client opened per wait and kept open, Describe every
  ``poke_interval`` seconds).

Both use the same ``--poke-interval`` (default 5 s), so the comparison is fair. For each
variant it prints the resident memory added per wait (VmRSS after gc, all waits settled, minus
the RSS before they started, with one warm-up call already made), the process CPU time used
during a ``--window`` of sleeping, and the DescribeInferenceExperiment calls the emulator
received in that window. Targets: under 50 KB per sleeping trigger and near-zero CPU.

    python benchmarks/bench_triggerer_footprint.py [--count 1000] [--window 20] [--poke-interval 5]
        [--variants trigger,polling]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

REGION = "us-east-1"
DESCRIBE = "DescribeInferenceExperiment"
TARGET_KB_PER_TRIGGER = 50.0
#: "near-zero CPU": under this share of one core while the triggers sleep.
TARGET_CPU_PERCENT = 1.0
ROLE_ARN = "arn:aws:iam::123456789012:role/shadowtest-benchmark"

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(FAKE_AWS)


# -- the emulator ------------------------------------------------------------------------------
def start_server() -> tuple[subprocess.Popen[str], str]:
    """Start the emulator server subprocess; return it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_shadowtest.testing.server", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.terminate()
        raise RuntimeError(f"emulator server did not start: {line!r}")
    return process, line.removeprefix("listening on ")


def describe_count(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_shadowtest/stats", timeout=30) as response:
        return int(json.load(response).get(DESCRIBE, 0))


def experiment_name(index: int) -> str:
    return f"footprint-{index:04d}"


def create_experiments(url: str, count: int, start_in: float) -> float:
    """Create ``count`` endpoints, each with a shadow test starting ``start_in`` s from now; return seconds taken."""
    import boto3
    from botocore.config import Config

    from airflow_provider_shadowtest.testing import create_endpoint, create_model, shadow_test_request

    began = time.monotonic()
    client = boto3.client("sagemaker", region_name=REGION, endpoint_url=url, config=Config(max_pool_connections=16))
    create_model(client, "footprint-production")
    create_model(client, "footprint-shadow")
    now = dt.datetime.now(dt.timezone.utc)
    schedule = {"StartTime": now + dt.timedelta(seconds=start_in), "EndTime": now + dt.timedelta(days=1)}

    def one(index: int) -> None:
        endpoint = f"footprint-endpoint-{index:04d}"
        create_endpoint(client, endpoint, "footprint-production", create_model_if_missing=False)
        request = shadow_test_request(
            experiment_name(index), endpoint, "footprint-production", "footprint-shadow", Schedule=schedule
        )
        client.create_inference_experiment(**request)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))
    return time.monotonic() - began


# -- one variant, in a fresh process ------------------------------------------------------------
def rss_kb(field: str = "VmRSS") -> int:
    """Resident set size (or ``VmHWM``, its peak) of this process in KiB, from /proc/self/status."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def polling_trigger_class() -> type:
    """A fixed-interval polling wait shaped like the Amazon provider's AwsBaseWaiterTrigger.

    It opens one async client and keeps it open for the whole wait, Describing every
    ``poke_interval`` seconds (``async_wait``: ``waiter.wait(MaxAttempts=1)`` then sleep).
    """
    from airflow.triggers.base import BaseTrigger, TriggerEvent

    from airflow_provider_shadowtest.connection import ConnectionSettings

    class FixedIntervalPollingTrigger(BaseTrigger):
        def __init__(self, experiment_name: str, target_statuses: list[str], poke_interval: float) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.experiment_name = experiment_name
            self.target_statuses = target_statuses
            self.poke_interval = poke_interval

        def serialize(self) -> tuple[str, dict[str, Any]]:
            return (
                f"{type(self).__module__}.{type(self).__qualname__}",
                {
                    "experiment_name": self.experiment_name,
                    "target_statuses": self.target_statuses,
                    "poke_interval": self.poke_interval,
                },
            )

        async def run(self) -> AsyncIterator[TriggerEvent]:
            hook = ConnectionSettings(aws_conn_id="aws_default").build_hook()
            async with await hook.get_async_conn() as client:  # type: ignore[no-untyped-call]
                while True:
                    described = await client.describe_inference_experiment(Name=self.experiment_name)
                    if described["Status"] in self.target_statuses:
                        yield TriggerEvent({"status": "success"})  # type: ignore[no-untyped-call]
                        return
                    await asyncio.sleep(self.poke_interval)

    return FixedIntervalPollingTrigger


async def _consume(trigger: Any) -> None:
    async for _event in trigger.run():
        return


async def _describe_once(url: str, name: str) -> None:
    """Warm-up: import and load everything a wait needs once (service model, session, client class)."""
    from airflow_provider_shadowtest.connection import ConnectionSettings

    hook = ConnectionSettings(aws_conn_id="aws_default").build_hook()
    async with await hook.get_async_conn() as client:  # type: ignore[no-untyped-call]
        await client.describe_inference_experiment(Name=name)


async def measure(variant: str, url: str, count: int, poke_interval: float, window: float) -> dict[str, Any]:
    """Run ``count`` waits of ``variant`` in this event loop; return the measured figures."""
    from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

    polling = polling_trigger_class()
    loop = asyncio.get_running_loop()
    await _describe_once(url, experiment_name(0))
    gc.collect()
    await asyncio.sleep(0.5)
    baseline_kb = rss_kb()
    baseline_blocks = sys.getallocatedblocks()
    before = await loop.run_in_executor(None, describe_count, url)

    def make(index: int) -> Any:
        name = experiment_name(index)
        if variant == "trigger":
            return InferenceExperimentTrigger(
                experiment_name=name, target_statuses=["Running"], poke_interval=poke_interval
            )
        return polling(name, ["Running"], poke_interval)

    started = time.monotonic()
    tasks = [asyncio.create_task(_consume(make(i))) for i in range(count)]
    # Settled: every wait has made its first Describe and gone to sleep.
    while await loop.run_in_executor(None, describe_count, url) < before + count:
        if time.monotonic() - started > 180:
            raise RuntimeError(f"{variant}: the waits did not all start within 180 s")
        if any(t.done() for t in tasks):
            failed = next(t for t in tasks if t.done())
            raise RuntimeError(f"{variant}: a wait ended early: {failed.exception() or 'an event'}")
        await asyncio.sleep(0.5)
    settle_seconds = time.monotonic() - started
    await asyncio.sleep(2.0)
    gc.collect()
    settled_kb = rss_kb()
    peak_kb = rss_kb("VmHWM")
    blocks = sys.getallocatedblocks() - baseline_blocks

    describes_before = await loop.run_in_executor(None, describe_count, url)
    cpu_before = time.process_time()
    await asyncio.sleep(window)
    cpu_seconds = time.process_time() - cpu_before
    describes_in_window = await loop.run_in_executor(None, describe_count, url) - describes_before
    still_waiting = sum(not t.done() for t in tasks)

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pool: dict[str, int] = {}
    if variant == "trigger":
        from airflow_provider_shadowtest.hooks.async_client_pool import client_pool

        shared = client_pool()
        pool = {"sessions_built": shared.sessions_built, "clients_opened": shared.clients_opened}
    return {
        "pool": pool,
        "variant": variant,
        "count": count,
        "still_waiting": still_waiting,
        "settle_seconds": settle_seconds,
        "rss_added_kb": settled_kb - baseline_kb,
        "peak_added_kb": peak_kb - baseline_kb,
        "blocks_per_wait": blocks / count,
        "kb_per_wait": (settled_kb - baseline_kb) / count,
        "cpu_seconds": cpu_seconds,
        "window_seconds": window,
        "describes_in_window": describes_in_window,
    }


def child(args: argparse.Namespace) -> int:
    result = asyncio.run(measure(args.child, args.url, args.count, args.poke_interval, args.window))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_variant(variant: str, url: str, args: argparse.Namespace, home: str) -> dict[str, Any]:
    connection = {"conn_type": "aws", "extra": {"endpoint_url": url, "region_name": REGION}}
    env = {
        **os.environ,
        **FAKE_AWS,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection),
    }
    command = [
        sys.executable,
        __file__,
        "--child",
        variant,
        "--url",
        url,
        "--count",
        str(args.count),
        "--poke-interval",
        str(args.poke_interval),
        "--window",
        str(args.window),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.window + 300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{variant} run failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1].removeprefix("RESULT ")))


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, setup_seconds: float) -> None:
    variants = [key for key in ("trigger", "polling") if key in results]
    print(
        f"\n{args.count} concurrent waits for Running in one event loop, scheduled start {args.start_in:g} s ahead; "
        f"poke_interval {args.poke_interval:g} s for both variants; CPU window {args.window:g} s"
    )
    print(f"setup: {args.count} endpoints + shadow tests created on the emulator in {setup_seconds:.1f} s\n")
    header = f"{'variant':<34}{'RSS added/wait':>16}{'RSS added':>12}{'CPU in window':>16}{'% of a core':>13}"
    print(header + f"{'Describes in window':>21}{'live blocks/wait':>18}{'settled in':>12}")
    names = {"trigger": "InferenceExperimentTrigger", "polling": "fixed-interval polling (AwsBase-style)"}
    for key in variants:
        r = results[key]
        percent = 100 * r["cpu_seconds"] / r["window_seconds"]
        print(
            f"{names[key]:<34}{r['kb_per_wait']:>13.1f} KB{r['rss_added_kb'] / 1024:>9.1f} MB"
            f"{r['cpu_seconds']:>14.3f} s{percent:>11.2f} %{r['describes_in_window']:>21}"
            f"{r['blocks_per_wait']:>18.0f}{r['settle_seconds']:>10.1f} s"
        )

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "n/a (trigger: 0)"

    waiting = {k: results[k]["still_waiting"] for k in variants}
    print(f"(waits still pending at the end of the window: {waiting}; 'live blocks' counts Python heap objects)")
    peaks = {k: f"{results[k]['peak_added_kb'] / 1024:.1f} MB" for k in variants}
    print(f"peak RSS added while settling: {peaks}")
    if results.get("trigger", {}).get("pool"):
        print(f"trigger client pool (whole run): {results['trigger']['pool']}")
    if "trigger" not in results:
        return
    trig = results["trigger"]
    if "polling" in results:
        poll = results["polling"]
        print(
            f"\npolling / trigger: memory {ratio(poll['kb_per_wait'], trig['kb_per_wait'])}, "
            f"CPU {ratio(poll['cpu_seconds'], trig['cpu_seconds'])}, "
            f"Describe calls {poll['describes_in_window']} vs {trig['describes_in_window']}"
        )
    memory_ok = trig["kb_per_wait"] < TARGET_KB_PER_TRIGGER
    cpu_percent = 100 * trig["cpu_seconds"] / trig["window_seconds"]
    cpu_ok = cpu_percent < TARGET_CPU_PERCENT
    print(
        f"targets: < {TARGET_KB_PER_TRIGGER:g} KB per sleeping trigger: "
        f"{'met' if memory_ok else 'NOT met'} ({trig['kb_per_wait']:.1f} KB); "
        f"near-zero CPU (< {TARGET_CPU_PERCENT:g} % of a core): {'met' if cpu_ok else 'NOT met'} ({cpu_percent:.2f} %)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="concurrent waits (default 1000)")
    parser.add_argument("--window", type=float, default=20.0, help="CPU measurement window, s (default 20)")
    parser.add_argument("--poke-interval", type=float, default=5.0, help="both variants' poll interval, s (default 5)")
    parser.add_argument(
        "--start-in", type=float, default=900.0, help="scheduled start, s after setup; must lie beyond the run (900)"
    )
    parser.add_argument(
        "--variants", default="trigger,polling", help="comma-separated: trigger, polling (default both)"
    )
    parser.add_argument("--child", choices=["trigger", "polling"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    variants = [v for v in ("trigger", "polling") if v in args.variants.split(",")]
    if not variants:
        parser.error(f"--variants: none of trigger, polling in {args.variants!r}")
    began = time.monotonic()
    server, url = start_server()
    try:
        setup_seconds = create_experiments(url, args.count, args.start_in)
        with tempfile.TemporaryDirectory(prefix="shadowtest-footprint-") as home:
            results = {variant: run_variant(variant, url, args, home) for variant in variants}
        if time.monotonic() - began >= args.start_in:
            print("warning: the scheduled start passed during the run; use a larger --start-in", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(results, args, setup_seconds)
    print(f"\ntotal run time {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
