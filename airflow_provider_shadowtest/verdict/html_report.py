"""Pure: the verdict as a self-contained HTML report with per-minute charts (no external assets, no I/O).

:func:`render_html_report` takes the verdict JSON as the evaluate operator returns it and reads
what is present, tolerating both today's checks and the statistical judge's. Recognised keys
(all optional)::

    decision, reasons, notes, confidence_percent | confidence_level, experiment_name, endpoint_name,
    variants {production, shadow}                       # variant names
    checks [{name, label, metric, critical, unit, production, shadow,
             change | estimate, interval {low, high} | interval_low + interval_high,
             allowed_increase | threshold, allowed_increase_unit | threshold_unit,
             outcome | decision | passed, reason | note}]
    window {start, end, warmup_seconds, lag_seconds}    # the judged window: warm-up is shaded
                                                        # before start, the lag after end
    sequential {look, planned_looks, decided_early, instance_hours_saved}   # continuous mode
    looks [{at | time, decision}], decided_at           # continuous mode: each look, the decision
    thresholds {...}, settings {...}
    series {...}                                        # see verdict.report_series
    experiment {...}                                    # DescribeInferenceExperiment's answer

``series`` and ``experiment`` may also be passed separately (they win over the verdict's).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Any, Final

from airflow_provider_shadowtest.verdict.report import share_text
from airflow_provider_shadowtest.verdict.report_series import (
    MAX_POINTS,
    error_rate_points,
    read_series,
    reduce_points,
    to_epoch_seconds,
)
from airflow_provider_shadowtest.verdict.report_style import REPORT_CSS
from airflow_provider_shadowtest.verdict.svg_chart import Band, Line, Marker, render_chart

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_shadowtest.verdict.report_series import Point

_ROLES: Final = ("production", "shadow")
_LATENCY_STATS: Final = ("average", "p50", "p90", "p99")
_ERRORS: Final = (("4xx", "Invocation4XXErrors", "4XX"), ("5xx", "Invocation5XXErrors", "5XX"))
_ERRORS_ALL: Final = (*_ERRORS, ("model", "InvocationModelErrors", "Model"))
_UTILIZATION: Final = (
    ("CPUUtilization", "CPU utilization"),
    ("MemoryUtilization", "Memory utilization"),
    ("DiskUtilization", "Disk utilization"),
    ("GPUUtilization", "GPU utilization"),
    ("GPUMemoryUtilization", "GPU memory utilization"),
)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _time_text(value: Any) -> str:
    at = to_epoch_seconds(value.isoformat() if isinstance(value, dt.datetime) else value)
    if at is None:
        return _e(value) if value not in (None, "") else "-"
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _number_cell(value: Any, unit: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return '<td class="num">-</td>'
    if unit == "ms":
        text = f"{value:,.2f} ms"
    elif unit in ("percent", "%"):
        text = f"{value:.2f} %"
    elif unit in ("percentage_points", "pp"):
        text = f"{value:+.2f} pp"
    elif unit == "change_percent":
        text = f"{value:+.1f} %"
    else:
        text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:,.3g}"
    return f'<td class="num" data-value="{float(value)!r}">{_e(text)}</td>'


def _check_result(check: Mapping[str, Any]) -> str:
    for key in ("outcome", "decision"):
        value = check.get(key)
        if isinstance(value, str) and value:
            return value.replace("_", " ")
    return {True: "pass", False: "FAIL", None: "n/a"}.get(check.get("passed"), "n/a")


def _checks_table(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return '<p class="muted">The verdict lists no checks.</p>'
    rows = []
    for check in checks:
        threshold_unit = str(check.get("allowed_increase_unit") or check.get("threshold_unit") or "")
        change_unit = {"percent": "change_percent", "percentage_points": "pp"}.get(threshold_unit, "")
        estimate = check.get("change", check.get("estimate"))
        change_cell = _number_cell(estimate, change_unit)
        if estimate is None and check.get("name") == "invocations":
            change_cell = f'<td class="num">{_e(share_text(check.get("shadow"), check.get("production")))}</td>'
        interval = _mapping(check.get("interval"))
        low = interval.get("low", check.get("interval_low"))
        high = interval.get("high", check.get("interval_high"))
        bounds = "-"
        if isinstance(low, (int, float)) or isinstance(high, (int, float)):
            shown = [f"{b:+.2f}" if isinstance(b, (int, float)) else "unbounded" for b in (low, high)]
            bounds = f"[{shown[0]}, {shown[1]}]"
        allowed = check.get("allowed_increase", check.get("threshold"))
        allowed_unit = change_unit if threshold_unit in ("percent", "percentage_points") else ""
        critical = check.get("critical")
        result = _check_result(check)
        css = result.lower().replace(" ", "-")
        rows.append(
            f'<tr data-check="{_e(check.get("name"))}" class="result-{_e(css)}">'
            f"<td>{_e(check.get('label') or check.get('name') or check.get('metric'))}</td>"
            f"<td>{'' if critical is None else ('yes' if critical else 'no')}</td>"
            f"{_number_cell(check.get('production'), str(check.get('unit') or ''))}"
            f"{_number_cell(check.get('shadow'), str(check.get('unit') or ''))}"
            f"{change_cell}"
            f'<td class="num">{_e(bounds)}</td>'
            f"{_number_cell(allowed, allowed_unit)}"
            f'<td class="result">{_e(result)}</td>'
            f"<td>{_e(check.get('reason') or check.get('note') or '')}</td></tr>"
        )
    head = (
        "<tr><th>Check</th><th>Critical</th><th>Production</th><th>Shadow</th><th>Change</th>"
        "<th>Interval</th><th>Allowed</th><th>Result</th><th>Reason</th></tr>"
    )
    return f'<table class="checks"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _overlays(verdict: Mapping[str, Any]) -> tuple[list[Band], list[Marker]]:
    window = _mapping(verdict.get("window"))
    start, end = to_epoch_seconds(window.get("start")), to_epoch_seconds(window.get("end"))
    bands = []
    warmup = window.get("warmup_seconds")
    if start is not None and isinstance(warmup, (int, float)) and warmup > 0:
        bands.append(Band(start - warmup, start, f"warm-up ({warmup:g} s, not judged)", "warmup"))
    lag = window.get("lag_seconds")
    if end is not None and isinstance(lag, (int, float)) and lag > 0:
        bands.append(Band(end, end + lag, f"CloudWatch lag ({lag:g} s, not judged)", "lag"))
    markers = []
    for look in verdict.get("looks") or []:
        if isinstance(look, dict):
            at = to_epoch_seconds(look.get("at", look.get("time")))
            if at is not None:
                label = f"check at {_time_text(at)}: {look.get('decision', '')}"
                markers.append(Marker(at, label, "look", "check (continuous mode)"))
    decided = to_epoch_seconds(verdict.get("decided_at"))
    if decided is not None:
        markers.append(Marker(decided, f"decision {verdict.get('decision', '')}", "decided", "decision"))
    return bands, markers


def _charts(series: dict[str, dict[str, list[Point]]], verdict: Mapping[str, Any], max_points: int) -> list[str]:
    bands, markers = _overlays(verdict)
    charts = []

    def chart(chart_id: str, title: str, unit: str, wanted: list[tuple[str, str, str, float]]) -> None:
        lines, factor = [], 1
        for role, metric, label, scale in wanted:
            points = series.get(role, {}).get(metric)
            if not points:
                continue
            reduced = reduce_points([(t, v * scale) for t, v in points], max_points)
            factor = reduced.minutes_per_point
            stat = metric.rpartition(".")[2]
            lines.append(Line(f"{role} {label}", reduced.points, f"{role} s-{stat}"))
        if not lines:
            return
        note = f"Each point is the mean of {factor} one-minute values." if factor > 1 else "One point per minute."
        charts.append(render_chart(title, unit, lines, bands=bands, markers=markers, note=note, chart_id=chart_id))

    stats = [s for s in _LATENCY_STATS if any(f"ModelLatency.{s}" in series.get(r, {}) for r in _ROLES)]
    stats += sorted(
        {m.split(".")[1] for r in _ROLES for m in series.get(r, {}) if m.startswith("ModelLatency.")} - set(stats)
    )
    label = {"average": "mean"}
    chart(
        "model-latency",
        "Model latency",
        "ms",
        [(r, f"ModelLatency.{s}", label.get(s, s), 0.001) for r in _ROLES for s in stats],
    )
    overhead = sorted({m for r in _ROLES for m in series.get(r, {}) if m.startswith("OverheadLatency.")})
    chart(
        "overhead-latency",
        "Overhead latency",
        "ms",
        [(r, m, label.get(m.split(".")[1], m.split(".")[1]), 0.001) for r in _ROLES for m in overhead],
    )
    chart("invocations", "Invocations", "per minute", [(r, "Invocations.sum", "", 1.0) for r in _ROLES])
    for kind, metric, title in _ERRORS_ALL:
        for role in _ROLES:
            metrics = series.get(role, {})
            if f"ErrorRate.{kind}" not in metrics and f"{metric}.sum" in metrics and "Invocations.sum" in metrics:
                metrics[f"ErrorRate.{kind}"] = error_rate_points(metrics[f"{metric}.sum"], metrics["Invocations.sum"])
        chart(f"error-rate-{kind}", f"{title} error rate", "%", [(r, f"ErrorRate.{kind}", "", 1.0) for r in _ROLES])
    for metric, title in _UTILIZATION:
        chart(metric.lower(), title, "%", [(r, f"{metric}.average", "", 1.0) for r in _ROLES])
    return charts


def _seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return f"{value:g} s" if value < 120 else f"{value / 60:.1f} min"


def _capture_section(capture: Mapping[str, Any]) -> str:
    """The prediction agreement from data capture: its checks, the pairing and the label confusion."""
    checks = [
        {**c, "label": f"{c.get('name')} ({c.get('metric')})", "threshold": c.get("allowed_limit")}
        for c in capture.get("checks") or []
        if isinstance(c, dict)
    ]
    pairing = _mapping(capture.get("pairing"))
    methods = ", ".join(f"{k} {v}" for k, v in _mapping(pairing.get("by_method")).items())
    facts = _definition_list(
        [
            ("Agreement decision", capture.get("decision")),
            ("Pairs", f"{pairing.get('paired')} ({methods})" if pairing.get("paired") is not None else None),
            (
                "Unpaired production / shadow",
                f"{pairing.get('unpaired_production')} / {pairing.get('unpaired_shadow')}" if pairing else None,
            ),
        ]
    )
    confusion = [c for c in _mapping(capture.get("labels")).get("confusion") or [] if isinstance(c, dict)]
    rows = "".join(
        f"<tr><td>{_e(c.get('production'))}</td><td>{_e(c.get('shadow'))}</td>{_number_cell(c.get('count'))}</tr>"
        for c in confusion
    )
    table = (
        '<table class="checks"><thead><tr><th>Production label</th><th>Shadow label</th><th>Count</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if rows
        else ""
    )
    return (
        f'<section id="prediction-agreement"><h2>Prediction agreement (data capture)</h2>'
        f"{_checks_table(checks)}{facts}{table}</section>"
    )


def _definition_list(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v not in (None, "", [], {}))
    return f"<dl>{rows}</dl>" if rows else '<p class="muted">Not available.</p>'


def experiment_facts_html(experiment: Mapping[str, Any], verdict: Mapping[str, Any]) -> str:
    """The experiment's configuration and schedule from its Describe answer, as a definition list."""
    schedule = experiment.get("Schedule") or {}
    shadow_config = experiment.get("ShadowModeConfig") or {}
    sampling = ", ".join(
        f"{v.get('ShadowModelVariantName')}: {v.get('SamplingPercentage')} %"
        for v in shadow_config.get("ShadowModelVariants") or []
    )
    variants = []
    for variant in experiment.get("ModelVariants") or []:
        infra = (variant.get("InfrastructureConfig") or {}).get("RealTimeInferenceConfig") or {}
        variants.append(
            f"{variant.get('VariantName')}: model {variant.get('ModelName')}, "
            f"{infra.get('InstanceCount', '?')} x {infra.get('InstanceType', '?')}"
        )
    storage = experiment.get("DataStorageConfig") or {}
    items: list[tuple[str, Any]] = [
        ("Name", experiment.get("Name") or verdict.get("experiment_name")),
        ("Status", experiment.get("Status")),
        ("Status reason", experiment.get("StatusReason")),
        ("Description", experiment.get("Description")),
        ("Endpoint", (experiment.get("EndpointMetadata") or {}).get("EndpointName") or verdict.get("endpoint_name")),
        ("Scheduled start", _time_text(schedule.get("StartTime")) if schedule.get("StartTime") else None),
        ("Scheduled end", _time_text(schedule.get("EndTime")) if schedule.get("EndTime") else None),
        ("Production variant", shadow_config.get("SourceModelVariantName")),
        ("Shadow sampling", sampling),
        ("Variants", "; ".join(variants)),
        ("Data capture", storage.get("Destination")),
    ]
    return _definition_list(items)


def _verdict_facts(verdict: Mapping[str, Any]) -> str:
    window = _mapping(verdict.get("window"))
    variants = _mapping(verdict.get("variants"))
    confidence = verdict.get("confidence_percent")
    if not isinstance(confidence, (int, float)) and isinstance(verdict.get("confidence_level"), (int, float)):
        confidence = 100.0 * float(verdict["confidence_level"])
    thresholds = _mapping(verdict.get("thresholds"))
    sequential = _mapping(verdict.get("sequential"))
    look = None
    if sequential.get("look"):
        look = f"look {sequential['look']} of {sequential.get('planned_looks', '?')}"
        look += ", decided early" if sequential.get("decided_early") else ""
    saved = verdict.get("shadow_instance_hours_saved", sequential.get("instance_hours_saved"))
    items: list[tuple[str, Any]] = [
        ("Endpoint", verdict.get("endpoint_name")),
        ("Production variant", variants.get("production")),
        ("Shadow variant", variants.get("shadow")),
        ("Judged window", f"{_time_text(window.get('start'))} to {_time_text(window.get('end'))}" if window else None),
        ("Warm-up excluded", _seconds(window.get("warmup_seconds"))),
        ("Lag allowance", _seconds(window.get("lag_seconds"))),
        ("Confidence", f"{confidence:g} %" if isinstance(confidence, (int, float)) else None),
        ("Continuous mode", look),
        ("Decided at", _time_text(verdict.get("decided_at")) if verdict.get("decided_at") else None),
        ("Shadow instance-hours saved", f"{saved:.2f}" if isinstance(saved, (int, float)) else None),
        ("More observation would decide in", _seconds(verdict.get("more_observation_seconds"))),
    ]
    settings = _mapping(verdict.get("settings"))
    items += [(f"Setting {k}", v) for k, v in settings.items() if not isinstance(v, (dict, list))]
    items += [(f"Threshold {key}", value) for key, value in thresholds.items() if not isinstance(value, dict)]
    items += [
        (f"Threshold {key}", ", ".join(f"{k}: {v}" for k, v in value.items()))
        for key, value in thresholds.items()
        if isinstance(value, dict)
    ]
    return _definition_list(items)


def render_html_report(
    verdict: Mapping[str, Any],
    series: Mapping[str, Any] | None = None,
    experiment: Mapping[str, Any] | None = None,
    *,
    generated_at: dt.datetime | None = None,
    max_points_per_line: int = MAX_POINTS,
) -> str:
    """Return the report as one HTML document (inline CSS and SVG; renders offline, light and dark).

    :param verdict: the verdict JSON (see the module docstring); missing parts are skipped.
    :param series: per-minute series (see :mod:`~airflow_provider_shadowtest.verdict.report_series`);
        default ``verdict["series"]``.
    :param experiment: the experiment's Describe answer; default ``verdict["experiment"]``.
    :param generated_at: shown in the footer; default omitted (keeps the output deterministic).
    :param max_points_per_line: longer series are averaged into equal time buckets (the chart says so).
    """
    raw_series = series if series is not None else verdict.get("series")
    variants = verdict.get("variants") if isinstance(verdict.get("variants"), dict) else None
    per_minute = read_series(raw_series, variants)
    described = experiment if experiment is not None else verdict.get("experiment")
    described = described if isinstance(described, dict) else {}
    name = verdict.get("experiment_name") or described.get("Name") or verdict.get("endpoint_name") or "shadow test"
    decision = str(verdict.get("decision") or "UNKNOWN")
    reasons = [r for r in verdict.get("reasons") or [] if r]
    checks = [c for c in verdict.get("checks") or [] if isinstance(c, dict)]
    charts = _charts(per_minute, verdict, max_points_per_line)
    capture = _mapping(verdict.get("capture"))
    reasons_html = "".join(f"<li>{_e(r)}</li>" for r in reasons) or "<li>No reasons given.</li>"
    reasons_html += "".join(f'<li class="muted">{_e(n)}</li>' for n in verdict.get("notes") or [] if n)
    charts_html = "".join(charts) or '<p class="muted">No per-minute series in this verdict.</p>'
    footer = f"Generated {_time_text(generated_at)} by airflow-provider-shadowtest." if generated_at else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>Shadow test {_e(name)}: {_e(decision)}</title><style>{REPORT_CSS}</style></head><body>"
        f'<header><h1>Shadow test <span class="name">{_e(name)}</span></h1>'
        f'<p class="decision decision-{_e(decision.lower())}" data-decision="{_e(decision)}">'
        f"{_e(decision)}</p></header>"
        f'<section><h2>Why</h2><ul class="reasons">{reasons_html}</ul>{_verdict_facts(verdict)}</section>'
        f"<section><h2>Checks</h2>{_checks_table(checks)}</section>"
        f"{_capture_section(capture) if capture else ''}"
        f'<section><h2>Per minute</h2><div class="charts">{charts_html}</div></section>'
        f"<section><h2>Experiment</h2>{experiment_facts_html(described, verdict)}</section>"
        f'<footer class="muted">{_e(footer)}</footer></body></html>'
    )
