"""The pure verdict: better, worse, equal, too little data, missing statistics, edge thresholds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_shadowtest.verdict import Decision, VariantMetrics, VerdictThresholds, evaluate

LATENCY_US = {"average": 40_000.0, "p50": 38_000.0, "p90": 60_000.0, "p99": 95_000.0}


def metrics(
    name: str,
    invocations: float = 1_000,
    *,
    latency_factor: float = 1.0,
    latency: dict[str, float | None] | None = None,
    errors_4xx: float = 0,
    errors_5xx: float = 0,
    model_errors: float = 0,
) -> VariantMetrics:
    return VariantMetrics(
        variant_name=name,
        invocations=invocations,
        errors={"4xx": errors_4xx, "5xx": errors_5xx, "model": model_errors},
        latency_us=latency if latency is not None else {k: v * latency_factor for k, v in LATENCY_US.items()},
    )


PROD = metrics("AllTraffic")


def check(verdict: Any, name: str) -> Any:
    return next(c for c in verdict.checks if c.name == name)


def test_equal_candidate_is_promoted_with_every_check_passed() -> None:
    verdict = evaluate(PROD, metrics("shadow", 500))
    assert verdict.decision is Decision.PROMOTE
    assert all(c.passed for c in verdict.checks)
    assert [c.name for c in verdict.checks] == [
        "invocations",
        "latency_average",
        "latency_p50",
        "latency_p90",
        "latency_p99",
        "error_rate_4xx",
        "error_rate_5xx",
        "error_rate_model",
    ]
    assert "all 7 checks passed on 500 shadow and 1,000 production invocations" in verdict.reasons[0]


def test_better_candidate_is_promoted_with_negative_changes() -> None:
    verdict = evaluate(PROD, metrics("shadow", latency_factor=0.5))
    assert verdict.decision is Decision.PROMOTE
    assert check(verdict, "latency_p99").change == -50.0
    assert check(verdict, "latency_p99").shadow == 47.5  # milliseconds


def test_slower_candidate_is_rejected_naming_each_failed_statistic() -> None:
    verdict = evaluate(PROD, metrics("shadow", latency_factor=1.25))
    assert verdict.decision is Decision.REJECT
    assert [c.name for c in verdict.failed_checks] == ["latency_average", "latency_p50", "latency_p90", "latency_p99"]
    assert verdict.reasons[0] == (
        "Model latency mean: shadow 50.000 ms vs production 40.000 ms (+25.0 %), more than the allowed +10 %"
    )


def test_more_5xx_errors_reject_and_the_rate_is_in_percent() -> None:
    verdict = evaluate(metrics("p", 10_000, errors_5xx=10), metrics("s", 1_000, errors_5xx=20))
    c = check(verdict, "error_rate_5xx")
    assert (c.production, c.shadow) == (0.1, 2.0)
    assert c.change is not None
    assert abs(c.change - 1.9) < 1e-9
    assert c.threshold_unit == "percentage_points"
    assert verdict.decision is Decision.REJECT
    assert verdict.reasons == (
        "5XX error rate: shadow 2.00 % vs production 0.10 % (+1.90 pp), more than the allowed +0.5 pp",
    )


def test_zero_production_errors_allow_a_small_absolute_rate() -> None:
    ok = evaluate(PROD, metrics("s", 1_000, model_errors=5))  # 0.5 %: exactly at the limit
    assert ok.decision is Decision.PROMOTE
    bad = evaluate(PROD, metrics("s", 1_000, model_errors=6))
    assert bad.decision is Decision.REJECT
    assert [c.name for c in bad.failed_checks] == ["error_rate_model"]


def test_latency_increase_exactly_at_the_threshold_passes_and_just_above_fails() -> None:
    at = evaluate(PROD, metrics("s", latency_factor=1.10))
    assert at.decision is Decision.PROMOTE
    above = evaluate(PROD, metrics("s", latency_factor=1.1001))
    assert above.decision is Decision.REJECT


def test_zero_threshold_allows_no_increase_and_negative_demands_a_faster_shadow() -> None:
    zero = VerdictThresholds(max_latency_increase_percent=0, max_error_rate_increase_percentage_points=0)
    assert evaluate(PROD, metrics("s"), zero).decision is Decision.PROMOTE
    assert evaluate(PROD, metrics("s", latency_factor=1.001), zero).decision is Decision.REJECT
    faster = VerdictThresholds(max_latency_increase_percent=-5)
    assert evaluate(PROD, metrics("s"), faster).decision is Decision.REJECT
    assert evaluate(PROD, metrics("s", latency_factor=0.9), faster).decision is Decision.PROMOTE


def test_too_few_shadow_invocations_is_inconclusive_even_when_everything_else_passes() -> None:
    verdict = evaluate(PROD, metrics("s", 99))
    assert verdict.decision is Decision.INCONCLUSIVE
    assert check(verdict, "invocations").passed is False
    assert verdict.reasons == ("Invocations: 99 shadow invocations, at least 100 needed for a decision",)
    assert evaluate(PROD, metrics("s", 100)).decision is Decision.PROMOTE


def test_too_little_data_is_not_a_reject_either_but_says_what_would_fail() -> None:
    verdict = evaluate(PROD, metrics("s", 10, errors_5xx=10))
    assert verdict.decision is Decision.INCONCLUSIVE
    assert verdict.reasons[1] == "not decisive on so little data, but these would fail: 5XX error rate"


def test_no_traffic_at_all_is_inconclusive() -> None:
    verdict = evaluate(metrics("p", 0, latency={}), metrics("s", 0, latency={}))
    assert verdict.decision is Decision.INCONCLUSIVE
    assert check(verdict, "error_rate_5xx").passed is None
    assert check(verdict, "error_rate_5xx").note == "no invocations for production and shadow"


def test_missing_latency_statistic_is_inconclusive_not_a_pass() -> None:
    shadow = metrics("s", latency={**LATENCY_US, "p99": None})
    verdict = evaluate(PROD, shadow)
    assert verdict.decision is Decision.INCONCLUSIVE
    c = check(verdict, "latency_p99")
    assert (c.passed, c.shadow, c.note) == (None, None, "no p99 datapoint for shadow")
    assert verdict.reasons == ("Model latency p99: cannot be compared (no p99 datapoint for shadow)",)


def test_a_failure_outweighs_a_missing_statistic() -> None:
    shadow = metrics("s", latency={**LATENCY_US, "p99": None}, errors_5xx=100)
    assert evaluate(PROD, shadow).decision is Decision.REJECT


def test_promote_on_insufficient_data_lets_missing_data_pass_but_failures_still_reject() -> None:
    lenient = VerdictThresholds(promote_on_insufficient_data=True)
    verdict = evaluate(PROD, metrics("s", 10, latency={}), lenient)
    assert verdict.decision is Decision.PROMOTE
    assert any(r.startswith("ignored (promote_on_insufficient_data): Invocations") for r in verdict.reasons)
    assert evaluate(PROD, metrics("s", 10, errors_5xx=5), lenient).decision is Decision.REJECT


def test_zero_production_latency_baseline() -> None:
    zero = metrics("p", latency=dict.fromkeys(LATENCY_US, 0.0))
    assert evaluate(zero, metrics("s", latency=dict.fromkeys(LATENCY_US, 0.0))).decision is Decision.PROMOTE
    verdict = evaluate(zero, metrics("s"))
    assert verdict.decision is Decision.REJECT
    c = check(verdict, "latency_p50")
    assert c.change is None
    assert "production latency is 0" in c.note


def test_only_configured_statistics_are_checked() -> None:
    t = VerdictThresholds(
        max_latency_increase_percent={"p99": 50}, max_error_rate_increase_percentage_points={"5xx": 1}
    )
    verdict = evaluate(PROD, metrics("s", latency_factor=1.3), t)
    assert [c.name for c in verdict.checks] == ["invocations", "latency_p99", "error_rate_5xx"]
    assert verdict.decision is Decision.PROMOTE


def test_from_summary_reads_the_hook_shape_and_treats_nan_as_missing() -> None:
    summary: dict[str, float | None] = {
        "Invocations": 1200.0,
        "Invocation4XXErrors": 3.0,
        "Invocation5XXErrors": 0.0,
        "InvocationModelErrors": float("nan"),
        "ModelLatency.Average": 41_000.0,
        "ModelLatency.p50": None,
        "ModelLatency.p99": float("inf"),
        "OverheadLatency.Average": 2_000.0,
    }
    m = VariantMetrics.from_summary("AllTraffic", summary)
    assert m.invocations == 1200.0
    assert dict(m.errors) == {"4xx": 3.0, "5xx": 0.0, "model": 0.0}
    assert dict(m.latency_us) == {"average": 41_000.0, "p50": None, "p99": None}
    assert m.error_rate_percent("4xx") == 0.25


def test_verdict_json_has_the_documented_shape_and_is_plain_json() -> None:
    start = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    verdict = evaluate(
        PROD,
        metrics("shadow", 500),
        experiment_name="exp-1",
        endpoint_name="ep",
        window_start=start,
        window_end=start + dt.timedelta(hours=1),
    )
    doc = verdict.to_json()
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc
    assert doc["decision"] == "PROMOTE"
    assert doc["experiment_name"] == "exp-1"
    assert doc["endpoint_name"] == "ep"
    assert doc["variants"] == {"production": "AllTraffic", "shadow": "shadow"}
    assert doc["window"] == {"start": "2025-03-01T12:00:00Z", "end": "2025-03-01T13:00:00Z"}
    assert set(doc["checks"][0]) >= {"name", "production", "shadow", "threshold", "passed"}
    assert doc["report_markdown"].startswith("### Shadow test verdict: PROMOTE")
    assert doc["thresholds"]["min_shadow_invocations"] == 100
    assert doc["metrics"]["shadow"]["invocations"] == 500


def test_decision_is_a_string() -> None:
    assert str(Decision.REJECT) == "REJECT"
    assert Decision("PROMOTE") is Decision.PROMOTE


# -- properties ------------------------------------------------------------------------------------
counts = st.integers(min_value=0, max_value=10**7)
latencies = st.floats(min_value=1.0, max_value=1e7, allow_nan=False)
limits = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)


@st.composite
def variant(draw: st.DrawFn, name: str) -> VariantMetrics:
    invocations = draw(counts)
    errors = {kind: draw(st.integers(min_value=0, max_value=invocations)) for kind in ("4xx", "5xx", "model")}
    latency = {stat: draw(latencies) for stat in ("average", "p50", "p90", "p99")}
    return VariantMetrics(name, float(invocations), {k: float(v) for k, v in errors.items()}, latency)


@settings(max_examples=200, deadline=None)
@given(m=variant("x"), latency_limit=limits, error_limit=limits, minimum=st.integers(0, 10**6))
def test_identical_metrics_with_enough_data_always_promote(
    m: VariantMetrics, latency_limit: float, error_limit: float, minimum: int
) -> None:
    t = VerdictThresholds(
        max_latency_increase_percent=latency_limit,
        max_error_rate_increase_percentage_points=error_limit,
        min_shadow_invocations=minimum,
    )
    verdict = evaluate(m, m, t)
    if m.invocations >= max(minimum, 1):
        assert verdict.decision is Decision.PROMOTE
    else:
        assert verdict.decision is Decision.INCONCLUSIVE


@settings(max_examples=200, deadline=None)
@given(production=variant("p"), shadow=variant("s"), factor=st.floats(min_value=1.0, max_value=10.0))
def test_a_slower_shadow_never_turns_a_reject_into_a_promote(
    production: VariantMetrics, shadow: VariantMetrics, factor: float
) -> None:
    slower = VariantMetrics(
        "s", shadow.invocations, shadow.errors, {k: (v or 0.0) * factor for k, v in shadow.latency_us.items()}
    )
    before, after = evaluate(production, shadow).decision, evaluate(production, slower).decision
    if before is Decision.REJECT:
        assert after is Decision.REJECT
    if after is Decision.PROMOTE:
        assert before is Decision.PROMOTE


@settings(max_examples=200, deadline=None)
@given(production=variant("p"), shadow=variant("s"))
def test_promote_means_every_check_passed_and_reject_means_one_failed(
    production: VariantMetrics, shadow: VariantMetrics
) -> None:
    verdict = evaluate(production, shadow)
    if verdict.decision is Decision.PROMOTE:
        assert all(c.passed is True for c in verdict.checks)
    elif verdict.decision is Decision.REJECT:
        assert any(c.passed is False and not c.is_data_check for c in verdict.checks)
    json.dumps(verdict.to_json(), allow_nan=False)
