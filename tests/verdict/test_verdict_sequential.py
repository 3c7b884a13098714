"""Continuous judging: early REJECT of a clear regression, bounded error over repeated looks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from airflow_provider_shadowtest.verdict import Decision
from airflow_provider_shadowtest.verdict.evidence import Evidence, restrict
from airflow_provider_shadowtest.verdict.sequential import SequentialPlan, Spending, look, spent_alpha
from airflow_provider_shadowtest.verdict.settings import settings_from_thresholds
from tests.verdict.factory import BASE_5XX, T0, make_evidence

SETTINGS = settings_from_thresholds()
PLAN = SequentialPlan(observation_seconds=3600, check_interval_seconds=300)


@pytest.mark.parametrize("spending", ["pocock", "obrien_fleming"])
def test_spending_grows_to_alpha(spending: Spending) -> None:
    values = [spent_alpha(t / 10, 0.025, spending) for t in range(11)]
    assert values[0] == 0
    assert values == sorted(values)
    assert values[-1] == pytest.approx(0.025)


def test_pocock_spends_earlier_than_obrien_fleming() -> None:
    assert spent_alpha(0.2, 0.025, "pocock") > 100 * spent_alpha(0.2, 0.025, "obrien_fleming")


def test_looks_never_spend_more_than_the_stated_error() -> None:
    plan = SequentialPlan(observation_seconds=3600, check_interval_seconds=60)
    fractions = [0.0] + [k / plan.planned_looks for k in range(1, plan.planned_looks + 1)]
    spent = sum((100 - plan.look_confidence_percent(95, a, b)) / 200 for a, b in itertools.pairwise(fractions))
    assert spent == pytest.approx(0.025)
    assert all(plan.look_confidence_percent(95, a, b) > 95 for a, b in itertools.pairwise(fractions))


def _first_minutes(seed: int, minutes: int, *, error_5xx: float = BASE_5XX) -> Evidence:
    full = make_evidence(seed, minutes=60, per_minute=120, error_5xx=error_5xx)
    window = (T0, T0 + dt.timedelta(minutes=minutes))
    return restrict(full.production, full.shadow, 60, window, warmup_seconds=300, lag_seconds=180)


def test_a_clear_regression_is_rejected_early_and_saves_instance_hours() -> None:
    evidence = _first_minutes(0, 10, error_5xx=0.05)
    result = look(evidence, SETTINGS, PLAN, look_number=2, previous_fraction=5 / 60, shadow_instance_count=2)
    assert result.decision is Decision.REJECT
    details = result.verdict.to_json()["sequential"]
    assert details["decided_early"] is True
    assert details["instance_hours_saved"] == pytest.approx(2 * 50 / 60)
    assert details["look_confidence_percent"] > 99
    assert "instance-hours saved: 1.67" in result.verdict.to_json()["report_markdown"]


def test_an_equal_candidate_early_on_continues() -> None:
    evidence = _first_minutes(1, 10)
    result = look(evidence, SETTINGS, PLAN, look_number=2, previous_fraction=5 / 60, shadow_instance_count=1)
    assert result.should_continue
    assert result.decision is None
    assert result.verdict.to_json()["sequential"]["instance_hours_saved"] == 0


def test_the_final_look_ends_undecided_evidence_as_inconclusive() -> None:
    evidence = make_evidence(2, minutes=60, per_minute=20)
    result = look(evidence, SETTINGS, PLAN, look_number=12, previous_fraction=55 / 60, shadow_instance_count=1)
    assert result.final
    assert result.decision is Decision.INCONCLUSIVE


def test_repeated_looks_at_an_equal_candidate_rarely_reject() -> None:
    rejected = 0
    for seed in range(40):
        full = make_evidence(seed, minutes=60, per_minute=60)
        previous = 0.0
        for number, minutes in enumerate(range(5, 61, 5), start=1):
            part = dataclasses.replace(
                restrict(full.production, full.shadow, 60, (T0, T0 + dt.timedelta(minutes=minutes))),
            )
            result = look(part, SETTINGS, PLAN, look_number=number, previous_fraction=previous, shadow_instance_count=1)
            if result.decision is not None:
                rejected += result.decision is Decision.REJECT
                break
            previous = result.fraction
    assert rejected <= 1


def test_bad_plans_name_the_setting() -> None:
    with pytest.raises(ValueError, match="observation_seconds"):
        SequentialPlan(observation_seconds=0, check_interval_seconds=60)
    with pytest.raises(ValueError, match="check_interval_seconds"):
        SequentialPlan(observation_seconds=600, check_interval_seconds=601)
    with pytest.raises(ValueError, match="spending"):
        SequentialPlan(observation_seconds=600, check_interval_seconds=60, spending="linear")  # type: ignore[arg-type]


def test_an_observation_ended_early_spends_the_rest_and_decides() -> None:
    evidence = _first_minutes(3, 20)
    result = look(
        evidence, SETTINGS, PLAN, look_number=4, previous_fraction=15 / 60, shadow_instance_count=1, is_final=True
    )
    assert result.final
    assert result.decision is not None
    details = result.verdict.to_json()["sequential"]
    assert details["information_fraction"] == 1.0
    assert details["instance_hours_saved"] == 0
    expected = PLAN.look_confidence_percent(95, 15 / 60, 1.0)
    assert details["look_confidence_percent"] == pytest.approx(expected)
