"""Pure: join the capture checks to a statistical verdict, and shape the verdict for the HTML report.

The metrics judge (:func:`~airflow_provider_shadowtest.verdict.judge`) decides on latency and
errors; the capture comparison (:mod:`~airflow_provider_shadowtest.verdict.capture`) on what the
candidate answered. A failing critical capture check makes the verdict REJECT; an inconclusive
one keeps it from being PROMOTE (INCONCLUSIVE instead), whatever the metrics said.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.jsonsafe import to_utc_iso
from airflow_provider_shadowtest.verdict.stat_report import render_statistical_markdown

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


def capture_decision(checks: Sequence[Mapping[str, Any]]) -> str:
    """``"fail"`` when a critical capture check failed, ``"inconclusive"`` when one is, else ``"pass"``."""
    critical = [c for c in checks if c.get("critical", True)]
    if any(c.get("decision") == "fail" for c in critical):
        return "fail"
    if any(c.get("decision") == "inconclusive" for c in critical):
        return "inconclusive"
    return "pass"


def apply_capture(document: Mapping[str, Any], capture: Mapping[str, Any], capture_markdown: str) -> dict[str, Any]:
    """Return a copy of the verdict ``document`` with the capture comparison joined.

    :param document: a statistical verdict's JSON (``StatisticalVerdict.to_json()``).
    :param capture: ``ComparisonResult.to_json()`` (``checks`` plus the figures behind them).
    :param capture_markdown: ``render_capture_markdown(result)``, appended to the Markdown report.
    """
    out = copy.deepcopy(dict(document))
    checks = [dict(c) for c in capture.get("checks") or []]
    outcome = capture_decision(checks)
    out["capture"] = {**copy.deepcopy(dict(capture)), "decision": outcome}
    reasons = list(out.get("reasons") or [])
    failed = [c for c in checks if c.get("critical", True) and c.get("decision") == "fail"]
    pending = [c for c in checks if c.get("critical", True) and c.get("decision") == "inconclusive"]
    if outcome == "fail":
        if out["decision"] != "REJECT":
            out["decision"] = "REJECT"
            reasons = []
        reasons += [f"prediction agreement: {c['reason']}" for c in failed]
    elif outcome == "inconclusive" and out["decision"] == "PROMOTE":
        out["decision"] = "INCONCLUSIVE"
        reasons = [f"prediction agreement: {c['reason']}" for c in pending]
    elif out["decision"] == "PROMOTE":
        reasons.append("prediction agreement: every critical capture check passed")
    out["reasons"] = reasons
    out["report_markdown"] = render_statistical_markdown(out) + "\n" + capture_markdown
    return out


def _report_check(check: Mapping[str, Any]) -> dict[str, Any]:
    interval = check.get("interval") or {}
    result = {"regression": "REGRESSION", "within": "within", "undecided": "undecided", "no_data": "no data"}
    return {
        "name": check.get("name"),
        "label": check.get("label"),
        "metric": check.get("metric"),
        "critical": check.get("critical"),
        "unit": check.get("unit"),
        "production": check.get("production"),
        "shadow": check.get("shadow"),
        "change": check.get("change"),
        "interval_low": interval.get("low"),
        "interval_high": interval.get("high"),
        "allowed_increase": check.get("allowed_increase"),
        "threshold_unit": check.get("allowed_increase_unit"),
        "decision": result.get(str(check.get("outcome")), str(check.get("outcome"))),
        "reason": check.get("reason"),
    }


def _capture_report_check(check: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": check.get("name"),
        "label": f"Agreement: {check.get('name')} ({check.get('metric')})",
        "metric": check.get("metric"),
        "critical": check.get("critical"),
        "estimate": check.get("estimate"),
        "interval_low": check.get("interval_low"),
        "interval_high": check.get("interval_high"),
        "threshold": check.get("allowed_limit"),
        "decision": check.get("decision"),
        "reason": check.get("reason"),
    }


def _shifted(moment: Any, seconds: float) -> str | None:
    if not isinstance(moment, str) or not moment:
        return None
    try:
        value = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    return to_utc_iso(value + dt.timedelta(seconds=seconds))


def is_statistical(document: Mapping[str, Any]) -> bool:
    """True for a statistical judge's verdict (intervals nested per check), which the HTML report needs shaped."""
    return "confidence_percent" in document and any(
        isinstance(c, dict) and "outcome" in c for c in document.get("checks") or []
    )


def report_document(
    document: Mapping[str, Any],
    *,
    observed_start: str | None = None,
    observed_end: str | None = None,
    looks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Shape a verdict for :func:`~airflow_provider_shadowtest.verdict.html_report.render_html_report`.

    The report draws the observed range with the warm-up and lag bands, so its window is the
    observed one (``observed_start``: when the shadow started serving; ``observed_end``: the
    last look), not the judged one; checks carry their interval bounds flat; capture checks
    follow the metric checks; continuous mode adds each look and the decision's time. Without
    ``observed_*`` the judged window is widened by the warm-up and the lag; without ``looks``,
    the document's ``looks`` are used.
    """
    window = dict(document.get("window") or {})
    if looks is None:
        looks = [look for look in document.get("looks") or [] if isinstance(look, dict)]
    observed_start = observed_start or _shifted(window.get("start"), -float(window.get("warmup_seconds") or 0))
    observed_end = observed_end or _shifted(window.get("end"), float(window.get("lag_seconds") or 0))
    sequential = document.get("sequential") or {}
    checks = [_report_check(c) for c in document.get("checks") or []]
    out: dict[str, Any] = {
        "decision": document.get("decision"),
        "reasons": list(document.get("reasons") or []) + list(document.get("notes") or []),
        "confidence_level": f"{document.get('confidence_percent', 0):g} %",
        "experiment_name": document.get("experiment_name"),
        "endpoint_name": document.get("endpoint_name"),
        "variants": document.get("variants"),
        "checks": checks,
        "window": {
            "start": observed_start,
            "end": observed_end,
            "warmup_seconds": window.get("warmup_seconds"),
            "lag_seconds": window.get("lag_seconds"),
        },
        "looks": [dict(look) for look in looks],
    }
    capture = document.get("capture")
    if isinstance(capture, dict):
        out["capture"] = {
            **{k: v for k, v in capture.items() if k != "checks"},
            "checks": [_capture_report_check(c) for c in capture.get("checks") or []],
        }
    if looks:
        out["decided_at"] = looks[-1].get("at")
    if sequential:
        out["shadow_instance_hours_saved"] = round(float(sequential.get("instance_hours_saved") or 0.0), 3)
    return out
