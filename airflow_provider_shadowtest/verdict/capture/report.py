"""Pure: the agreement section of the verdict report (Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.capture.agreement import ComparisonResult


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def render_capture_markdown(result: ComparisonResult) -> str:
    """Return the "Prediction agreement" section: checks, pairing, confusion or score figures, problems."""
    d = result.details
    lines = [
        "## Prediction agreement (data capture)",
        "",
        "| check | estimate | interval | limit | decision |",
        "|---|---|---|---|---|",
    ]
    for c in result.checks:
        interval = (
            f"{_number(c['interval_low'])} - {_number(c['interval_high'])}" if c["interval_low"] is not None else "n/a"
        )
        lines.append(
            f"| {c['name']} ({c['metric']}) | {_number(c['estimate'])} | {interval} | "
            f"{_number(c['allowed_limit'])} | {c['decision'].upper()} |"
        )
    lines += ["", *(f"- {c['name']}: {c['reason']}" for c in result.checks), ""]
    p = d["pairing"]
    methods = ", ".join(f"{k} {v}" for k, v in p["by_method"].items())
    lines.append(
        f"Pairs: {p['paired']} ({methods}); unpaired: production {p['unpaired_production']}, "
        f"shadow {p['unpaired_shadow']}; without a readable answer: {p['incomparable']}."
    )
    labels = d.get("labels")
    if labels and labels.get("confusion"):
        lines += ["", "| production | shadow | count |", "|---|---|---|"]
        lines += [f"| {c['production']} | {c['shadow']} | {c['count']} |" for c in labels["confusion"]]
    scores = d.get("scores")
    if scores and scores.get("pairs"):
        diff = ", ".join(f"{k} {_number(v)}" for k, v in scores["abs_difference"].items())
        lines += ["", f"|shadow - production|: {diff}; mean shift {_number(scores['mean_shift'])}."]
    for side, tally in d["problems"].items():
        if tally["counts"]:
            counts = ", ".join(f"{k} {v}" for k, v in tally["counts"].items())
            lines += ["", f"Unusable {side} input: {counts}."]
            lines += [f"  - {example}" for example in tally["examples"]]
    return "\n".join(lines) + "\n"
