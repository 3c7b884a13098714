"""The page's HTML: what a person reads when SageMaker answers, when it does not, and with no verdict."""

from __future__ import annotations

import datetime as dt

from airflow_provider_shadowtest.plugins.page import render_experiment_page, render_list_page
from airflow_provider_shadowtest.plugins.verdicts import StoredVerdict, decode_value

_WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def _verdict(name: str, decision: str = "PROMOTE") -> StoredVerdict:
    body = {"decision": decision, "experiment_name": name, "endpoint_name": "ep-1"}
    return StoredVerdict("pipe", "manual__1", "evaluate", -1, _WHEN, body)


_EXPERIMENT = {
    "Name": "exp-1",
    "Status": "Running",
    "EndpointMetadata": {"EndpointName": "ep-1"},
    "Schedule": {"StartTime": _WHEN, "EndTime": _WHEN + dt.timedelta(hours=2)},
    "ShadowModeConfig": {"ShadowModelVariants": [{"ShadowModelVariantName": "s", "SamplingPercentage": 50}]},
}


def test_each_experiment_has_its_status_sampling_and_latest_verdict() -> None:
    html = render_list_page(
        "/shadowtest", [_EXPERIMENT], {"exp-1": _verdict("exp-1")}, aws_error=None, conn_id="aws_default"
    )
    assert '<tr data-experiment="exp-1">' in html
    assert "<td>Running</td>" in html
    assert "<td>50 %</td>" in html
    assert 'data-decision="PROMOTE"' in html
    assert 'href="/shadowtest/reports/pipe/manual__1/evaluate"' in html
    assert 'href="/dags/pipe/runs/manual__1"' in html
    assert 'role="alert"' not in html


def test_without_aws_the_page_says_so_and_lists_what_verdicts_know() -> None:
    html = render_list_page(
        "/shadowtest", [], {"exp-2": _verdict("exp-2", "REJECT")}, aws_error="Could not list: timeout", conn_id="c"
    )
    assert '<p class="notice" role="alert">Could not list: timeout</p>' in html
    assert '<tr data-experiment="exp-2">' in html
    assert "<td>ep-1</td>" in html
    assert 'data-decision="REJECT"' in html


def test_an_experiment_without_verdicts_says_so() -> None:
    html = render_experiment_page("/shadowtest", "exp-1", _EXPERIMENT, [], aws_error=None)
    assert "No verdict on this experiment yet." in html
    assert "<iframe" not in html
    assert "Running" in html


def test_an_experiment_page_embeds_its_latest_report() -> None:
    html = render_experiment_page("/shadowtest", "exp-1", None, [_verdict("exp-1")], aws_error="Could not describe")
    assert '<iframe class="report" title="Latest report" src="/shadowtest/reports/pipe/manual__1/evaluate">' in html
    assert "Could not describe" in html


def test_names_are_escaped() -> None:
    html = render_list_page("/shadowtest", [{"Name": "<b>x</b>"}], {}, aws_error=None, conn_id="c")
    assert "<b>x</b>" not in html


def test_xcom_values_stored_as_json_text_are_decoded() -> None:
    assert decode_value('"{\\"decision\\": \\"PROMOTE\\"}"') == {"decision": "PROMOTE"}
    assert decode_value({"decision": "REJECT"}) == {"decision": "REJECT"}
    assert decode_value("plain") == "plain"
