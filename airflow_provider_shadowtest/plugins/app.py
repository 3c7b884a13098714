"""The FastAPI app of the "Shadow tests" page, mounted by the api-server at ``/shadowtest``.

Every route depends on Airflow's own ``get_user`` (a Bearer token from ``POST /auth/token`` or
the UI's ``_token`` cookie), so a request without a valid token gets 401/403 and no data; the
verdicts shown are limited to the DAGs the user may read. Pages carry a Content-Security-Policy
that allows no script, and stored reports are served sandboxed.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from airflow_provider_shadowtest.plugins import experiments as sagemaker
from airflow_provider_shadowtest.plugins import page
from airflow_provider_shadowtest.plugins.metrics import fetch_series
from airflow_provider_shadowtest.plugins.verdicts import StoredVerdict, load_verdicts, report_xcom_location
from airflow_provider_shadowtest.report_storage import ReportStorageError, read_report, report_location
from airflow_provider_shadowtest.verdict.html_report import render_html_report

#: This module is imported by the api-server only (on the first request), so Airflow's API
#: security can be imported at module level here.
UserDep = Annotated[BaseUser, Depends(get_user)]
_PAGE_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; frame-ancestors 'self'"
)
#: Reports come from object storage: no script, no network, a unique origin.
_REPORT_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


def _html(content: str, status_code: int = 200, csp: str = _PAGE_CSP) -> HTMLResponse:
    return HTMLResponse(content, status_code=status_code, headers={"Content-Security-Policy": csp})


def _readable_dag_ids(user: BaseUser) -> set[str]:
    from airflow.api_fastapi.app import get_auth_manager

    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


def _verdicts(user: BaseUser, task: tuple[str, str, str, int] | None = None) -> list[StoredVerdict]:
    from airflow.utils.session import create_session

    dag_ids = _readable_dag_ids(user)
    with create_session() as session:
        return load_verdicts(session, dag_ids=dag_ids, task=task)


def _latest_per_experiment(verdicts: list[StoredVerdict]) -> dict[str, StoredVerdict]:
    latest: dict[str, StoredVerdict] = {}
    for verdict in verdicts:  # newest first
        if verdict.experiment_name and verdict.experiment_name not in latest:
            latest[verdict.experiment_name] = verdict
    return latest


def _root(request: Request) -> str:
    return str(request.scope.get("root_path") or "").rstrip("/")


def create_app() -> FastAPI:
    """Build the app: every route requires an authenticated Airflow user."""
    app = FastAPI(
        title="Shadow tests", dependencies=[Depends(get_user)], docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/", response_class=HTMLResponse)
    def list_page(request: Request, user: UserDep) -> HTMLResponse:
        conn_id = sagemaker.page_conn_id()
        listing = sagemaker.list_experiments(conn_id)
        latest = _latest_per_experiment(_verdicts(user))
        return _html(
            page.render_list_page(_root(request), listing.experiments, latest, aws_error=listing.error, conn_id=conn_id)
        )

    @app.get("/experiments/{name}", response_class=HTMLResponse)
    def experiment_page(name: str, request: Request, user: UserDep) -> HTMLResponse:
        described, error = sagemaker.describe_experiment(sagemaker.page_conn_id(), name)
        verdicts = [v for v in _verdicts(user) if v.experiment_name == name]
        if described is None and not verdicts:
            message = error or f"No inference experiment {name!r}."
            return _html(page.render_message_page(f"Shadow test {name}", message, _root(request)), 404)
        return _html(page.render_experiment_page(_root(request), name, described, verdicts, aws_error=error))

    @app.get("/reports/{dag_id}/{run_id}/{task_id}", response_class=HTMLResponse)
    def report(
        dag_id: str,
        run_id: str,
        task_id: str,
        *,
        request: Request,
        user: UserDep,
        map_index: int = -1,
    ) -> HTMLResponse:
        found = _verdicts(user, task=(dag_id, run_id, task_id, map_index))
        if not found:
            message = f"No verdict of task {task_id!r} in run {run_id!r} of DAG {dag_id!r} (or no access to it)."
            return _html(page.render_message_page("No such verdict", message, _root(request)), 404)
        stored = found[0]
        location = report_location(stored.verdict)
        if location is None:
            from airflow.utils.session import create_session

            with create_session() as session:
                location = report_xcom_location(session, dag_id, run_id, task_id, map_index)
        if location:
            try:
                return _html(read_report(location), csp=_REPORT_CSP)
            except FileNotFoundError:
                why = (
                    f"The stored report {location} no longer exists; this copy is rendered from the verdict in Airflow."
                )
            except ReportStorageError as err:
                why = f"The stored report could not be read ({err}); this copy is rendered from the verdict in Airflow."
        else:
            why = "This verdict has no stored report (no report_uri); rendered from the verdict in Airflow."
        conn_id = sagemaker.page_conn_id()
        described = None
        if stored.verdict.get("experiment") is None and stored.experiment_name:
            described, _ = sagemaker.describe_experiment(conn_id, stored.experiment_name)
        series = None
        if not stored.verdict.get("series"):
            try:
                series = fetch_series(conn_id, stored.verdict, sagemaker.CLIENT_CONFIG)
                why += " Per-minute metrics read from CloudWatch now."
            except Exception as err:  # The report still shows the verdict without charts.
                why += f" Per-minute metrics could not be read from CloudWatch ({sagemaker.error_text(err)})."
        rendered = render_html_report(stored.verdict, series=series, experiment=described)
        return _html(rendered.replace("<body>", "<body>" + page.report_banner(why), 1), csp=_REPORT_CSP)

    @app.get("/api/experiments")
    def experiments_json(user: UserDep) -> JSONResponse:
        """The list page's data as JSON (for scripts): experiments, latest verdicts, the AWS error if any."""
        from airflow_provider_shadowtest.jsonsafe import json_safe

        listing = sagemaker.list_experiments(sagemaker.page_conn_id())
        latest = _latest_per_experiment(_verdicts(user))
        body: dict[str, Any] = {
            "experiments": json_safe(listing.experiments),
            "aws_error": listing.error,
            "latest_verdicts": {
                name: {"dag_id": v.dag_id, "run_id": v.run_id, "task_id": v.task_id, "decision": v.decision}
                for name, v in latest.items()
            },
        }
        return JSONResponse(body)

    return app
