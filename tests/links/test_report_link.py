"""The "Shadow test report" link points at the page's report route when a report was stored."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from airflow.sdk.execution_time import xcom as xcom_module

from airflow_provider_shadowtest.links.report import XCOM_KEY, ShadowTestReportLink, report_page_path

if TYPE_CHECKING:
    import pytest


def _key(map_index: int = -1) -> Any:
    return SimpleNamespace(
        dag_id="pipe", run_id="manual__2026-11-02T08:00:00+00:00", task_id="evaluate", map_index=map_index
    )


def test_the_link_opens_the_report_route_of_the_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    stored: dict[str, Any] = {XCOM_KEY: {"location": "s3://reports/exp/pipe/run/evaluate.html"}}
    monkeypatch.setattr(xcom_module.XCom, "get_value", lambda *, ti_key, key: stored.get(key))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/")
    link = ShadowTestReportLink()

    assert link.name == "Shadow test report"
    assert link.get_link(None, ti_key=_key()) == (  # type: ignore[arg-type]
        "https://airflow.example.com/shadowtest/reports/pipe/manual__2026-11-02T08%3A00%3A00%2B00%3A00/evaluate"
    )
    assert link.get_link(None, ti_key=_key(2)).endswith("/evaluate?map_index=2")  # type: ignore[arg-type]
    stored.clear()
    assert link.get_link(None, ti_key=_key()) == ""  # type: ignore[arg-type]


def test_route_parts_are_quoted() -> None:
    assert report_page_path("a/b", "r 1", "t") == "/shadowtest/reports/a%2Fb/r%201/t"


def test_without_a_stored_report_the_link_follows_the_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    # The page renders the report from the verdict when none was stored (report_uri unset).
    stored: dict[str, Any] = {"return_value": {"decision": "REJECT", "reasons": ["slower"]}}
    monkeypatch.setattr(xcom_module.XCom, "get_value", lambda *, ti_key, key: stored.get(key))
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://localhost:8080")
    link = ShadowTestReportLink()

    assert link.get_link(None, ti_key=_key()).startswith("http://localhost:8080/shadowtest/reports/pipe/")  # type: ignore[arg-type]
    stored["return_value"] = {"not": "a verdict"}
    assert link.get_link(None, ti_key=_key()) == ""  # type: ignore[arg-type]
