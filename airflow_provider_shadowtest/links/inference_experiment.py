"""Extra links from a task to the SageMaker console: the inference experiment and its endpoint.

The operator stores what the links need (region, partition, names) in one XCom during
``execute``; a link only formats it, so rendering a task's links imports neither boto3 nor
the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from airflow_provider_shadowtest._compat import BaseOperatorLink, xcom_value

if TYPE_CHECKING:
    from airflow_provider_shadowtest._compat import BaseOperator, Context, TaskInstanceKey

#: XCom key under which the operators store :func:`link_info`.
XCOM_KEY: Final = "shadowtest_console"

#: Console host per AWS partition.
CONSOLE_HOSTS: Final = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def console_url(partition: str, region: str, fragment: str) -> str:
    """Return the SageMaker console URL of ``fragment`` (e.g. ``/endpoints/x``) in a region.

    Commercial regions get the regional host (``us-east-1.console.aws.amazon.com``), as the
    console redirects to it anyway; China and GovCloud keep their partition's single host.
    """
    host = CONSOLE_HOSTS.get(partition, CONSOLE_HOSTS["aws"])
    if partition == "aws":
        host = f"{region}.{host}"
    return f"https://{host}/sagemaker/home?region={quote(region)}#{fragment}"


def link_info(*, partition: str, region_name: str, experiment_name: str, endpoint_name: str | None) -> dict[str, Any]:
    """The JSON value the operators persist for both links."""
    return {
        "partition": partition,
        "region_name": region_name,
        "experiment_name": experiment_name,
        "endpoint_name": endpoint_name,
    }


def persist_link_info(context: Context, operator: BaseOperator, info: dict[str, Any]) -> None:
    """Store ``info`` (see :func:`link_info`) in the task's XCom, unless the task pushes no XCom."""
    if operator.do_xcom_push:
        context["ti"].xcom_push(key=XCOM_KEY, value=info)


class _ConsoleLink(BaseOperatorLink):
    """Format a console URL from the XCom the operator stored; empty when there is none."""

    name: ClassVar[str]

    def url(self, info: dict[str, Any]) -> str:
        """Return the URL for the stored ``info``, or ``""`` when it lacks what the link needs."""
        raise NotImplementedError

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        info = xcom_value(key=XCOM_KEY, ti_key=ti_key)
        return self.url(info) if isinstance(info, dict) else ""


class InferenceExperimentLink(_ConsoleLink):
    """The inference experiment (shadow test) in the SageMaker console."""

    name = "SageMaker Shadow Test"

    def url(self, info: dict[str, Any]) -> str:
        """Return the experiment's console URL."""
        if not info.get("experiment_name") or not info.get("region_name"):
            return ""
        fragment = f"/shadow-tests/{quote(str(info['experiment_name']), safe='')}"
        return console_url(str(info.get("partition") or "aws"), str(info["region_name"]), fragment)


class InferenceExperimentEndpointLink(_ConsoleLink):
    """The endpoint the inference experiment runs on, in the SageMaker console."""

    name = "SageMaker Endpoint"

    def url(self, info: dict[str, Any]) -> str:
        """Return the endpoint's console URL."""
        if not info.get("endpoint_name") or not info.get("region_name"):
            return ""
        fragment = f"/endpoints/{quote(str(info['endpoint_name']), safe='')}"
        return console_url(str(info.get("partition") or "aws"), str(info["region_name"]), fragment)
