"""Pure: judge the shadow variant from per-minute evidence with confidence intervals.

Per check (see :class:`~airflow_provider_shadowtest.verdict.settings.CheckSpec`):

- **regression**: the interval lies wholly on the worse side of "no change" (the shadow is
  significantly worse at the stated confidence) *and* the estimate exceeds the allowed increase;
- **within**: the interval's upper end is at most the allowed increase (any regression is small
  enough, at the stated confidence);
- **undecided**: neither; **no data**: nothing to compare.

The verdict: REJECT when a critical check shows a regression; PROMOTE when every critical check
is within its allowance (checks without data that need none are skipped, and named);
INCONCLUSIVE otherwise, with an estimate of how much more observation would decide.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any, Final, Literal

from airflow_provider_shadowtest.verdict.evaluate import Decision
from airflow_provider_shadowtest.verdict.evidence import INSTANCE_METRICS, INVOCATIONS
from airflow_provider_shadowtest.verdict.intervals import Interval, difference_interval, ratio_interval
from airflow_provider_shadowtest.verdict.stat_report import render_statistical_markdown

if TYPE_CHECKING:
    from airflow_provider_shadowtest.verdict.evidence import Evidence
    from airflow_provider_shadowtest.verdict.settings import CheckSpec, JudgeSettings

Outcome = Literal["regression", "within", "undecided", "no_data"]
_TOLERANCE: Final = 1e-9
_LABELS: Final = {
    "ModelLatency": "Model latency",
    "OverheadLatency": "Overhead latency",
    "Invocation4XXErrors": "4XX error rate",
    "Invocation5XXErrors": "5XX error rate",
    "InvocationModelErrors": "Model error rate",
}


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """What one check found.

    ``production`` and ``shadow`` summarize each variant (latency: mean of the per-minute values
    in ms; rates: percent over the window); ``interval`` is on the change (percent or pp).
    """

    spec: CheckSpec
    outcome: Outcome
    label: str
    unit: str
    production: float | None
    shadow: float | None
    interval: Interval | None
    reason: str
    more_seconds: float | None = None
    #: Lower end of the interval at the REJECT side's confidence (corrected for the number of checks).
    reject_low: float | None = None
    reject_confidence_percent: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the result as plain JSON (infinite bounds as None)."""
        interval = None
        if self.interval is not None:
            interval = {
                k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in self.interval.to_json().items()
            }
        return {
            "name": self.spec.name,
            "label": self.label,
            "outcome": self.outcome,
            "critical": self.spec.critical,
            "must_have_data": self.spec.must_have_data,
            "metric": self.spec.metric,
            "unit": self.unit,
            "production": self.production,
            "shadow": self.shadow,
            "change": None if self.interval is None else self.interval.estimate,
            "interval": interval,
            "reject_low": self.reject_low,
            "reject_confidence_percent": self.reject_confidence_percent,
            "allowed_increase": self.spec.allowed_increase,
            "allowed_increase_unit": self.spec.unit,
            "reason": self.reason,
            "more_observation_seconds": self.more_seconds,
        }


@dataclasses.dataclass(frozen=True)
class StatisticalVerdict:
    """The decision, the reasons, every check with its interval, and the evidence's window."""

    decision: Decision
    reasons: tuple[str, ...]
    checks: tuple[CheckResult, ...]
    evidence: Evidence
    settings: JudgeSettings
    confidence_percent: float
    more_observation_seconds: float | None = None
    notes: tuple[str, ...] = ()
    experiment_name: str | None = None
    endpoint_name: str | None = None
    sequential: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the verdict as a plain JSON document, the Markdown report included."""
        ev = self.evidence
        document: dict[str, Any] = {
            "decision": self.decision.value,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "confidence_percent": self.confidence_percent,
            "checks": [c.to_json() for c in self.checks],
            "experiment_name": self.experiment_name,
            "endpoint_name": self.endpoint_name,
            "variants": {"production": ev.production.variant_name, "shadow": ev.shadow.variant_name},
            "window": ev.window_json(),
            "invocations": {"production": ev.production.total(INVOCATIONS), "shadow": ev.shadow.total(INVOCATIONS)},
            "instance_metrics": instance_summary(ev),
            "more_observation_seconds": self.more_observation_seconds,
            "sequential": self.sequential,
            "settings": self.settings.to_json(),
        }
        document["report_markdown"] = render_statistical_markdown(document)
        return document


def instance_summary(evidence: Evidence) -> dict[str, dict[str, float | None]]:
    """Mean CPU, memory, disk and GPU utilization per variant, for the metrics CloudWatch had."""
    out: dict[str, dict[str, float | None]] = {}
    for metric in INSTANCE_METRICS:
        key = f"{metric}.Average"
        if evidence.production.has(key) or evidence.shadow.has(key):
            out[metric] = {"production": evidence.production.mean(key), "shadow": evidence.shadow.mean(key)}
    return out


def _label(spec: CheckSpec) -> str:
    metric, _, stat = spec.metric.partition(".")
    base = _LABELS.get(metric, metric)
    if not stat:
        return base
    return f"{base} {'mean' if stat == 'Average' else stat}"


def _classify(interval: Interval, reject_low: float, allowed: float) -> Outcome:
    if reject_low > 0 and interval.estimate > allowed:
        return "regression"
    # Strictly below, beyond float noise: a candidate exactly at the allowance with no noise at
    # all (the emulator's shared draws) is not shown to stay within it.
    if interval.high < allowed - _TOLERANCE * max(1.0, abs(allowed)):
        return "within"
    return "undecided"


def _more_seconds(
    interval: Interval, reject_low: float, allowed: float, outcome: Outcome, period_seconds: int
) -> float | None:
    """Observation still needed to decide, assuming the interval narrows as 1/sqrt(periods)."""
    if outcome != "undecided" or interval.n < 1:
        return None
    e = interval.estimate
    if e > allowed:  # heading for "regression": the lower end must pass 0
        spread, room = e - reject_low, e
    else:  # heading for "within": the upper end must come down to the allowance
        spread, room = interval.high - e, allowed - e
    if not math.isfinite(spread) or room <= 0:
        return None
    factor = (spread / room) ** 2
    return max(float(period_seconds), (factor - 1.0) * interval.n * period_seconds)


def _fmt(value: float, unit: str) -> str:
    return f"{value:+.1f} %" if unit == "percent" else f"{value:+.2f} pp"


def reject_confidence_levels(confidence_percent: float, checks: tuple[CheckSpec, ...]) -> dict[str, float]:
    """Confidence of each critical check's lower bound, so that REJECT's error over all of them stays
    within ``(100 - confidence_percent) / 2`` percent.

    Weighted Bonferroni (the weights add up to 1, whatever the correlation between checks): each
    metric is a family, the statistics of one metric (``ModelLatency`` mean, p50, p90, p99) ask
    nearly the same question and split their family's share (the mean, the most precise, takes
    half of it); an error-rate family weighs twice a latency family, because rare-event counts
    need the budget while per-minute latency pairs have power to spare.
    """
    critical = [c for c in checks if c.critical]
    sizes: dict[str, int] = {}
    weights: dict[str, float] = {}
    for check in critical:
        family = check.metric.split(".", 1)[0]
        sizes[family] = sizes.get(family, 0) + 1
        weights[family] = 2.0 if check.kind == "rate" else 1.0
    total = sum(weights.values())
    means = {c.metric.split(".", 1)[0] for c in critical if c.metric.endswith(".Average")}
    levels: dict[str, float] = {}
    for check in critical:
        family = check.metric.split(".", 1)[0]
        share = weights[family] / total
        if family in means and sizes[family] > 1:
            share *= 0.5 if check.metric.endswith(".Average") else 0.5 / (sizes[family] - 1)
        else:
            share /= sizes[family]
        levels[check.name] = 100.0 - (100.0 - confidence_percent) * share
    return levels


def _interval(spec: CheckSpec, evidence: Evidence, confidence_percent: float) -> Interval | None:
    if spec.kind == "ratio":
        pairs = evidence.paired(spec.metric)
        return ratio_interval(pairs, confidence_percent) if pairs else None
    prod_n, shadow_n = evidence.production.total(INVOCATIONS), evidence.shadow.total(INVOCATIONS)
    prod_k, shadow_k = evidence.production.total(spec.metric), evidence.shadow.total(spec.metric)
    return difference_interval(prod_k, prod_n, shadow_k, shadow_n, confidence_percent)


def judge_check(
    spec: CheckSpec, evidence: Evidence, confidence_percent: float, reject_confidence: float | None = None
) -> CheckResult:
    """Compute one check's interval and outcome.

    :param reject_confidence: confidence of the lower bound a regression must clear (default:
        ``confidence_percent``); the upper bound, which PROMOTE needs, is at ``confidence_percent``.
    """
    label = _label(spec)
    if spec.kind == "ratio":
        prod_us, shadow_us = evidence.production.mean(spec.metric), evidence.shadow.mean(spec.metric)
        production = None if prod_us is None else prod_us / 1000.0
        shadow = None if shadow_us is None else shadow_us / 1000.0
        unit = "ms"
        missing = f"no minute with a {spec.metric} datapoint for both variants"
    else:
        prod_n, shadow_n = evidence.production.total(INVOCATIONS), evidence.shadow.total(INVOCATIONS)
        prod_k, shadow_k = evidence.production.total(spec.metric), evidence.shadow.total(spec.metric)
        production = 100.0 * prod_k / prod_n if prod_n > 0 else None
        shadow = 100.0 * shadow_k / shadow_n if shadow_n > 0 else None
        unit = "percent"
        absent = [n for n, v in (("production", prod_n), ("shadow", shadow_n)) if v < 1]
        missing = "no invocations for " + " and ".join(absent)
    interval = _interval(spec, evidence, confidence_percent)
    if interval is None:
        return CheckResult(spec, "no_data", label, unit, production, shadow, None, missing)
    reject_level = reject_confidence if reject_confidence is not None else confidence_percent
    strict = interval if reject_level == confidence_percent else _interval(spec, evidence, reject_level)
    reject_low = strict.low if strict is not None else interval.low
    outcome = _classify(interval, reject_low, spec.allowed_increase)
    low, high = _fmt(interval.low, spec.unit), _fmt(interval.high, spec.unit)
    allowed = _fmt(spec.allowed_increase, spec.unit)
    found = f"{label}: change {_fmt(interval.estimate, spec.unit)}, {confidence_percent:g} % interval [{low}, {high}]"
    reason = {
        "regression": f"{found}: significantly worse, and by more than the allowed {allowed}",
        "within": f"{found}: at most the allowed {allowed}",
        "undecided": f"{found}: cannot yet tell whether it stays within the allowed {allowed}",
        "no_data": "",
    }[outcome]
    if outcome == "undecided" and interval.low > 0 and interval.estimate > spec.allowed_increase:
        reason += f" (a regression must also clear the lower bound at {reject_level:.4g} %)"
    more = _more_seconds(interval, reject_low, spec.allowed_increase, outcome, evidence.period_seconds)
    return CheckResult(spec, outcome, label, unit, production, shadow, interval, reason, more, reject_low, reject_level)


def judge(
    evidence: Evidence,
    settings: JudgeSettings,
    *,
    confidence_percent: float | None = None,
    experiment_name: str | None = None,
    endpoint_name: str | None = None,
) -> StatisticalVerdict:
    """Judge ``evidence`` with every check of ``settings``.

    :param confidence_percent: overrides ``settings.confidence_percent`` (the sequential mode
        judges each look at its own, higher, confidence).
    """
    level = float(confidence_percent if confidence_percent is not None else settings.confidence_percent)
    # PROMOTE needs every critical check within (no correction needed: all must pass); REJECT
    # needs any one to regress, so its lower bounds are corrected for the number of checks.
    reject_levels = reject_confidence_levels(level, settings.checks)
    results = tuple(judge_check(spec, evidence, level, reject_levels.get(spec.name)) for spec in settings.checks)
    critical = [r for r in results if r.spec.critical]
    regressions = [r for r in critical if r.outcome == "regression"]
    blocking_gaps = [r for r in critical if r.outcome == "no_data" and r.spec.must_have_data]
    skipped = [r for r in results if r.outcome == "no_data" and not r.spec.must_have_data]
    undecided = [r for r in critical if r.outcome == "undecided"]
    decided_within = [r for r in critical if r.outcome == "within"]
    shadow_invocations = evidence.shadow.total(INVOCATIONS)
    notes = [f"skipped, no data: {r.label} ({r.reason})" for r in skipped]
    notes += [
        f"not critical, reported only: {r.reason}" for r in results if not r.spec.critical and r.outcome != "no_data"
    ]

    more: float | None = None
    if shadow_invocations < settings.min_shadow_invocations:
        decision = Decision.INCONCLUSIVE
        reasons = [
            f"{shadow_invocations:,.0f} shadow invocations in the judged window; "
            f"at least {settings.min_shadow_invocations:,} are needed for a decision"
        ]
    elif regressions:
        decision = Decision.REJECT
        reasons = [r.reason for r in regressions]
    elif blocking_gaps:
        decision = Decision.INCONCLUSIVE
        reasons = [f"{r.label}: {r.reason}" for r in blocking_gaps]
    elif undecided or not decided_within:
        decision = Decision.INCONCLUSIVE
        reasons = [r.reason for r in undecided] or ["no critical check could be computed"]
        estimates = [r.more_seconds for r in undecided]
        if undecided and all(e is not None for e in estimates):
            rejecting = [
                r.more_seconds for r in undecided if r.interval and r.interval.estimate > r.spec.allowed_increase
            ]
            more = (
                min(e for e in rejecting if e is not None) if rejecting else max(e for e in estimates if e is not None)
            )
            reasons.append(f"about {more / 60:,.0f} more minutes at this traffic would likely decide")
    else:
        decision = Decision.PROMOTE
        reasons = [
            f"all {len(decided_within)} critical checks stay within their allowances at "
            f"{level:g} % confidence, on {shadow_invocations:,.0f} shadow invocations"
        ]
    return StatisticalVerdict(
        decision=decision,
        reasons=tuple(reasons),
        checks=results,
        evidence=evidence,
        settings=settings,
        confidence_percent=level,
        more_observation_seconds=more,
        notes=tuple(notes),
        experiment_name=experiment_name,
        endpoint_name=endpoint_name,
    )
