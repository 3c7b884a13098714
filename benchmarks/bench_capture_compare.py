"""Stream N captured records per variant from the emulator's S3, pair them and compare them.

A subprocess runs the emulator server (moto S3 over HTTP on 127.0.0.1) and fills a bucket with
the emulator's own capture writer (:func:`airflow_provider_shadowtest.testing.capture.write_captures`):
``--records`` requests per variant at 10 requests/s, all mirrored to the shadow, 5 minutes of
traffic per object, the candidate disagreeing on 2 % of labels. This process then runs
:meth:`CaptureHook.compare_variants` over the whole window, once for labels and once for
scores, and prints the wall time of each and its own peak RSS (``resource.getrusage``), so the
figures cover S3 streaming, JSON parsing, pairing and the statistics, not the set-up.

Goals (issue 15): 1,000,000 records per variant in under 60 s and under 500 MB peak memory.

    python benchmarks/bench_capture_compare.py [--records 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time

RPS = 10.0  # 600 requests a minute: the traffic simulator's unthinned maximum
START = dt.datetime(2030, 1, 6, 0, 0)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(records: int) -> None:
    """Child: start the emulator, write the captures, print the URL, wait for stdin to close."""
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    from airflow_provider_shadowtest.testing import EmulatorServer
    from airflow_provider_shadowtest.testing.capture import CaptureProfile, CaptureStream, write_captures

    with EmulatorServer("127.0.0.1", 0) as server:
        boto3.client("s3", endpoint_url=server.url, region_name="us-east-1").create_bucket(Bucket="captures")
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        stream = CaptureStream(
            bucket="captures",
            prefix="bench",
            endpoint_name="ep",
            stream="ep/bench",
            production_variant="AllTraffic",
            shadow_variant="shadow",
            shadow_percent=100.0,
            rps=RPS,
            shadow=CaptureProfile(disagreement_rate=0.02),
            csv_content_types=("text/csv",),
            json_content_types=("application/json",),
        )
        began = time.perf_counter()
        end = START + dt.timedelta(seconds=records / RPS)
        written = write_captures(backend.put_object, stream, 0, START, end)
        print(
            json.dumps(
                {
                    "url": server.url,
                    "written": written,
                    "end": end.isoformat(),
                    "write_seconds": time.perf_counter() - began,
                }
            ),
            flush=True,
        )
        sys.stdin.read()
        print(json.dumps({"server_peak_rss_mb": _rss_mb()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="records per variant")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.records)
        return
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
        f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} at start"
    )
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--records", str(args.records)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    ready = json.loads(child.stdout.readline())
    per_variant = ready["written"] / 2
    print(
        f"emulator wrote {ready['written']:,} capture records (~{per_variant:,.0f} per variant) "
        f"in {ready['write_seconds']:.1f} s (set-up, not measured below)"
    )
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")})
    os.environ["AIRFLOW_CONN_AWS_BENCH"] = json.dumps(
        {"conn_type": "aws", "extra": {"endpoint_url": ready["url"], "region_name": "us-east-1"}}
    )
    try:
        from airflow_provider_shadowtest.hooks.capture import CaptureHook
        from airflow_provider_shadowtest.verdict.capture import CaptureComparisonSettings

        hook = CaptureHook(aws_conn_id="aws_bench", region_name="us-east-1")
        hook.conn  # noqa: B018 - build the client before timing
        print(f"peak RSS after imports: {_rss_mb():.0f} MB")
        end = dt.datetime.fromisoformat(ready["end"]).replace(tzinfo=dt.timezone.utc)
        for kind, path in (("label", "$.predicted_label"), ("score", "$.score")):
            settings = CaptureComparisonSettings.from_mapping({"output": {"kind": kind, "json_path": path}})
            began, cpu = time.perf_counter(), _cpu_seconds()
            result = hook.compare_variants(
                destination="s3://captures/bench",
                endpoint_name="ep",
                production_variant="AllTraffic",
                shadow_variant="shadow",
                start=START.replace(tzinfo=dt.timezone.utc),
                end=end,
                settings=settings,
            )
            seconds, cpu = time.perf_counter() - began, _cpu_seconds() - cpu
            records = result.details["records"]
            lines = records["production"]["lines"] + records["shadow"]["lines"]
            print(
                f"{kind}: {seconds:.1f} s wall, {cpu:.1f} s CPU in this process, for {lines:,} lines "
                f"({lines / seconds:,.0f} lines/s), "
                f"{records['shadow']['objects']} objects per variant, "
                f"pairs {result.details['pairing']['paired']:,}, peak RSS so far {_rss_mb():.0f} MB"
            )
            for check in result.checks:
                print(f"    {check['name']}: {check['decision']} - {check['reason']}")
            verdict = "met" if seconds < 60 and _rss_mb() < 500 else "NOT met"
            print(f"    goals (< 60 s, < 500 MB peak RSS): {verdict}")
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    finally:
        child.stdin.close()
        print(child.stdout.read().strip())
        child.wait(timeout=60)


if __name__ == "__main__":
    main()
