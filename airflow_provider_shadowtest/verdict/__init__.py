"""Pure core of the shadow verdict: thresholds, metrics -> decision, Markdown report.

Two judges: :func:`evaluate` (whole-window point estimates against fixed thresholds, kept for
comparison) and :func:`judge` (per-minute evidence, confidence intervals, INCONCLUSIVE when the
evidence is thin), with :func:`look` for continuous mode's repeated looks.

No Airflow, boto3 or moto imports and no I/O, so operators, the emulator and users' own code
can all call it.
"""

from __future__ import annotations

from airflow_provider_shadowtest.parsing import parse_optional_time as parse_time
from airflow_provider_shadowtest.verdict.evaluate import (
    Check,
    Decision,
    VariantMetrics,
    Verdict,
    describe_check,
    evaluate,
)
from airflow_provider_shadowtest.verdict.evidence import Evidence, VariantSeries, judged_window, restrict
from airflow_provider_shadowtest.verdict.judge import CheckResult, StatisticalVerdict, judge
from airflow_provider_shadowtest.verdict.report import render_markdown
from airflow_provider_shadowtest.verdict.sequential import Look, SequentialPlan, look
from airflow_provider_shadowtest.verdict.settings import CheckSpec, JudgeSettings, settings_from_thresholds
from airflow_provider_shadowtest.verdict.thresholds import VerdictThresholds
from airflow_provider_shadowtest.verdict.window import resolve_window

__all__ = [
    "Check",
    "CheckResult",
    "CheckSpec",
    "Decision",
    "Evidence",
    "JudgeSettings",
    "Look",
    "SequentialPlan",
    "StatisticalVerdict",
    "VariantMetrics",
    "VariantSeries",
    "Verdict",
    "VerdictThresholds",
    "describe_check",
    "evaluate",
    "judge",
    "judged_window",
    "look",
    "parse_time",
    "render_markdown",
    "resolve_window",
    "restrict",
    "settings_from_thresholds",
]
