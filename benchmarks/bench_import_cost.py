"""DAG-parse cost: incremental import time of our Airflow-facing modules against the Amazon provider's.

Each measurement runs in a fresh interpreter that first imports ``airflow.sdk`` (every DAG file
does), then times importing the modules under test. Several repetitions, medians, one run.
Anchor: the Amazon provider's ``operators.sagemaker`` + ``sensors.sagemaker``. Target: ours < 1/10.

    python benchmarks/bench_import_cost.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

OURS = [
    "airflow_provider_shadowtest.operators.inference_experiment",
    "airflow_provider_shadowtest.operators.evaluate",
    "airflow_provider_shadowtest.sensors.inference_experiment",
    "airflow_provider_shadowtest.links.inference_experiment",
]
THEIRS = [
    "airflow.providers.amazon.aws.operators.sagemaker",
    "airflow.providers.amazon.aws.sensors.sagemaker",
]
HEAVY = ("boto3", "botocore", "aiobotocore", "moto")

_PROBE = """
import importlib, json, sys, time
import airflow.sdk  # what every DAG file already paid for
t0 = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def measure(modules: list[str]) -> tuple[float, list[str]]:
    """Import ``modules`` after airflow.sdk in a fresh interpreter; return seconds and heavy modules seen."""
    code = _PROBE.format(modules=modules, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["seconds"]), list(result["heavy"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ours: list[float] = []
    theirs: list[float] = []
    heavy_ours: list[str] = []
    for _ in range(args.repeat):  # interleaved so drift hits both alike
        seconds, heavy_ours = measure(OURS)
        ours.append(seconds)
        seconds, _heavy = measure(THEIRS)
        theirs.append(seconds)
    ours_ms = statistics.median(ours) * 1000
    theirs_ms = statistics.median(theirs) * 1000
    print(f"repetitions: {args.repeat} (fresh interpreter each, after `import airflow.sdk`)")
    for label, samples, median_ms in (("ours", ours, ours_ms), ("amazon", theirs, theirs_ms)):
        low, high = min(samples) * 1000, max(samples) * 1000
        print(f"{label:7s} median {median_ms:8.1f} ms  (min {low:.1f}, max {high:.1f})")
    print(f"ratio ours/amazon: {ours_ms / theirs_ms:.3f}  (target < 0.100)")
    print(f"heavy modules loaded by ours: {heavy_ours or 'none'}")
    return 0 if ours_ms < theirs_ms / 10 and not heavy_ours else 1


if __name__ == "__main__":
    sys.exit(main())
