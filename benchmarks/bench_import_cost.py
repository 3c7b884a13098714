"""DAG-parse cost: incremental import time of our DAG-facing modules against the Amazon provider's.

Both sides are measured in this interpreter's venv, interleaved, each import in a fresh
interpreter that first imports ``airflow.sdk`` (every DAG file does) and then times importing
the modules under test. Anchor: the Amazon provider's ``operators.sagemaker`` +
``sensors.sagemaker``. Goal: ours at most 0.10 of the anchor, with bytecode present.

The bytecode state is set, not assumed (this machine sets ``PYTHONDONTWRITEBYTECODE=1``, so a
venv may hold no ``.pyc`` at all):

- *with bytecode*: before measuring, every module either side loads gets an up-to-date ``.pyc``
  in its ``__pycache__`` (``py_compile``; the count already present and compiled now is printed);
  this is what an install with ``--compile-bytecode`` gives (``make install`` and CI do that);
- *from source*: ``-X pycache_prefix`` points at an empty directory and writing is off, so every
  module is compiled on import, as in a venv installed without bytecode.

    python benchmarks/bench_import_cost.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import py_compile
import statistics
import subprocess
import sys
import tempfile

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
GOAL_RATIO = 0.10

_PROBE = """
import importlib, json, sys, time
import airflow.sdk  # what every DAG file already paid for
t0 = time.perf_counter()
for name in {modules!r}:
    importlib.import_module(name)
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""

_LOADED = """
import importlib, json, sys
import airflow.sdk
for name in {modules!r}:
    importlib.import_module(name)
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps(sorted({{f for f in files if f and f.endswith(".py")}})))
"""


def _python(code: str, *, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, *extra_args, "-c", code], capture_output=True, text=True, check=True, timeout=180, env=env
    )
    return out.stdout.strip().splitlines()[-1]


def compile_loaded_modules() -> tuple[int, int]:
    """Give every module the probes load an up-to-date ``.pyc``; return (already present, compiled now)."""
    files = json.loads(_python(_LOADED.format(modules=OURS + THEIRS)))
    present = compiled = 0
    for source in files:
        cached = importlib.util.cache_from_source(source)
        if os.path.exists(cached) and os.path.getmtime(cached) >= os.path.getmtime(source):
            present += 1
            continue
        try:
            py_compile.compile(source, cfile=cached, doraise=True)
            compiled += 1
        except (OSError, py_compile.PyCompileError) as err:  # read-only site-packages: say so, do not hide it
            print(f"could not compile {source}: {err}", file=sys.stderr)
    return present, compiled


def measure(modules: list[str], *, from_source: str | None) -> tuple[float, list[str]]:
    """Import ``modules`` after airflow.sdk in a fresh interpreter; return seconds and heavy modules seen.

    :param from_source: an empty directory to use as ``pycache_prefix`` (no bytecode found, none
        written), or None to use the ``__pycache__`` next to each source.
    """
    env = dict(os.environ)
    extra: tuple[str, ...] = ()
    if from_source is not None:
        extra = ("-X", f"pycache_prefix={from_source}")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = json.loads(_python(_PROBE.format(modules=modules, heavy=HEAVY), extra_args=extra, env=env))
    return float(result["seconds"]), list(result["heavy"])


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    present, compiled = compile_loaded_modules()
    print(f"venv: {sys.prefix}")
    print(
        f"bytecode: {present + compiled} modules loaded by the probes; {present} had an up-to-date .pyc, "
        f"{compiled} compiled now (py_compile into __pycache__)"
    )
    samples: dict[tuple[str, str], list[float]] = {}
    heavy_ours: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-no-pyc-") as empty:
        for _ in range(args.repeat):  # interleaved so drift hits both sides and both states alike
            for state, prefix in (("bytecode", None), ("source", empty)):
                seconds, heavy = measure(OURS, from_source=prefix)
                samples.setdefault(("ours", state), []).append(seconds)
                if state == "bytecode":
                    heavy_ours = heavy
                seconds, _heavy = measure(THEIRS, from_source=prefix)
                samples.setdefault(("amazon", state), []).append(seconds)

    print(f"repetitions: {args.repeat} (fresh interpreter each, after `import airflow.sdk`; medians)")
    print(f"{'':24s}{'ours':>10s}{'amazon':>10s}{'ratio':>8s}")
    ratios: dict[str, float] = {}
    for state, label in (("bytecode", "with bytecode"), ("source", "from source (no .pyc)")):
        ours_ms = _median_ms(samples[("ours", state)])
        theirs_ms = _median_ms(samples[("amazon", state)])
        ratios[state] = ours_ms / theirs_ms
        print(f"{label:24s}{ours_ms:8.1f}ms{theirs_ms:8.1f}ms{ratios[state]:8.3f}")
    print(f"goal: ratio with bytecode <= {GOAL_RATIO:.2f}: {'met' if ratios['bytecode'] <= GOAL_RATIO else 'NOT met'}")
    print(f"heavy modules loaded by ours: {heavy_ours or 'none'}")
    return 0 if ratios["bytecode"] <= GOAL_RATIO and not heavy_ours else 1


if __name__ == "__main__":
    sys.exit(main())
