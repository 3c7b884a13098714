"""Count DescribeInferenceExperiment calls of a full create -> Running -> Completed wait.

Two waits per schedule duration, each against its own emulator server (so each server's request
count is that wait's alone), all run concurrently:

- the sensor's logic: ``InferenceExperimentTrigger`` for Running, then for Completed (the same
  ``WaitMachine`` drives the poke and reschedule modes through ``hooks.waiter``);
- fixed-interval polling: Describe every ``poke_interval`` until Running, then until Completed.

Prints both counts and their ratio for each duration. The sensor's count stays flat as the
schedule grows; fixed polling grows linearly with it.

    python benchmarks/bench_sensor_api_calls.py [--durations 20 60] [--poke-interval 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3

from airflow_provider_shadowtest.connection import ConnectionSettings
from airflow_provider_shadowtest.testing import create_endpoint, create_model
from airflow_provider_shadowtest.testing.resources import shadow_test_request
from airflow_provider_shadowtest.triggers.inference_experiment import InferenceExperimentTrigger

REGION = "us-east-1"
START_IN_SECONDS = 5.0
TRANSITION_SECONDS = 1.0

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


@dataclass
class Server:
    """One emulator server process (started here, stopped here)."""

    process: subprocess.Popen[str]
    url: str

    @classmethod
    def launch(cls) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_provider_shadowtest.testing.server",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--transition-seconds",
                str(TRANSITION_SECONDS),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )

    @classmethod
    def ready(cls, process: subprocess.Popen[str]) -> Server:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            process.terminate()
            raise RuntimeError(f"emulator server did not start: {line!r}")
        return cls(process, line.removeprefix("listening on "))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def http(self, method: str, route: str) -> Any:
        request = urllib.request.Request(f"{self.url}{route}", data=b"" if method == "POST" else None, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def describes(self) -> int:
        return int(self.http("GET", "/_shadowtest/stats").get("DescribeInferenceExperiment", 0))


def prepare(server: Server, conn_id: str) -> Any:
    """Point connection ``conn_id`` at ``server`` and create the endpoint; return a SageMaker client."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": server.url, "region_name": REGION}}
    )
    sm = boto3.client("sagemaker", region_name=REGION, endpoint_url=server.url)
    create_model(sm, "shadow-model")
    create_endpoint(sm, "ep", "prod-model")
    return sm


def create_experiment(server: Server, sm: Any, start: dt.datetime, duration: float) -> None:
    """Create the experiment; zero the server's counts so only the wait is counted."""
    schedule = {"StartTime": start, "EndTime": start + dt.timedelta(seconds=duration)}
    sm.create_inference_experiment(**shadow_test_request("exp", "ep", "prod-model", "shadow-model", Schedule=schedule))
    server.http("POST", "/_shadowtest/reset")


async def warm_up(conn_id: str) -> None:
    """Load the SageMaker service model for aiobotocore once, so no wait pays for it."""
    async with await ConnectionSettings(aws_conn_id=conn_id).build_hook().get_async_conn() as client:  # type: ignore[no-untyped-call]
        await client.list_inference_experiments()


async def sensor_wait(conn_id: str, poke_interval: float) -> str:
    status = ""
    for target in ("Running", "Completed"):
        trigger = InferenceExperimentTrigger(
            "exp", [target], poke_interval=poke_interval, connection=ConnectionSettings(aws_conn_id=conn_id)
        )
        async for event in trigger.run():
            if event.payload["status"] != "success":
                raise RuntimeError(f"sensor wait failed: {event.payload}")
            status = event.payload["experiment"]["Status"]
            break
    return status


async def fixed_polling(conn_id: str, poke_interval: float) -> str:
    """What a conventional waiter does: one client, a Describe every ``poke_interval`` seconds."""
    hook = ConnectionSettings(aws_conn_id=conn_id).build_hook()
    status = ""
    async with await hook.get_async_conn() as client:  # type: ignore[no-untyped-call]
        for target in ("Running", "Completed"):
            while True:
                status = str((await client.describe_inference_experiment(Name="exp"))["Status"])
                if status == target:
                    break
                await asyncio.sleep(poke_interval)
    return status


async def run_all(durations: list[float], poke_interval: float) -> list[tuple[float, int, int]]:
    keys = [(duration, kind) for duration in durations for kind in ("sensor", "fixed")]
    launched = {key: Server.launch() for key in keys}  # start the servers in parallel
    servers: dict[tuple[float, str], Server] = {}
    try:
        for key, process in launched.items():
            servers[key] = Server.ready(process)
        clients = {key: prepare(servers[key], f"bench_{key[1]}_{int(key[0])}") for key in keys}
        await warm_up(f"bench_sensor_{int(durations[0])}")
        start = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=START_IN_SECONDS)
        for key in keys:
            create_experiment(servers[key], clients[key], start, key[0])
        waits = []
        for duration in durations:
            waits.append(sensor_wait(f"bench_sensor_{int(duration)}", poke_interval))
            waits.append(fixed_polling(f"bench_fixed_{int(duration)}", poke_interval))
        await asyncio.gather(*waits)
        return [
            (duration, servers[duration, "sensor"].describes(), servers[duration, "fixed"].describes())
            for duration in durations
        ]
    finally:
        for key, process in launched.items():
            servers.get(key, Server(process, "")).stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--durations", type=float, nargs="+", default=[20.0, 60.0], help="schedule lengths, s")
    parser.add_argument("--poke-interval", type=float, default=1.0, help="poke interval of both waits, s")
    args = parser.parse_args()
    started = time.monotonic()
    rows = asyncio.run(run_all(args.durations, args.poke_interval))
    print(
        f"DescribeInferenceExperiment calls for create -> Running -> Completed "
        f"(start {START_IN_SECONDS:g} s after create, transitions {TRANSITION_SECONDS:g} s, "
        f"poke_interval {args.poke_interval:g} s)"
    )
    print(f"{'schedule':>10} {'sensor':>8} {'fixed polling':>14} {'ratio':>8}")
    for duration, sensor, fixed in rows:
        print(f"{duration:>9g}s {sensor:>8d} {fixed:>14d} {fixed / max(sensor, 1):>7.1f}x")
    print(f"(all waits ran concurrently in {time.monotonic() - started:.0f} s)")
    counts = [sensor for _, sensor, _ in rows]
    if max(counts) > min(counts) + 2:
        print("FAIL: the sensor's count grows with the schedule duration")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
