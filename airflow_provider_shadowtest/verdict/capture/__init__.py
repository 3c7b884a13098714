"""Pure: pair the two variants' data-capture records and compare their answers (no I/O).

The hook (:mod:`airflow_provider_shadowtest.hooks.capture`) streams the lines from S3 into a
:class:`CaptureComparison`; the emulator writes them (:mod:`airflow_provider_shadowtest.testing.capture`).
"""

from __future__ import annotations

from airflow_provider_shadowtest.verdict.capture.agreement import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    CaptureComparison,
    ComparisonResult,
)
from airflow_provider_shadowtest.verdict.capture.outputs import InvalidCaptureSettings, OutputField
from airflow_provider_shadowtest.verdict.capture.pairing import PRODUCTION, SHADOW
from airflow_provider_shadowtest.verdict.capture.report import render_capture_markdown
from airflow_provider_shadowtest.verdict.capture.settings import CaptureComparisonSettings

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "PASS",
    "PRODUCTION",
    "SHADOW",
    "CaptureComparison",
    "CaptureComparisonSettings",
    "ComparisonResult",
    "InvalidCaptureSettings",
    "OutputField",
    "render_capture_markdown",
]
