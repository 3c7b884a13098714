"""The statistical judge: worse is rejected, equal is not, thin evidence waits, and it all shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from airflow_provider_shadowtest.verdict import Decision, VerdictThresholds
from airflow_provider_shadowtest.verdict.evidence import judged_window
from airflow_provider_shadowtest.verdict.judge import StatisticalVerdict, judge, reject_confidence_levels
from airflow_provider_shadowtest.verdict.settings import settings_from_thresholds
from tests.verdict.factory import T0, make_evidence

SETTINGS = settings_from_thresholds()


def result(verdict: StatisticalVerdict, name: str) -> dict[str, object]:
    return next(c for c in verdict.to_json()["checks"] if c["name"] == name)


def test_slower_candidate_is_rejected_on_latency() -> None:
    verdict = judge(make_evidence(latency_factor=1.25), SETTINGS)
    assert verdict.decision is Decision.REJECT
    mean = result(verdict, "latency_average")
    assert mean["outcome"] == "regression"
    interval = mean["interval"]
    assert isinstance(interval, dict)
    assert 10 < interval["low"] < 25 < interval["high"]
    assert any("Model latency mean" in r for r in verdict.reasons)


def test_failing_candidate_is_rejected_on_the_5xx_rate() -> None:
    verdict = judge(make_evidence(error_5xx=0.03), SETTINGS)
    assert verdict.decision is Decision.REJECT
    assert [r.spec.name for r in verdict.checks if r.outcome == "regression"] == ["error_rate_5xx"]


@pytest.mark.parametrize("seed", range(5))
def test_equal_candidate_with_plenty_of_data_is_promoted(seed: int) -> None:
    verdict = judge(make_evidence(seed, minutes=120, per_minute=300), SETTINGS)
    assert verdict.decision is Decision.PROMOTE, verdict.reasons


def test_thin_evidence_is_inconclusive_with_an_estimate_of_what_would_decide() -> None:
    verdict = judge(make_evidence(minutes=10, per_minute=60), SETTINGS)
    assert verdict.decision is Decision.INCONCLUSIVE
    assert verdict.more_observation_seconds is not None
    assert verdict.more_observation_seconds > 0
    assert "more minutes" in verdict.reasons[-1]


def test_a_regression_within_the_allowance_is_not_rejected() -> None:
    verdict = judge(make_evidence(minutes=120, per_minute=300, latency_factor=1.03), SETTINGS)
    assert verdict.decision is not Decision.REJECT
    assert result(verdict, "latency_average")["outcome"] == "within"


def test_missing_percentiles_decide_on_the_mean_and_say_so() -> None:
    slow = judge(make_evidence(latency_factor=1.25, shadow_percentiles=False), SETTINGS)
    assert slow.decision is Decision.REJECT
    equal = judge(make_evidence(minutes=120, per_minute=300, shadow_percentiles=False), SETTINGS)
    assert equal.decision is Decision.PROMOTE
    assert any("skipped, no data: Model latency p99" in note for note in equal.notes)
    assert "Model latency p99" in equal.to_json()["report_markdown"]


def test_a_missing_must_have_check_is_inconclusive() -> None:
    evidence = make_evidence(minutes=120, per_minute=300)
    metrics = {k: v for k, v in evidence.shadow.metrics.items() if k != "ModelLatency.Average"}
    evidence = dataclasses.replace(evidence, shadow=dataclasses.replace(evidence.shadow, metrics=metrics))
    verdict = judge(evidence, SETTINGS)
    assert verdict.decision is Decision.INCONCLUSIVE
    assert "Model latency mean" in verdict.reasons[0]


def test_a_non_critical_check_reports_but_does_not_reject() -> None:
    lenient = settings_from_thresholds(check_settings={"latency_average": {"critical": False}})
    only_mean = settings_from_thresholds(VerdictThresholds(max_latency_increase_percent={"average": 10}))
    evidence = make_evidence(latency_factor=1.25)
    assert judge(evidence, only_mean).decision is Decision.REJECT
    not_critical = settings_from_thresholds(
        VerdictThresholds(max_latency_increase_percent={"average": 10}),
        check_settings={"latency_average": {"critical": "false"}},
    )
    verdict = judge(evidence, not_critical)
    assert verdict.decision is not Decision.REJECT
    assert any("not critical" in note for note in verdict.notes)
    assert judge(evidence, lenient).decision is Decision.REJECT  # the percentiles still catch it


def test_too_few_shadow_invocations_are_inconclusive() -> None:
    settings = dataclasses.replace(SETTINGS, min_shadow_invocations=10**6)
    verdict = judge(make_evidence(latency_factor=1.25), settings)
    assert verdict.decision is Decision.INCONCLUSIVE
    assert "at least 1,000,000" in verdict.reasons[0]


def test_verdict_json_shows_intervals_confidence_warmup_and_lag() -> None:
    document = judge(make_evidence(), settings_from_thresholds(confidence_percent=90)).to_json()
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert document["confidence_percent"] == 90
    assert document["window"]["warmup_seconds"] == 300
    assert document["window"]["lag_seconds"] == 180
    check = next(c for c in document["checks"] if c["name"] == "error_rate_5xx")
    assert check["interval"]["confidence_percent"] == 90
    assert check["allowed_increase"] == 0.5
    markdown = document["report_markdown"]
    assert "90 % confidence" in markdown
    assert "300 s warm-up" in markdown
    assert "180 s CloudWatch lag" in markdown


def test_settings_map_the_operator_thresholds() -> None:
    settings = settings_from_thresholds(
        VerdictThresholds(max_latency_increase_percent={"p99": 20}, promote_on_insufficient_data=True)
    )
    names = {c.name: c for c in settings.checks}
    assert names["latency_p99"].allowed_increase == 20
    assert names["latency_p99"].metric == "ModelLatency.p99"
    assert not names["error_rate_5xx"].must_have_data
    assert settings.percentiles == ("p99",)
    with pytest.raises(ValueError, match="check_settings: unknown check 'latency_p42'"):
        settings_from_thresholds(check_settings={"latency_p42": {"critical": False}})
    with pytest.raises(ValueError, match=r"check_settings\['latency_average'\]\['allowed_increase'\]"):
        settings_from_thresholds(check_settings={"latency_average": {"allowed_increase": "lots"}})


def test_judged_window_leaves_out_warmup_and_lag() -> None:
    start, end = T0, T0 + dt.timedelta(hours=1)
    in_service = T0 + dt.timedelta(minutes=4)
    now = T0 + dt.timedelta(minutes=30)
    first, last = judged_window(start, end, now, shadow_in_service_at=in_service, warmup_seconds=300, lag_seconds=120)
    assert first == T0 + dt.timedelta(minutes=9)
    assert last == T0 + dt.timedelta(minutes=28)
    with pytest.raises(ValueError, match="lag_seconds"):
        judged_window(start, end, now, lag_seconds=-1)


def test_reject_bounds_share_the_error_among_metrics_and_their_statistics() -> None:
    levels = reject_confidence_levels(95, SETTINGS.checks)
    # ModelLatency (weight 1: half to the mean, half split among p50, p90, p99) and three error counts (2 each).
    assert levels["error_rate_5xx"] == pytest.approx(100 - 5 * 2 / 7)
    assert levels["latency_average"] == pytest.approx(100 - 5 / 7 / 2)
    assert levels["latency_p99"] == pytest.approx(100 - 5 / 7 / 6)
    assert "overhead_latency_average" not in levels  # not critical: reported, never rejects
    assert sum((100 - v) for v in levels.values()) == pytest.approx(5)
