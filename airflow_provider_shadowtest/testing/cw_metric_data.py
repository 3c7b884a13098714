"""GetMetricData for moto's CloudWatch: documented limits, metric math, ``MaxDatapoints`` paging.

Replaces moto's ``CloudWatchResponse.get_metric_data`` (which has no ``NextToken``) and
``CloudWatchBackend.get_metric_data`` (which has no percentiles and little math):

- at most 500 queries, unique ids starting with a lower-case letter, each with exactly one of
  ``MetricStat`` and ``Expression``, periods CloudWatch accepts (:mod:`.cw_limits`);
- metric queries answered from :func:`.cloudwatch_ext.query_buckets` (percentiles included),
  datapoints kept as long as CloudWatch keeps them at that period;
- expressions evaluated with :mod:`.cw_math`, in dependency order; ``ReturnData: false``
  computes a query without returning it;
- at most ``MaxDatapoints`` datapoints per call, the rest behind a ``NextToken`` bound to the
  request (a token of another request is ``InvalidNextToken``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from airflow_provider_shadowtest.testing import cw_limits
from airflow_provider_shadowtest.testing.cw_math import MathError, Series, evaluate, referenced_ids
from airflow_provider_shadowtest.testing.cw_stats import naive_utc, validate_statistic
from airflow_provider_shadowtest.testing.plain_params import plain

_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


def _error(kind: str, message: str) -> Exception:
    from moto.cloudwatch import exceptions

    return getattr(exceptions, kind)(message)  # type: ignore[no-any-return]


def get_metric_data_action(self: Any) -> Any:
    """``CloudWatchResponse.get_metric_data`` with paging; the backend call does the rest."""
    from moto.core.responses import ActionResult

    params = plain(self._get_params())
    queries = params.get("MetricDataQueries") or []
    max_datapoints = int(params.get("MaxDatapoints") or cw_limits.DEFAULT_MAX_DATAPOINTS)
    fingerprint = cw_limits.request_fingerprint(params)
    offset = 0
    if params.get("NextToken"):
        try:
            offset = cw_limits.decode_token(str(params["NextToken"]), fingerprint)
        except ValueError as exc:
            from moto.cloudwatch.exceptions import CloudWatchException

            raise CloudWatchException("InvalidNextToken", str(exc)) from None
    results = self.cloudwatch_backend.get_metric_data(
        queries=queries,
        start_time=params["StartTime"],
        end_time=params["EndTime"],
        scan_by=params.get("ScanBy") or "TimestampDescending",
    )
    page, next_offset = cw_limits.paginate(results, max_datapoints, offset)
    body: dict[str, Any] = {"MetricDataResults": page, "Messages": []}
    if next_offset is not None:
        body["NextToken"] = cw_limits.encode_token(next_offset, fingerprint)
    return ActionResult(body)


def metric_data(
    backend: Any,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str,
    *,
    insights: Any = None,
) -> list[dict[str, Any]]:
    """Answer the queries of one GetMetricData call, every datapoint (paging comes after).

    :param insights: moto's own ``get_metric_data`` for ``SELECT`` (Metrics Insights) queries.
    """
    from airflow_provider_shadowtest.testing.cloudwatch_ext import query_buckets

    start_time = naive_utc(start_time).replace(microsecond=0)
    end_time = naive_utc(end_time).replace(microsecond=0)
    if start_time > end_time:
        raise _error("ValidationError", "The parameter EndTime must be greater than StartTime.")
    if start_time == end_time:
        raise _error("ValidationError", "The parameter StartTime must not equal parameter EndTime.")
    _check_queries(queries)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    series: dict[str, Series] = {}
    metric_ids: list[str] = []
    for number, query in enumerate(queries, start=1):
        stat = query.get("MetricStat")
        if not stat:
            continue
        metric = stat["Metric"]
        period = int(stat["Period"])
        statistic = stat["Stat"]
        try:
            validate_statistic(statistic)
        except ValueError:
            where = f"MetricDataQueries.member.{number}.MetricStat.Stat"
            raise _error(
                "InvalidParameterValue", f"The value {statistic} for parameter {where} is not supported."
            ) from None
        dimensions = [(d["Name"], d.get("Value")) for d in metric.get("Dimensions") or ()]
        buckets = query_buckets(
            backend,
            metric["Namespace"],
            metric["MetricName"],
            dimensions,
            start=start_time,
            end=end_time,
            period_seconds=period,
            unit=stat.get("Unit"),
            exact=True if dimensions else None,
        )
        points = {
            b.timestamp: value
            for b in buckets
            if cw_limits.retained(b.timestamp, period, now) and (value := b.statistic(statistic)) is not None
        }
        series[query["Id"]] = Series(query.get("Label") or f"{metric['MetricName']} {statistic}", points)
        metric_ids.append(query["Id"])
    expressions = {q["Id"]: q for q in queries if q.get("Expression") and not q["Expression"].startswith("SELECT")}
    for query_id in _evaluation_order(expressions):
        query = expressions[query_id]
        series.update(_evaluate(query, series, metric_ids))
    results: list[dict[str, Any]] = []
    for query in queries:
        if query.get("ReturnData", True) is False or query["Id"] not in series:
            continue
        for key, item in series.items():
            if key == query["Id"] or key.startswith(query["Id"] + "\x00"):
                results.append(_result(query["Id"], item, scan_by))
    selects = [q for q in queries if (q.get("Expression") or "").startswith("SELECT")]
    if selects and insights is not None:
        results.extend(insights(backend, selects, start_time, end_time, scan_by))
    return results


def _check_queries(queries: list[dict[str, Any]]) -> None:
    limit = cw_limits.MAX_QUERIES_PER_DATA_CALL
    if len(queries) > limit:
        raise _error(
            "InvalidParameterValue", f"The collection MetricDataQueries must not have a size greater than {limit}."
        )
    ids = [q.get("Id") for q in queries]
    if len(set(ids)) != len(ids):
        raise _error("ValidationError", "The values for parameter Id in MetricDataQueries are not unique.")
    for number, query in enumerate(queries, start=1):
        where = f"MetricDataQueries.member.{number}"
        if not _ID.match(str(query.get("Id"))):
            raise _error(
                "ValidationError",
                f"The value {query.get('Id')} for parameter {where}.Id is not valid: it must start with a "
                "lower-case letter and hold only letters, digits and underscores.",
            )
        if bool(query.get("MetricStat")) == bool(query.get("Expression")):
            raise _error("ValidationError", f"Exactly one of {where}.MetricStat and {where}.Expression must be given.")
        stat = query.get("MetricStat")
        problem = cw_limits.period_problem(int(stat["Period"]), f"{where}.MetricStat.Period") if stat else None
        if problem is None and query.get("Period") is not None:
            problem = cw_limits.period_problem(int(query["Period"]), f"{where}.Period")
        if problem:
            raise _error("InvalidParameterValue", problem)
    if not any(q.get("ReturnData", True) is not False for q in queries):
        raise _error("ValidationError", "At least one query of MetricDataQueries must have ReturnData true.")


def _evaluation_order(expressions: dict[str, dict[str, Any]]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(query_id: str) -> None:
        if state.get(query_id) == 2:
            return
        if state.get(query_id) == 1:
            raise _error("ValidationError", f"Error in expression {query_id}: circular reference.")
        state[query_id] = 1
        for other in referenced_ids(expressions[query_id]["Expression"]):
            if other in expressions:
                visit(other)
        state[query_id] = 2
        order.append(query_id)

    for query_id in expressions:
        visit(query_id)
    return order


def _evaluate(query: dict[str, Any], series: dict[str, Series], metric_ids: list[str]) -> dict[str, Series]:
    try:
        value = evaluate(query["Expression"], series, metric_ids)
    except MathError as exc:
        raise _error("ValidationError", f"{exc} (query {query['Id']})") from None
    label = query.get("Label") or query["Id"]
    if isinstance(value, Series):
        return {query["Id"]: Series(query.get("Label") or value.label or label, value.points)}
    if isinstance(value, list):
        # an array result: one result per series, all under the expression's id
        out = {query["Id"]: Series(label, {})} if not value else {}
        for index, item in enumerate(value):
            key = query["Id"] if index == 0 else f"{query['Id']}\x00{index}"
            out[key] = Series(item.label, item.points)
        return out
    stamps = sorted({t for s in series.values() for t in s.points})
    points = {t: float(value) for t in stamps} if not math.isnan(value) else {}
    return {query["Id"]: Series(label, points)}


def _result(query_id: str, item: Series, scan_by: str) -> dict[str, Any]:
    stamps = sorted(item.points, reverse=scan_by != "TimestampAscending")
    return {
        "id": query_id,
        "label": item.label,
        "values": [item.points[t] for t in stamps],
        "timestamps": stamps,
        "status_code": "Complete",
    }
