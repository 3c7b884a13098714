"""What the evaluate operator adds to a verdict beyond the metrics: the capture comparison and the HTML report.

Imported only when a task runs (it pulls boto3 through the hooks), never while a DAG file is parsed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.hooks.capture import CaptureHook
from airflow_provider_shadowtest.hooks.metric_series import fetch_variant_series
from airflow_provider_shadowtest.report_storage import report_file_name, write_report
from airflow_provider_shadowtest.verdict import parse_time
from airflow_provider_shadowtest.verdict.capture import render_capture_markdown
from airflow_provider_shadowtest.verdict.combine import apply_capture
from airflow_provider_shadowtest.verdict.html_report import render_html_report

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest.connection import ConnectionSettings
    from airflow_provider_shadowtest.hooks.inference_experiment import InferenceExperimentHook
    from airflow_provider_shadowtest.verdict import Evidence
    from airflow_provider_shadowtest.verdict.capture import CaptureComparisonSettings


def compare_captures(
    connection: ConnectionSettings,
    settings: CaptureComparisonSettings,
    document: Mapping[str, Any],
    described: Mapping[str, Any],
    evidence: Evidence,
) -> dict[str, Any]:
    """Compare both variants' captured answers over the judged window; return the verdict with them joined.

    :raises CaptureNotConfiguredError: when the experiment has no ``DataStorageConfig``.
    """
    hook = CaptureHook(
        aws_conn_id=connection.aws_conn_id,
        region_name=connection.region_name,
        verify=connection.verify,
        config=connection.botocore_config,
        max_attempts=connection.max_attempts,
    )
    end = max(evidence.window_end, evidence.window_start + dt.timedelta(seconds=1))
    result = hook.compare_experiment(described, settings, start=evidence.window_start, end=end)
    return apply_capture(document, result.to_json(), render_capture_markdown(result))


def write_verdict_report(
    hook: InferenceExperimentHook,
    document: Mapping[str, Any],
    subject: Mapping[str, Any],
    looks: list[dict[str, Any]],
    *,
    described: Mapping[str, Any],
    report_uri: str,
    conn_id: str | None,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int,
) -> str:
    """Render the verdict's HTML report with both variants' per-minute series and write it; return its location.

    The charts cover the observed range (from the start, or the ramp, to the last look), the
    warm-up and lag shaded.
    """
    now = dt.datetime.now(dt.timezone.utc)
    window = document.get("window") or {}
    start = parse_time("start", subject["start"]) or now
    ramp = document.get("ramp")
    observed_start = (parse_time("ramp.at", ramp["at"]) or start) if ramp else start
    end = parse_time("window.end", window.get("end")) or now
    observed_end = min(now, end + dt.timedelta(seconds=float(window.get("lag_seconds") or 0)))
    series, _ = fetch_variant_series(
        hook.get_cloudwatch_client(),
        subject["endpoint"],
        [subject["production"], subject["shadow"]],
        observed_start,
        max(observed_end, observed_start + dt.timedelta(seconds=60)),
        now=now,
    )
    raw = {
        role: {key: sorted(values.items()) for key, values in series[subject[role]].metrics.items()}
        for role in ("production", "shadow")
    }
    # The report reads the verdict as it is; continuous mode adds each look and when it decided.
    shaped = {**document, "looks": looks, "decided_at": looks[-1]["at"] if looks else None}
    html = render_html_report(shaped, series=raw, experiment=described or None, generated_at=now)
    name = report_file_name(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        experiment_name=str(document.get("experiment_name") or ""),
    )
    return write_report(html, report_uri, name, conn_id=conn_id)
