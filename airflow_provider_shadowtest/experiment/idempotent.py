"""Idempotent create, pure: create, reuse the experiment a previous try created, or refuse.

A retried task rebuilds the same request; if its first try created the experiment, the retry
must neither fail nor create a second one. :func:`decide_create` compares the request with the
existing experiment (see :func:`~airflow_provider_shadowtest.experiment.compare.config_differences`)
and says what to do; the operator only does the I/O around it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final, Literal

from airflow_provider_shadowtest.exceptions import (
    ExperimentAlreadyExists,
    ExperimentConfigMismatch,
    InvalidExperimentRequest,
    ShadowTestError,
)
from airflow_provider_shadowtest.experiment.compare import config_differences
from airflow_provider_shadowtest.experiment.schedule import normalize_schedule
from airflow_provider_shadowtest.parsing import parse_literal

#: What ``if_exists`` accepts: reuse an equal experiment, or always refuse an existing one.
IF_EXISTS_CHOICES: Final = ("reuse", "fail")
#: How far apart schedule times of a retried create may be: a start derived from "now" moves by
#: the retry delay; explicit times only by the service's rounding.
NOW_TOLERANCE_SECONDS: Final = 3600.0
EXACT_TOLERANCE_SECONDS: Final = 1.0

CreateAction = Literal["create", "reuse", "refuse", "mismatch"]


@dataclasses.dataclass(frozen=True)
class CreateDecision:
    """What an idempotent create does.

    :param action: ``create`` (nothing exists), ``reuse`` (the existing experiment is this
        request's), ``refuse`` (one exists and ``if_exists="fail"``), ``mismatch`` (one exists
        with another configuration).
    :param differences: for ``mismatch``, how the existing experiment differs.
    """

    action: CreateAction
    differences: tuple[str, ...] = ()

    def error(self, request: Mapping[str, Any], existing: Mapping[str, Any]) -> ShadowTestError:
        """Return the exception for ``refuse`` or ``mismatch``."""
        name = str(request["Name"])
        if self.action == "refuse":
            return ExperimentAlreadyExists(
                "ResourceInUse",
                f"Inference experiment {name!r} already exists (status {existing.get('Status')}) and if_exists='fail'",
                operation="CreateInferenceExperiment",
            )
        return ExperimentConfigMismatch(name, self.differences)


def decide_create(
    request: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
    *,
    if_exists: str,
    start_from_now: bool,
) -> CreateDecision:
    """Decide whether to create ``request``, reuse ``existing``, or fail.

    :param request: the CreateInferenceExperiment request (``build_create_request``).
    :param existing: the Describe result for the request's name, or None when there is none.
    :param if_exists: ``"reuse"`` or ``"fail"``.
    :param start_from_now: whether the request's start was derived from the current time (see
        :func:`start_from_now`): its schedule then moves with each retry, by up to an hour.
    :raises InvalidExperimentRequest: naming ``if_exists`` when it is neither choice.
    """
    if if_exists not in IF_EXISTS_CHOICES:
        raise InvalidExperimentRequest([("if_exists", f"expected 'reuse' or 'fail', got {if_exists!r}")])
    if existing is None:
        return CreateDecision("create")
    if if_exists == "fail":
        return CreateDecision("refuse")
    tolerance = NOW_TOLERANCE_SECONDS if start_from_now else EXACT_TOLERANCE_SECONDS
    differences = config_differences(request, existing, schedule_tolerance_seconds=tolerance)
    return CreateDecision("mismatch", tuple(differences)) if differences else CreateDecision("reuse")


def start_from_now(*, schedule: Any, start_time: Any, end_time: Any, duration: Any) -> bool:
    """Whether ``build_create_request`` resolves these schedule arguments to a start of "now".

    That is a duration without a start (:attr:`NormalizedSchedule.start_from_now`). Arguments are
    as rendered: a schedule may be its JSON text, an empty string means "not given". Arguments
    that do not resolve give False (the request's validation reports them).
    """
    given = {
        k: None if v == "" else v
        for k, v in (("start_time", start_time), ("end_time", end_time), ("duration", duration))
    }
    try:
        if isinstance(schedule, str):
            schedule = parse_literal(schedule) if schedule.strip() else None
        if schedule is not None and not isinstance(schedule, Mapping):
            return False
        return normalize_schedule(schedule, **given).start_from_now
    except ValueError:  # InvalidExperimentRequest included
        return False
