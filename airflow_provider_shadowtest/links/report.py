"""Extra link "Shadow test report": opens a verdict's HTML report through the "Shadow tests" page.

The report may live anywhere Airflow's object storage reaches (``s3://`` is not browsable), so
the link points at the page's report route of the api-server, which reads the location from the
verdict and serves the file behind Airflow's login. The operator stores the location under
:data:`XCOM_KEY` (:func:`persist_report_location`). Without a stored report the route renders
the report from the verdict itself, so on Airflow 3 the link is there whenever the task returned
a verdict; otherwise it is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from airflow_provider_shadowtest._compat import BaseOperatorLink, airflow_version, xcom_value

if TYPE_CHECKING:
    from airflow_provider_shadowtest._compat import BaseOperator, Context, TaskInstanceKey

#: XCom key under which the evaluate operator stores ``{"location": <report URI>}``.
XCOM_KEY: Final = "shadowtest_report"
#: Where the plugin's FastAPI app is mounted in the api-server.
URL_PREFIX: Final = "/shadowtest"


def report_page_path(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The page's route serving one task's report, relative to the api-server's root."""
    path = f"{URL_PREFIX}/reports/{quote(dag_id, safe='')}/{quote(run_id, safe='')}/{quote(task_id, safe='')}"
    return path + (f"?map_index={map_index}" if map_index >= 0 else "")


def persist_report_location(context: Context, operator: BaseOperator, location: str) -> None:
    """Store the report's ``location`` for the link, unless the task pushes no XCom."""
    if operator.do_xcom_push:
        context["ti"].xcom_push(key=XCOM_KEY, value={"location": location})


def _base_url() -> str:
    from airflow.configuration import conf

    base = str(conf.get("api", "base_url", fallback="") or "")
    # A base URL of "/" or "http://host:8080/" both join cleanly with the absolute route.
    return base.rstrip("/")


class ShadowTestReportLink(BaseOperatorLink):
    """The verdict's HTML report, served by the "Shadow tests" page of the api-server."""

    name = "Shadow test report"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        stored: Any = xcom_value(key=XCOM_KEY, ti_key=ti_key)
        if not (isinstance(stored, dict) and stored.get("location")) and not _has_verdict(ti_key):
            return ""
        return _base_url() + report_page_path(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index)


def _has_verdict(ti_key: TaskInstanceKey) -> bool:
    """Whether the task returned a verdict: the page renders its report from it (Airflow 3 only)."""
    if airflow_version() < (3, 0):
        return False
    verdict: Any = xcom_value(key="return_value", ti_key=ti_key)
    return isinstance(verdict, dict) and bool(verdict.get("decision"))
