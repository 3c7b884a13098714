"""Pure: the statistical verdict's JSON document as a Markdown report a person reads in seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.jsonsafe import utc_text

if TYPE_CHECKING:
    from collections.abc import Mapping

_OUTCOME = {"regression": "**REGRESSION**", "within": "within", "undecided": "undecided", "no_data": "no data"}


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f} ms" if unit == "ms" else f"{value:.2f} %"


def _change(value: float | None, unit: str) -> str:
    if value is None:
        return "?"
    return f"{value:+.1f} %" if unit == "percent" else f"{value:+.2f} pp"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_statistical_markdown(document: Mapping[str, Any]) -> str:
    """Render the decision, the window (warm-up, lag), a table of checks with intervals, and the reasons."""
    window = document["window"]
    variants = document["variants"]
    lines = [f"### Shadow test verdict: {document['decision']}", ""]
    subject = [f"Experiment `{document['experiment_name']}`"] if document.get("experiment_name") else []
    subject += [f"endpoint `{document['endpoint_name']}`"] if document.get("endpoint_name") else []
    lines.append(
        (" on ".join(subject) + "; " if subject else "")
        + f"production `{variants['production']}` vs shadow `{variants['shadow']}`; "
        f"judged {utc_text(window['start'])} to {utc_text(window['end'])} ({window['judged_seconds'] / 60:,.0f} min at "
        f"{window['period_seconds']} s periods), after a {window['warmup_seconds']:g} s warm-up and "
        f"leaving a {window['lag_seconds']:g} s CloudWatch lag; intervals at "
        f"{document['confidence_percent']:g} % confidence (a regression must also clear its check's "
        "REJECT bound, corrected for the number of critical checks)."
    )
    invocations = document["invocations"]
    lines += [
        "",
        f"Invocations: production {invocations['production']:,.0f}, shadow {invocations['shadow']:,.0f}.",
        "",
        "| Check | Production | Shadow | Change | Interval | REJECT bound | Allowed | Critical | Result |",
        "|:--|--:|--:|--:|--:|--:|--:|:--|:--|",
    ]
    for check in document["checks"]:
        unit = check["allowed_increase_unit"]
        interval = check["interval"]
        bounds = "-" if interval is None else f"[{_change(interval['low'], unit)}, {_change(interval['high'], unit)}]"
        cells = [
            check["label"],
            _value(check["production"], check["unit"]),
            _value(check["shadow"], check["unit"]),
            "-" if check["change"] is None else _change(check["change"], unit),
            bounds,
            "-"
            if check["reject_low"] is None
            else f"{_change(check['reject_low'], unit)} at {check['reject_confidence_percent']:.4g} %",
            f"<= {_change(check['allowed_increase'], unit)}",
            "yes" if check["critical"] else "no",
            _OUTCOME[check["outcome"]],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    instance = document.get("instance_metrics") or {}
    if instance:
        lines += ["", "| Instance metric (mean %) | Production | Shadow |", "|:--|--:|--:|"]
        for metric, values in instance.items():
            lines.append(f"| {metric} | {_value(values['production'], '%')} | {_value(values['shadow'], '%')} |")
    sequential = document.get("sequential")
    if sequential:
        lines += [
            "",
            f"Continuous mode: look {sequential['look']} at information fraction "
            f"{sequential['information_fraction']:.2f}, this look's confidence "
            f"{sequential['look_confidence_percent']:.3f} % ({sequential['spending']} alpha spending); "
            f"shadow instance-hours saved: {sequential['instance_hours_saved']:.2f}.",
        ]
    lines += ["", "Reasons:"]
    lines += [f"- {reason}" for reason in document["reasons"]]
    if document.get("notes"):
        lines += ["", "Notes:"]
        lines += [f"- {note}" for note in document["notes"]]
    return "\n".join(lines) + "\n"
