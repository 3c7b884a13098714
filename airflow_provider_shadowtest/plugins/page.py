"""The HTML of the "Shadow tests" pages (server-rendered, no script, same stylesheet as the report)."""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_shadowtest.links.report import report_page_path
from airflow_provider_shadowtest.verdict.html_report import experiment_facts_html
from airflow_provider_shadowtest.verdict.report_style import REPORT_CSS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_shadowtest.plugins.verdicts import StoredVerdict

_PAGE_CSS = """
.notice{border:1px solid var(--border);border-left:4px solid var(--inconclusive);padding:6px 10px;margin:8px 0;
background:var(--panel)}
table.experiments td.verdict{white-space:nowrap}
table.experiments td.run{overflow-wrap:anywhere;min-width:18em}
iframe.report{width:100%;height:1400px;border:1px solid var(--border);
border-radius:6px;background:var(--bg)}nav.crumbs{margin-bottom:8px;font-size:13px}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return _e(value) if value else "-"


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">'
        f"<title>{_e(title)}</title><style>{REPORT_CSS}{_PAGE_CSS}</style></head><body>{body}</body></html>"
    )


def _decision_badge(verdict: StoredVerdict | None) -> str:
    if verdict is None:
        return '<span class="muted">no verdict yet</span>'
    decision = verdict.decision
    return (
        f'<span class="decision decision-{_e(decision.lower())}" data-decision="{_e(decision)}">{_e(decision)}</span>'
    )


def _run_link(verdict: StoredVerdict) -> str:
    href = f"/dags/{quote(verdict.dag_id, safe='')}/runs/{quote(verdict.run_id, safe='')}"
    return f'<a href="{_e(href)}" target="_top">{_e(verdict.dag_id)}</a><br><small>{_e(verdict.run_id)}</small>'


def _sampling(experiment: Mapping[str, Any]) -> str:
    config = experiment.get("ShadowModeConfig") or {}
    values = [f"{v.get('SamplingPercentage')} %" for v in config.get("ShadowModelVariants") or []]
    return ", ".join(values) or "-"


def render_list_page(
    root: str,
    experiments: Sequence[Mapping[str, Any]],
    latest: Mapping[str, StoredVerdict],
    *,
    aws_error: str | None,
    conn_id: str,
) -> str:
    """The list: each experiment SageMaker knows, and those known only from a verdict, with the latest verdict.

    :param root: the app's mount path (``/shadowtest``), for links.
    :param latest: the newest verdict per experiment name.
    """
    rows = []
    names = [str(e.get("Name")) for e in experiments]
    known_only_here = [name for name in latest if name not in names]
    for experiment in [*experiments, *({"Name": n} for n in known_only_here)]:
        name = str(experiment.get("Name"))
        verdict = latest.get(name)
        schedule = experiment.get("Schedule") or {}
        endpoint = (experiment.get("EndpointMetadata") or {}).get("EndpointName") or experiment.get("EndpointName")
        if not endpoint and verdict is not None:
            endpoint = verdict.verdict.get("endpoint_name")
        status = experiment.get("Status") or ("unknown to SageMaker" if aws_error is None else "unknown")
        report = ""
        if verdict is not None:
            path = report_page_path(verdict.dag_id, verdict.run_id, verdict.task_id, verdict.map_index)
            report = f' <a href="{_e(path)}">report</a>'
        rows.append(
            f'<tr data-experiment="{_e(name)}">'
            f'<td><a href="{_e(root)}/experiments/{quote(name, safe="")}">{_e(name)}</a></td>'
            f"<td>{_e(endpoint or '-')}</td><td>{_e(status)}</td>"
            f"<td>{_when(schedule.get('StartTime'))} to {_when(schedule.get('EndTime'))}</td>"
            f'<td>{_e(_sampling(experiment))}</td><td class="verdict">{_decision_badge(verdict)}{report}</td>'
            f'<td class="run">{_run_link(verdict) if verdict else "-"}</td>'
            f"<td>{_when(verdict.stored_at) if verdict else '-'}</td></tr>"
        )
    notice = f'<p class="notice" role="alert">{_e(aws_error)}</p>' if aws_error else ""
    table = (
        '<table class="experiments"><thead><tr><th>Experiment</th><th>Endpoint</th><th>Status</th><th>Schedule</th>'
        "<th>Sampling</th><th>Latest verdict</th><th>Pipeline run</th><th>Judged</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted">No inference experiments and no verdicts yet.</p>'
    )
    body = (
        f'<h1>Shadow tests</h1><p class="muted">SageMaker inference experiments (connection {_e(conn_id)}) '
        f"and the verdicts of <code>EvaluateInferenceExperimentOperator</code> tasks.</p>{notice}{table}"
    )
    return _document("Shadow tests", body)


def render_experiment_page(
    root: str,
    name: str,
    experiment: Mapping[str, Any] | None,
    verdicts: Sequence[StoredVerdict],
    *,
    aws_error: str | None,
) -> str:
    """One experiment: its configuration, every verdict on it, and the latest report embedded."""
    notice = f'<p class="notice" role="alert">{_e(aws_error)}</p>' if aws_error else ""
    facts = experiment_facts_html(experiment or {"Name": name}, verdicts[0].verdict if verdicts else {})
    if verdicts:
        rows = "".join(
            f"<tr><td>{_decision_badge(v)}</td><td>{_run_link(v)}</td><td>{_e(v.task_id)}</td>"
            f"<td>{_when(v.stored_at)}</td>"
            f'<td><a href="{_e(report_page_path(v.dag_id, v.run_id, v.task_id, v.map_index))}">'
            "report</a></td></tr>"
            for v in verdicts
        )
        history = (
            "<table><thead><tr><th>Decision</th><th>Pipeline run</th><th>Task</th><th>Judged</th><th></th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
        latest = verdicts[0]
        src = report_page_path(latest.dag_id, latest.run_id, latest.task_id, latest.map_index)
        embedded = f'<iframe class="report" title="Latest report" src="{_e(src)}"></iframe>'
    else:
        history = '<p class="muted" role="status">No verdict on this experiment yet.</p>'
        embedded = ""
    body = (
        f'<nav class="crumbs"><a href="{_e(root)}/">Shadow tests</a> / {_e(name)}</nav>'
        f"<h1>{_e(name)}</h1>{notice}<h2>Configuration</h2>{facts}<h2>Verdicts</h2>{history}"
        f"{'<h2>Latest report</h2>' + embedded if embedded else ''}"
    )
    return _document(f"Shadow test {name}", body)


def render_message_page(title: str, message: str, root: str) -> str:
    """A plain page saying what is missing (no verdict, no such task), with a way back."""
    body = (
        f'<nav class="crumbs"><a href="{_e(root)}/">Shadow tests</a></nav>'
        f'<h1>{_e(title)}</h1><p role="status">{_e(message)}</p>'
    )
    return _document(title, body)


def report_banner(message: str) -> str:
    """A notice inserted at the top of a report rendered from the stored verdict."""
    return f'<p class="notice" role="status" style="border-left:4px solid #9a6700;padding:6px 10px">{_e(message)}</p>'
