"""Pure: the verdict as a Markdown report a person reads in seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_shadowtest.jsonsafe import utc_text

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.evaluate import Check, Verdict

_RESULT = {True: "pass", False: "**FAIL**", None: "n/a"}


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "percent":
        return f"{value:.2f} %"
    return f"{value:,.0f}"


def _change(check: Check) -> str:
    if check.is_data_check:
        return share_text(check.shadow, check.production)
    if check.change is None:
        return "-"
    if check.threshold_unit == "percent":
        return f"{check.change:+.1f} %"
    return f"{check.change:+.2f} pp"


def share_text(shadow: float | None, production: float | None) -> str:
    """The shadow's invocations as a share of production's: what the sampling percentage predicts."""
    if shadow is None or not production:
        return "-"
    return f"{shadow / production * 100:.1f} % of production"


def _allowed(check: Check) -> str:
    if check.is_data_check:
        return f"shadow >= {check.threshold:,.0f}"
    if check.threshold_unit == "percent":
        return f"<= {check.threshold:+g} %"
    return f"<= {check.threshold:+g} pp"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(verdict: Verdict) -> str:
    """Render a heading with the decision, what was compared, a table of checks, and the reasons."""
    lines = [f"### Shadow test verdict: {verdict.decision.value}", ""]
    subject = []
    where = [f"Experiment `{verdict.experiment_name}`"] if verdict.experiment_name else []
    where += [f"endpoint `{verdict.endpoint_name}`"] if verdict.endpoint_name else []
    if where:
        subject.append(" on ".join(where))
    subject.append(f"production `{verdict.production.variant_name}` vs shadow `{verdict.shadow.variant_name}`")
    if verdict.window_start and verdict.window_end:
        subject.append(f"{utc_text(verdict.window_start)} to {utc_text(verdict.window_end)}")
    lines += ["; ".join(subject) + ".", ""]
    lines += [
        "| Check | Production | Shadow | Change | Allowed | Result |",
        "|:--|--:|--:|--:|--:|:--|",
    ]
    for check in verdict.checks:
        cells = [
            check.label,
            _value(check.production, check.unit),
            _value(check.shadow, check.unit),
            _change(check),
            _allowed(check),
            _RESULT[check.passed] + (f" ({check.note})" if check.note else ""),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "Reasons:"]
    lines += [f"- {reason}" for reason in verdict.reasons]
    return "\n".join(lines) + "\n"
