"""The evaluate task's own page shows the verdict, and the trigger form explains its fields: real api-server, Chromium.

The session's deployment (``conftest.py``), shared with ``test_ui_browser.py``: the promotion
example against the emulator (a better candidate, so the verdict is PROMOTE), then ``airflow
api-server`` on its metadata DB.
"""

from __future__ import annotations

import json

import pytest

from scripts._browser import Browser, chromium_path
from scripts._ui_support import Deployment, log_in, open_trigger_form, task_page_path

pytestmark = [
    pytest.mark.slow,
    # One deployment for both browser modules (conftest): one xdist worker runs them.
    pytest.mark.xdist_group("ui-deployment"),
    # The session's deployment runs the promotion example first: a continuous verdict takes minutes.
    pytest.mark.timeout(1800),
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium)"),
]


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
