"""Time and size of the HTML report for a 30-minute, a 1-day and a 7-day shadow test at 5 requests/s.

Synthetic per-minute series of both variants (11 metrics each: latency mean/p50/p90/p99, overhead,
invocations, three error counts, CPU and memory), as the verdict carries them. Two sides in one
run: the report as shipped (lines averaged into at most 600 points) and every minute drawn.
Goals: under 2 s and under 1 MB for 7 days.

    python benchmarks/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airflow_provider_shadowtest.verdict.html_report import render_html_report
from tests.verdict.report_data import synthetic_verdict

DURATIONS = (("30 min", 30), ("1 day", 1440), ("7 days", 10_080))
GOAL_SECONDS = 2.0
GOAL_BYTES = 1_000_000


def measure(minutes: int, repeat: int, max_points: int) -> tuple[float, int, int]:
    """Median seconds, bytes and gzip bytes of rendering a verdict with ``minutes`` of series."""
    verdict = synthetic_verdict(minutes)
    times, html = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        html = render_html_report(verdict, max_points_per_line=max_points)
        times.append(time.perf_counter() - started)
    data = html.encode()
    return statistics.median(times), len(data), len(gzip.compress(data))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'test length':<12} {'points/series':>13} | {'as shipped: s':>13} {'KB':>7} {'gzip KB':>8} | "
        f"{'every minute: s':>15} {'KB':>8}"
    )
    met = True
    for label, minutes in DURATIONS:
        seconds, size, packed = measure(minutes, args.repeat, 600)
        all_seconds, all_size, _ = measure(minutes, 1, 10**9)
        print(
            f"{label:<12} {minutes:>13,} | {seconds:>13.3f} {size / 1000:>7.0f} {packed / 1000:>8.0f} | "
            f"{all_seconds:>15.3f} {all_size / 1000:>8.0f}"
        )
        if minutes == 10_080:
            met = seconds < GOAL_SECONDS and size < GOAL_BYTES
    print(f"7-day goal (< {GOAL_SECONDS:g} s, < {GOAL_BYTES / 1e6:g} MB): {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
