"""Reports written and read back through Airflow's object storage."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_shadowtest.report_storage import (
    ReportStorageError,
    read_report,
    report_file_name,
    report_location,
    write_report,
)

if TYPE_CHECKING:
    from pathlib import Path


def test_a_report_is_written_under_the_uri_and_read_back(tmp_path: Path) -> None:
    name = report_file_name(
        dag_id="pipe", run_id="manual__2026-11-02T08:00:00+00:00", task_id="evaluate", experiment_name="exp/1"
    )
    location = write_report("<html>ok</html>", f"file://{tmp_path}/reports/", name)

    assert location.startswith(f"file://{tmp_path}/reports/exp_1/pipe/")
    assert location.endswith("/evaluate.html")
    assert read_report(location) == "<html>ok</html>"
    assert (tmp_path / location.removeprefix(f"file://{tmp_path}/")).read_text() == "<html>ok</html>"


def test_a_plain_absolute_path_is_a_file_uri(tmp_path: Path) -> None:
    location = write_report("x", str(tmp_path), "a.html")
    assert location == f"file://{tmp_path}/a.html"


def test_a_deleted_report_is_reported_as_missing(tmp_path: Path) -> None:
    location = write_report("x", f"file://{tmp_path}", "gone.html")
    (tmp_path / "gone.html").unlink()
    with pytest.raises(FileNotFoundError):
        read_report(location)


@pytest.mark.parametrize("uri", ["", "   ", "relative/reports"])
def test_a_bad_report_uri_names_the_parameter(uri: str) -> None:
    with pytest.raises(ReportStorageError, match="report_uri"):
        write_report("x", uri, "a.html")


def test_an_unwritable_location_names_the_uri(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ReportStorageError, match="report_uri: cannot write"):
        write_report("x", f"file://{blocker}", "a.html")


def test_mapped_tasks_get_their_own_file_and_names_are_path_safe() -> None:
    name = report_file_name(dag_id="d", run_id="r:1", task_id="t", map_index=3)
    assert name == "no-experiment/d/r_1/t-3.html"
    assert ".." not in report_file_name(dag_id="..", run_id="../..", task_id="t")


def test_the_location_is_read_from_the_verdict() -> None:
    assert report_location({"report_location": "s3://b/k.html"}) == "s3://b/k.html"
    assert report_location({"decision": "PROMOTE"}) is None
    assert report_location(None) is None
