"""The capture gate joined to a statistical verdict, and the verdict shaped for the HTML report."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_shadowtest.verdict import judge, settings_from_thresholds
from airflow_provider_shadowtest.verdict.combine import apply_capture, is_statistical, report_document
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


def test_report_document_flattens_intervals_and_widens_the_window(promote: dict[str, Any]) -> None:
    assert is_statistical(promote)
    shaped = report_document(apply_capture(promote, capture("pass"), ""))
    latency = next(c for c in shaped["checks"] if c["name"] == "latency_average")
    source = next(c for c in promote["checks"] if c["name"] == "latency_average")
    assert (latency["interval_low"], latency["interval_high"]) == (
        source["interval"]["low"],
        source["interval"]["high"],
    )
    assert latency["decision"] == "within"
    assert shaped["capture"]["checks"][0]["label"] == "Agreement: check_0 (agreement_percent)"
    assert all(c["name"] != "check_0" for c in shaped["checks"])
    # The judged window starts after the 300 s warm-up and ends 180 s before the lag's end.
    assert shaped["window"]["warmup_seconds"] == 300
    assert shaped["window"]["start"] < promote["window"]["start"]
    assert shaped["window"]["end"] > promote["window"]["end"]
    html = render_html_report(shaped)
    assert 'data-check="latency_average"' in html
    assert '<section id="prediction-agreement">' in html
    assert 'data-check="check_0"' in html
    assert f"[{source['interval']['low']:+.2f}, {source['interval']['high']:+.2f}]" in html
