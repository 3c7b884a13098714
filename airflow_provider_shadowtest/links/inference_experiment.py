"""Extra links from a task to the AWS console: the inference experiment, its endpoint, and its metrics.

The operator stores what the links need (region, partition, names, variants, schedule) in one
XCom during ``execute``; a link only formats it, so rendering a task's links imports neither
boto3 nor the hook. Airflow 3 formats the links in the worker when a try ends (also when it
defers) and keeps the URLs; Airflow 2 formats them when the page asks.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Final
from urllib.parse import quote

from airflow_provider_shadowtest._compat import BaseOperatorLink, xcom_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_shadowtest._compat import BaseOperator, Context, TaskInstanceKey

#: XCom key under which the operators store :func:`link_info`.
XCOM_KEY: Final = "shadowtest_console"

#: Console host per AWS partition.
CONSOLE_HOSTS: Final = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def console_url(partition: str, region: str, fragment: str, *, service: str = "sagemaker") -> str:
    """Return the console URL of ``fragment`` (e.g. ``/endpoints/x``) of ``service`` in a region.

    Commercial regions get the regional host (``us-east-1.console.aws.amazon.com``), as the
    console redirects to it anyway; China and GovCloud keep their partition's single host.
    """
    host = CONSOLE_HOSTS.get(partition, CONSOLE_HOSTS["aws"])
    if partition == "aws":
        host = f"{region}.{host}"
    return f"https://{host}/{service}/home?region={quote(region)}#{fragment}"


def link_info(
    *,
    partition: str,
    region_name: str,
    experiment_name: str | None,
    endpoint_name: str | None,
    variant_names: Mapping[str, str | None] | None = None,
    window: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """The JSON value the operators persist for the links.

    :param variant_names: ``{"production": name, "shadow": name}`` for the metrics link.
    :param window: ``{"start": ISO-8601, "end": ISO-8601}``: the experiment's schedule.
    """
    return {
        "partition": partition,
        "region_name": region_name,
        "experiment_name": experiment_name,
        "endpoint_name": endpoint_name,
        "variant_names": dict(variant_names or {}),
        "window": dict(window or {}),
    }


def described_link_info(partition: str, region_name: str, described: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`link_info` from a DescribeInferenceExperiment result (datetimes or ISO-8601 strings)."""
    from airflow_provider_shadowtest.jsonsafe import json_safe

    config = described.get("ShadowModeConfig") or {}
    shadows = [v.get("ShadowModelVariantName") for v in config.get("ShadowModelVariants") or []]
    schedule = json_safe(described.get("Schedule") or {})
    return link_info(
        partition=partition,
        region_name=region_name,
        experiment_name=described.get("Name"),
        endpoint_name=(described.get("EndpointMetadata") or {}).get("EndpointName"),
        variant_names={"production": config.get("SourceModelVariantName"), "shadow": shadows[0] if shadows else None},
        window={"start": schedule.get("StartTime"), "end": schedule.get("EndTime")},
    )


def persist_link_info(context: Context, operator: BaseOperator, info: dict[str, Any]) -> None:
    """Store ``info`` (see :func:`link_info`) in the task's XCom, unless the task pushes no XCom."""
    ti = context.get("ti")  # absent when a test calls execute() with a bare context
    if operator.do_xcom_push and ti is not None:
        ti.xcom_push(key=XCOM_KEY, value=info)


def persist_described_links(context: Context, operator: BaseOperator, hook: Any, described: Mapping[str, Any]) -> None:
    """Store the links' XCom from a Describe result and the hook's partition and region."""
    persist_link_info(context, operator, described_link_info(hook.conn_partition, hook.conn_region_name, described))


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


#: CloudWatch charts of the metrics link: (metric, statistic, y axis), per variant.
_METRIC_LINES: Final = (("ModelLatency", "Average", "left"), ("Invocations", "Sum", "right"))


def jsurl(value: Any) -> str:
    """Encode ``value`` the way the CloudWatch console encodes its ``graph=`` state (JSURL).

    Objects are ``~(key~value...)``, arrays ``~(~item...)``, strings ``~'text``; characters other
    than letters, digits, ``_``, ``.`` and ``-`` become ``*hh`` (``/`` is ``*2f``, ``:`` ``*3a``).
    """
    if value is None:
        return "~null"
    if isinstance(value, bool):
        return "~true" if value else "~false"
    if isinstance(value, (int, float)):
        return "~" + _jsurl_text(format(value, "g") if isinstance(value, float) else str(value))
    if isinstance(value, str):
        return "~'" + _jsurl_text(value)
    if isinstance(value, dict):
        return "~(" + "~".join(_jsurl_text(str(k)) + jsurl(v) for k, v in value.items()) + ")"
    items = "".join(jsurl(v) for v in value)
    return "~(" + (items or "~") + ")"


def _jsurl_text(text: str) -> str:
    out = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "_.-"):
            out.append(ch)
        elif ch == "$":
            out.append("!")
        elif ord(ch) < 0x100:
            out.append(f"*{ord(ch):02x}")
        else:
            out.append(f"**{ord(ch):04x}")
    return "".join(out)


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def metrics_graph(info: Mapping[str, Any], now: dt.datetime) -> dict[str, Any] | None:
    """The CloudWatch graph of both variants' latency and invocations over the experiment's window.

    The window is the experiment's schedule, its end cut to ``now`` while it runs (a graph
    of the future is empty); without a start it is the last three hours. None when the
    endpoint or a variant name is unknown.
    """
    variants = info.get("variant_names") or {}
    endpoint, region = info.get("endpoint_name"), info.get("region_name")
    names = [variants.get("production"), variants.get("shadow")]
    if not endpoint or not region or not all(names):
        return None
    metrics = [
        [
            "AWS/SageMaker",
            metric,
            "EndpointName",
            endpoint,
            "VariantName",
            variant,
            {"stat": stat, "yAxis": axis, "label": f"{role} {variant} {metric} ({stat.lower()})"},
        ]
        for metric, stat, axis in _METRIC_LINES
        for role, variant in zip(("production", "shadow"), names, strict=True)
    ]
    window = info.get("window") or {}
    start, end = _parse_time(window.get("start")), _parse_time(window.get("end"))
    graph: dict[str, Any] = {
        "metrics": metrics,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "title": f"Shadow test {info.get('experiment_name') or endpoint}: ModelLatency (us, left), Invocations (right)",
    }
    if start is None or start > now:
        graph |= {"start": "-PT3H", "end": "P0D", "period": 60}
        return graph
    end = now if end is None or end > now else end
    seconds = max((end - start).total_seconds(), 60.0)
    # CloudWatch draws at most 1,440 points per line: one-minute periods up to a day.
    period = next(p for p in (60, 300, 900, 3600, 21600, 86400) if seconds / p <= 1440)
    graph |= {"start": _console_time(start), "end": _console_time(end), "period": period}
    return graph


def _console_time(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class InferenceExperimentMetricsLink(_ConsoleLink):
    """CloudWatch: both variants' ModelLatency and Invocations over the experiment's window."""

    name = "CloudWatch metrics"

    def url(self, info: dict[str, Any], now: dt.datetime | None = None) -> str:
        """Return the CloudWatch console URL of the graph (see :func:`metrics_graph`)."""
        graph = metrics_graph(info, now or dt.datetime.now(dt.timezone.utc))
        if graph is None:
            return ""
        fragment = "metricsV2?graph=" + jsurl(graph)
        return console_url(
            str(info.get("partition") or "aws"), str(info["region_name"]), fragment, service="cloudwatch"
        )


#: The links of every task that works on an experiment.
CONSOLE_LINKS: Final = (InferenceExperimentLink(), InferenceExperimentEndpointLink(), InferenceExperimentMetricsLink())
