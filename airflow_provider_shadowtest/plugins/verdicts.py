"""Read the verdicts the evaluate operator stored (XCom ``return_value``) from Airflow's metadata DB."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection

    from sqlalchemy.orm import Session

#: ``task_instance.operator`` of the tasks whose return value is a verdict.
EVALUATE_OPERATOR: Final = "EvaluateInferenceExperimentOperator"
#: How many of the newest verdicts the list page reads.
MAX_VERDICTS: Final = 200


@dataclasses.dataclass(frozen=True)
class StoredVerdict:
    """One verdict and the task instance that produced it."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    stored_at: dt.datetime | None
    verdict: dict[str, Any]

    @property
    def experiment_name(self) -> str | None:
        name = self.verdict.get("experiment_name")
        return str(name) if name else None

    @property
    def decision(self) -> str:
        return str(self.verdict.get("decision") or "UNKNOWN")


def decode_value(value: Any) -> Any:
    """XCom values are JSON, sometimes JSON text inside JSON: return the plain value."""
    for _ in range(2):
        if isinstance(value, (bytes, str)):
            try:
                value = json.loads(value)
            except ValueError:
                return value
    return value


def load_verdicts(
    session: Session,
    *,
    dag_ids: Collection[str] | None,
    task: tuple[str, str, str, int] | None = None,
    limit: int = MAX_VERDICTS,
) -> list[StoredVerdict]:
    """Newest first: the verdicts of evaluate tasks in ``dag_ids`` (None: every DAG).

    :param task: ``(dag_id, run_id, task_id, map_index)`` to read one task's verdict only.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, select

    query = (
        select(
            XComModel.dag_id,
            XComModel.run_id,
            XComModel.task_id,
            XComModel.map_index,
            XComModel.timestamp,
            XComModel.value,
        )
        .join(
            TaskInstance,
            and_(
                TaskInstance.dag_id == XComModel.dag_id,
                TaskInstance.run_id == XComModel.run_id,
                TaskInstance.task_id == XComModel.task_id,
                TaskInstance.map_index == XComModel.map_index,
            ),
        )
        .where(XComModel.key == "return_value", TaskInstance.operator == EVALUATE_OPERATOR)
        .order_by(XComModel.timestamp.desc())
        .limit(limit)
    )
    if dag_ids is not None:
        if not dag_ids:
            return []
        query = query.where(XComModel.dag_id.in_(list(dag_ids)))
    if task is not None:
        dag_id, run_id, task_id, map_index = task
        query = query.where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
        )
    found = []
    for dag_id, run_id, task_id, map_index, stored_at, raw in session.execute(query).all():
        verdict = decode_value(raw)
        if isinstance(verdict, dict) and "decision" in verdict:
            found.append(StoredVerdict(dag_id, run_id, task_id, int(map_index), stored_at, verdict))
    return found


def report_xcom_location(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> str | None:
    """The location stored for the "Shadow test report" link (``links.report.XCOM_KEY``), if any."""
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    from airflow_provider_shadowtest.links.report import XCOM_KEY

    raw = session.execute(
        select(XComModel.value).where(
            XComModel.key == XCOM_KEY,
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
        )
    ).scalar()
    value = decode_value(raw)
    return str(value["location"]) if isinstance(value, dict) and value.get("location") else None
