"""The "Shadow tests" page and the run's task pages as a person sees them: real api-server, promotion run, Chromium.

One module-wide setup: the emulator server, ``airflow dags test`` of the promotion example (a
better candidate, so the verdict is PROMOTE), then ``airflow api-server`` on the same metadata
DB with Simple auth, the provider's plugin loaded from its metadata. The page tests come first,
then the evaluate task's own page (the verdict), the console links of every experiment task, the
create task's rendered request and the trigger form's explanations. One module, so the
ten-minute promotion run happens once (``make unit-slow`` gives each module one worker). Tests
run in file order; the last one stops the emulator to show the page surviving an unreachable AWS.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest

from scripts._browser import Browser, chromium_path
from scripts._ui_support import PIPELINE, Deployment, log_in, open_trigger_form, task_page_path

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.slow,
    # The module's fixture runs the promotion example first: a continuous verdict takes minutes.
    pytest.mark.timeout(1800),
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    deployed = Deployment(tmp_path_factory.mktemp("ui"))
    try:
        deployed.run_pipeline()
        assert deployed.verdict["decision"] == "PROMOTE", deployed.verdict.get("reasons")
        deployed.start_server()
        yield deployed
    finally:
        deployed.stop()


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


# -- the run's own task pages and the trigger form ----------------------------------------------
def test_the_evaluate_task_shows_the_verdict_without_an_approval(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    path = task_page_path(deployment.home, "evaluate", "rendered_templates")
    with Browser() as browser:
        log_in(browser, server, "/dags/example_shadow_test_promotion")
        browser.open(server.url + path)
        text = browser.wait_for(
            "[...document.querySelectorAll('tr')].map(r => r.innerText).find(t => t.startsWith('verdict_summary'))",
            timeout_seconds=60,
        )
        links = _extra_links(server, deployment, "evaluate")
    # Airflow 3.3 shows the field as highlighted text with line numbers: compare without whitespace.
    flat = "".join(text.split())
    assert "Shadowtestverdict:PROMOTE" in flat
    assert deployment.verdict["experiment_name"] in flat
    assert "interval[" in flat  # the checks with their confidence intervals
    assert '"Shadowtestreport"link' in flat
    assert links["Shadow test report"].endswith("/evaluate")
    assert "metricsV2?graph=" in links["CloudWatch metrics"]
    assert links["SageMaker Shadow Test"].endswith(deployment.verdict["experiment_name"])


def test_every_experiment_task_of_the_run_has_its_console_links(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    for task_id in ("create_experiment", "wait_for_running", "evaluate", "promote"):
        links = _extra_links(server, deployment, task_id)
        assert links.get("SageMaker Endpoint", "").endswith("#/endpoints/ui-endpoint"), (task_id, links)
        assert "AWS*2fSageMaker" in links.get("CloudWatch metrics", ""), (task_id, links)


def test_create_shows_the_request_it_sent_typed(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    path = "/api/v2" + task_page_path(deployment.home, "create_experiment").replace("/runs/", "/dagRuns/").replace(
        "/tasks/", "/taskInstances/"
    )
    status, body = server.get(path, token=server.token())
    assert status == 200, body[:300]
    sent = json.loads(body)["rendered_fields"]["request_sent"]
    infrastructure = sent["ModelVariants"][0]["InfrastructureConfig"]["RealTimeInferenceConfig"]
    assert infrastructure["InstanceCount"] == 1
    assert isinstance(sent["ShadowModeConfig"]["ShadowModelVariants"][0]["SamplingPercentage"], int)
    assert sent["Schedule"]["EndTime"].endswith("Z")


def test_the_trigger_form_states_ranges_and_opens_on_what_a_first_run_needs(deployment: Deployment) -> None:
    server = deployment.server
    assert server is not None
    with Browser(width=1400, height=1600) as browser:
        log_in(browser, server, "/dags/example_shadow_test_promotion")
        open_trigger_form(browser, server)
        form = browser.evaluate("document.querySelector('[data-testid=config-form]').innerText")
        visible = browser.evaluate(
            "['endpoint_name', 'candidate_model', 'sampling_percent', 'observation_seconds', 'shadow_instance_count']"
            # Number fields carry the form's name, text fields its id (Zag derives number-input ids).
            ".map(k => [...document.querySelectorAll(`#element_${k}, [name=element_${k}], [id*=element_${k}]`)])"
            ".map(found => found.some(x => x.checkVisibility()))"
        )
    assert "1 to 100" in form
    assert "takes about 25 minutes" in form
    assert "letters, digits and hyphens" in form
    assert visible == [True, True, True, True, False]  # "Infrastructure" starts collapsed


def _extra_links(server: object, deployment: Deployment, task_id: str) -> dict[str, str]:
    api = server  # ApiServer
    path = "/api/v2" + task_page_path(deployment.home, task_id).replace("/runs/", "/dagRuns/").replace(
        "/tasks/", "/taskInstances/"
    )
    status, body = api.get(path + "/links", token=api.token())  # type: ignore[attr-defined]
    assert status == 200, body[:300]
    return {name: url for name, url in json.loads(body)["extra_links"].items() if url}


# -- last: AWS goes away ----------------------------------------------------------------------------
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
