"""Pure core of the shadow verdict: thresholds, metrics -> decision, Markdown report.

No Airflow, boto3 or moto imports and no I/O, so operators, the emulator and users' own code
can all call it.
"""

from __future__ import annotations

from airflow_provider_shadowtest.verdict.evaluate import (
    Check,
    Decision,
    VariantMetrics,
    Verdict,
    describe_check,
    evaluate,
)
from airflow_provider_shadowtest.verdict.report import render_markdown
from airflow_provider_shadowtest.verdict.thresholds import VerdictThresholds
from airflow_provider_shadowtest.verdict.window import parse_time, resolve_window

__all__ = [
    "Check",
    "Decision",
    "VariantMetrics",
    "Verdict",
    "VerdictThresholds",
    "describe_check",
    "evaluate",
    "parse_time",
    "render_markdown",
    "resolve_window",
]
