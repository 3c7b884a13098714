"""decide_create: create, reuse what a previous try created, or refuse, without any I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_shadowtest.exceptions import (
    ExperimentAlreadyExists,
    ExperimentConfigMismatch,
    InvalidExperimentRequest,
)
from airflow_provider_shadowtest.experiment.idempotent import decide_create, start_from_now
from tests.experiment.shadowtest_requests import api_request
from tests.experiment.test_experiment_compare import described


def moved(request: dict[str, Any], minutes: float) -> dict[str, Any]:
    """The same request rebuilt ``minutes`` later (a start derived from now moves with it)."""
    out = dict(request)
    shift = dt.timedelta(minutes=minutes)
    out["Schedule"] = {k: t + shift for k, t in request["Schedule"].items()}
    return out


def test_nothing_exists_creates() -> None:
    assert decide_create(api_request(), None, if_exists="reuse", start_from_now=False).action == "create"


def test_an_equal_experiment_is_reused() -> None:
    request = api_request()
    assert decide_create(request, described(request), if_exists="reuse", start_from_now=False).action == "reuse"


def test_if_exists_fail_refuses_even_an_equal_experiment() -> None:
    request = api_request()
    existing = described(request)
    decision = decide_create(request, existing, if_exists="fail", start_from_now=False)
    assert decision.action == "refuse"
    error = decision.error(request, existing)
    assert isinstance(error, ExperimentAlreadyExists)
    assert "if_exists='fail'" in str(error)


def test_a_different_experiment_is_a_mismatch_listing_the_differences() -> None:
    request = api_request()
    existing = described(request)
    existing["RoleArn"] = "arn:aws:iam::123456789012:role/Other"
    decision = decide_create(request, existing, if_exists="reuse", start_from_now=False)
    assert decision.action == "mismatch"
    assert [d.split(":")[0] for d in decision.differences] == ["RoleArn"]
    assert isinstance(decision.error(request, existing), ExperimentConfigMismatch)


def test_a_start_from_now_may_move_by_the_retry_delay_an_explicit_one_may_not() -> None:
    request = api_request()
    existing = described(request)
    retried = moved(request, 5)
    assert decide_create(retried, existing, if_exists="reuse", start_from_now=True).action == "reuse"
    assert decide_create(retried, existing, if_exists="reuse", start_from_now=False).action == "mismatch"
    assert decide_create(moved(request, 90), existing, if_exists="reuse", start_from_now=True).action == "mismatch"


def test_an_unknown_if_exists_is_named() -> None:
    with pytest.raises(InvalidExperimentRequest, match="if_exists: expected 'reuse' or 'fail', got 'replace'"):
        decide_create(api_request(), None, if_exists="replace", start_from_now=False)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"duration": "PT2H"}, True),
        ({"duration": "PT2H", "start_time": "2030-01-01T00:00:00Z"}, False),
        ({"schedule": '{"StartTime": "2030-01-01T00:00:00Z"}', "duration": "PT2H"}, False),
        ({"schedule": "", "start_time": "", "duration": 7200}, True),
        ({"end_time": "2030-01-02T00:00:00Z"}, False),
        ({}, False),
        ({"duration": "not a duration"}, False),
    ],
)
def test_start_from_now_follows_the_schedule_rules(arguments: dict[str, Any], expected: bool) -> None:
    given: dict[str, Any] = {"schedule": None, "start_time": None, "end_time": None, "duration": None, **arguments}
    assert start_from_now(**given) is expected
