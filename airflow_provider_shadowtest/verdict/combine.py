"""Pure: join the capture checks to a statistical verdict.

The metrics judge (:func:`~airflow_provider_shadowtest.verdict.judge`) decides on latency and
errors; the capture comparison (:mod:`~airflow_provider_shadowtest.verdict.capture`) on what the
candidate answered. A failing critical capture check makes the verdict REJECT; an inconclusive
one keeps it from being PROMOTE (INCONCLUSIVE instead), whatever the metrics said.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

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
