"""The capture gate joined to a statistical verdict, and the verdict shaped for the HTML report."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_shadowtest.verdict import judge, settings_from_thresholds
from airflow_provider_shadowtest.verdict.combine import apply_capture
from airflow_provider_shadowtest.verdict.html_report import render_html_report
from tests.verdict.factory import make_evidence

SETTINGS = settings_from_thresholds()


def capture(*decisions: str, critical: bool = True) -> dict[str, Any]:
    checks = [
        {
            "name": f"check_{i}",
            "metric": "agreement_percent",
            "estimate": 90.0,
            "interval_low": 89.0,
            "interval_high": 91.0,
            "allowed_limit": 95.0,
            "decision": decision,
            "reason": f"reason {i}",
            "critical": critical,
        }
        for i, decision in enumerate(decisions)
    ]
    return {"checks": checks, "pairing": {}}


@pytest.fixture(scope="module")
def promote() -> dict[str, Any]:
    document = judge(make_evidence(minutes=120, per_minute=300), SETTINGS).to_json()
    assert document["decision"] == "PROMOTE"
    return document


@pytest.mark.parametrize(
    ("decisions", "critical", "expected"),
    [
        (("pass", "pass"), True, "PROMOTE"),
        (("pass", "fail"), True, "REJECT"),
        (("pass", "inconclusive"), True, "INCONCLUSIVE"),
        (("fail",), False, "PROMOTE"),  # a non-critical check is reported only
    ],
)
def test_capture_gate(promote: dict[str, Any], decisions: tuple[str, ...], critical: bool, expected: str) -> None:
    combined = apply_capture(promote, capture(*decisions, critical=critical), "## Prediction agreement\n")
    assert combined["decision"] == expected
    assert combined["report_markdown"].startswith(f"### Shadow test verdict: {expected}")
    assert combined["report_markdown"].rstrip().endswith("## Prediction agreement")
    assert promote["decision"] == "PROMOTE"  # the input is not changed
    if expected != "PROMOTE":
        assert combined["reasons"][-1].startswith("prediction agreement: reason")


def test_a_failing_capture_check_keeps_a_reject_and_adds_its_reason() -> None:
    rejected = judge(make_evidence(error_5xx=0.03), SETTINGS).to_json()
    combined = apply_capture(rejected, capture("fail"), "")
    assert combined["decision"] == "REJECT"
    assert combined["reasons"][: len(rejected["reasons"])] == rejected["reasons"]
    assert combined["reasons"][-1] == "prediction agreement: reason 0"


def test_the_html_report_shows_the_agreement_section(promote: dict[str, Any]) -> None:
    html = render_html_report(apply_capture(promote, capture("pass", "fail"), ""))
    assert '<section id="prediction-agreement">' in html
    assert 'data-check="check_1"' in html
    assert 'data-decision="REJECT"' in html
