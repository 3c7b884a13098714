"""The "Shadow tests" page as a person sees it: a real api-server, a real promotion run, headless Chromium.

The session's deployment (``conftest.py``, shared with ``test_task_pages_browser.py``): the
emulator server, ``airflow dags test`` of the promotion example (a better candidate, so the
verdict is PROMOTE), then ``airflow api-server`` on the same metadata DB with Simple auth, the
provider's plugin loaded from its metadata. Tests run in file order; the
last one stops the emulator to show the page surviving an unreachable AWS.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from scripts._browser import Browser, chromium_path
from scripts._ui_support import PIPELINE, Deployment, log_in

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [
    pytest.mark.slow,
    # One deployment for both browser modules (conftest): one xdist worker runs them.
    pytest.mark.xdist_group("ui-deployment"),
    # The session's deployment runs the promotion example first: a continuous verdict takes minutes.
    pytest.mark.timeout(1800),
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)"),
]


def _set_report_location(home: Path, location: str) -> None:
    """What the evaluate operator will do once wired to ``report_uri``: record the location in its verdict."""
    with sqlite3.connect(home / "airflow.db") as db:
        (raw,) = db.execute("SELECT value FROM xcom WHERE task_id = 'evaluate' AND key = 'return_value'").fetchone()
        value = json.loads(raw)
        nested = isinstance(value, str)
        verdict = json.loads(value) if nested else value
        verdict["report_location"] = location
        stored = json.dumps(json.dumps(verdict)) if nested else json.dumps(verdict)
        db.execute("UPDATE xcom SET value = ? WHERE task_id = 'evaluate' AND key = 'return_value'", (stored,))


def test_an_unauthenticated_request_gets_no_data(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    name = deployment.verdict["experiment_name"]
    for path in ("/shadowtest/", "/shadowtest/api/experiments", f"/shadowtest/experiments/{name}"):
        status, body = server.get(path)
        assert status == 401, (path, status, body[:200])
        assert name not in body
    status, body = server.get("/shadowtest/", token="not-a-token")
    assert status in (401, 403)
    assert name not in body
    # The browser without a login sees the refusal, not the list.
    with Browser() as browser:
        browser.open(f"{server.url}/shadowtest/")
        text = browser.evaluate("document.body.innerText")
        assert "Not authenticated" in text
        assert name not in text


def test_the_page_lists_the_experiment_with_its_verdict(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    verdict = deployment.verdict
    name = verdict["experiment_name"]
    with Browser() as browser:
        log_in(browser, server, "/shadowtest/")
        row = f"document.querySelector('tr[data-experiment={json.dumps(name)}]')"
        browser.wait_for(f"!!{row}")
        cells = browser.evaluate(f"[...{row}.cells].map(c => c.innerText)")
        decision = browser.evaluate(f"{row}.querySelector('[data-decision]').dataset.decision")
        alert = browser.evaluate("document.querySelector('[role=alert]')?.innerText ?? ''")
        # The page inside Airflow's own UI: the navigation entry's route frames it.
        browser.open(f"{server.url}/plugin/shadow-tests")
        framed = browser.wait_for(
            "document.querySelector('iframe')?.contentDocument?.querySelector('tr[data-experiment]')?.dataset.experiment"
        )
    assert decision == verdict["decision"] == "PROMOTE"
    assert alert == ""  # SageMaker answered
    assert cells[1] == PIPELINE.endpoint
    assert cells[2] in ("Running", "Completed", "Stopping")
    assert cells[4] == "100 %" or cells[4].endswith(" %")
    assert "example_shadow_test_promotion" in cells[6]
    assert framed == name


def test_the_report_draws_the_charts_and_the_verdicts_numbers(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    verdict = deployment.verdict
    name = verdict["experiment_name"]
    with Browser() as browser:
        log_in(browser, server, f"/shadowtest/experiments/{name}")
        src = browser.wait_for("document.querySelector('iframe.report')?.getAttribute('src')")
        browser.open(f"{server.url}{src}")
        browser.wait_for("document.querySelectorAll('figure.chart').length > 0")
        drawn = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('figure.chart')].map(f => [f.dataset.chart,"
            " [...f.querySelectorAll('path.line')].filter(p => p.getTotalLength() > 0).length]))"
        )
        cells = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('tr[data-check]')].map(r => [r.dataset.check,"
            " [...r.querySelectorAll('td[data-value]')].map(c => Number(c.dataset.value))]))"
        )
        decision = browser.evaluate("document.querySelector('header [data-decision]').dataset.decision")
        banner = browser.evaluate("document.querySelector('[role=status]')?.innerText ?? ''")
    assert decision == verdict["decision"]
    # Both variants drawn in the latency, invocations and error-rate charts.
    for chart in ("model-latency", "invocations", "error-rate-5xx"):
        assert drawn.get(chart, 0) >= 2, drawn
    assert drawn["model-latency"] >= 8  # mean, p50, p90, p99 for each variant
    assert "read from CloudWatch" in banner
    for check in verdict["checks"]:
        expected = [check[k] for k in ("production", "shadow") if check.get(k) is not None]
        assert cells[check["name"]][: len(expected)] == pytest.approx(expected, rel=1e-12), check["name"]


def test_a_stored_report_is_served_and_a_deleted_one_is_said_so(deployment: Deployment) -> None:
    from airflow_provider_shadowtest.report_storage import write_report
    from airflow_provider_shadowtest.verdict.html_report import render_html_report

    server = deployment.server
    assert server is not None
    stored_html = render_html_report(deployment.verdict).replace("<footer", '<p id="from-storage">stored</p><footer')
    location = write_report(stored_html, f"file://{deployment.work}/reports/", "promotion.html")
    _set_report_location(deployment.home, location)
    token = server.token()
    run_id = json.loads(server.get("/shadowtest/api/experiments", token=token)[1])["latest_verdicts"]
    latest = run_id[deployment.verdict["experiment_name"]]
    path = f"/shadowtest/reports/{latest['dag_id']}/{latest['run_id']}/{latest['task_id']}"
    status, body = server.get(path, cookie=token)
    assert status == 200
    assert 'id="from-storage"' in body
    (deployment.work / "reports" / "promotion.html").unlink()
    status, body = server.get(path, cookie=token)
    assert status == 200
    assert "no longer exists" in body
    assert 'data-decision="PROMOTE"' in body


def test_the_page_stays_up_when_aws_is_unreachable(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    deployment.emulator.stop()
    name = deployment.verdict["experiment_name"]
    with Browser() as browser:
        log_in(browser, server, "/shadowtest/")
        alert = browser.wait_for("document.querySelector('[role=alert]')?.innerText")
        decision = browser.evaluate(
            f"document.querySelector('tr[data-experiment={json.dumps(name)}] [data-decision]')?.dataset.decision"
        )
    assert "Could not list inference experiments" in alert
    assert decision == "PROMOTE"  # known from the stored verdict
