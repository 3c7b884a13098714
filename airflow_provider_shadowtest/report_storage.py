"""Write and read HTML reports through Airflow's object storage (``s3://``, ``gs://``, ``file://``, ...).

The evaluate operator calls :func:`write_report` with its ``report_uri`` and stores the returned
location in the verdict (``report_location``); the "Shadow tests" page reads it back with
:func:`read_report`. ``s3://`` needs ``apache-airflow-providers-amazon[s3fs]``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_provider_shadowtest.exceptions import ShadowTestError

if TYPE_CHECKING:
    from collections.abc import Mapping

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


class ReportStorageError(ShadowTestError):
    """The report could not be written or read at its location; the message names it."""


def _path_class() -> Any:
    try:
        from airflow.sdk import ObjectStoragePath
    except ImportError:  # Airflow 2.x
        from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef,unused-ignore]
    return ObjectStoragePath


def report_file_name(*, dag_id: str, run_id: str, task_id: str, map_index: int = -1, experiment_name: str = "") -> str:
    """A stable, path-safe name for one task's report: ``<experiment>/<dag>/<run>/<task>[-<map>].html``."""
    parts = [experiment_name or "no-experiment", dag_id, run_id, task_id + (f"-{map_index}" if map_index >= 0 else "")]
    return "/".join(_UNSAFE.sub("_", part).strip("._") or "_" for part in parts) + ".html"


def write_report(html: str, report_uri: str, file_name: str, *, conn_id: str | None = None) -> str:
    """Write ``html`` to ``report_uri`` + ``file_name`` and return the location (a URI).

    :param html: the report (see :func:`~airflow_provider_shadowtest.verdict.html_report.render_html_report`).
    :param report_uri: a folder URI: ``s3://bucket/prefix/``, ``file:///var/reports/``; a plain
        absolute path is taken as ``file://``.
    :param file_name: relative name, e.g. from :func:`report_file_name`.
    :param conn_id: Airflow connection of the storage (``aws_default`` style); None for the default.
    :raises ReportStorageError: naming ``report_uri`` when it is empty, relative or unwritable.
    """
    uri = (report_uri or "").strip()
    if not uri:
        raise ReportStorageError("report_uri: empty; give a folder such as s3://bucket/prefix/ or file:///path/")
    if "://" not in uri:
        if not uri.startswith("/"):
            raise ReportStorageError(f"report_uri: {report_uri!r} is neither a URI nor an absolute path")
        uri = f"file://{uri}"
    try:
        target = _path_class()(uri.rstrip("/") + "/", conn_id=conn_id) / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except (OSError, ValueError, ImportError) as err:
        raise ReportStorageError(f"report_uri: cannot write the report under {report_uri!r}: {err}") from err
    return str(target)


def read_report(location: str, *, conn_id: str | None = None) -> str:
    """Return the report stored at ``location``.

    :raises FileNotFoundError: when it no longer exists (deleted, expired by a lifecycle rule).
    :raises ReportStorageError: when the location cannot be read for another reason.
    """
    try:
        path = _path_class()(location, conn_id=conn_id)
        if not path.exists():
            raise FileNotFoundError(location)
        return str(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, ImportError) as err:
        raise ReportStorageError(f"cannot read the report at {location!r}: {err}") from err


def report_location(verdict: Mapping[str, Any] | None) -> str | None:
    """The report location a verdict records (``report_location``), if any."""
    if not isinstance(verdict, dict):
        return None
    value = verdict.get("report_location")
    return str(value) if value else None
